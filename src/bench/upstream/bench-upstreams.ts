/**
 * Starting and stopping the benchmark upstreams: one child Node process running
 * `upstream-server.js`, so their CPU is theirs and never the generator's or the proxy's.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ErrorCodes, SwitchyardError } from '../../lib/errors.js';
import type { BenchCertFiles, BenchUpstreams, Endpoint } from '../types.js';
import { type Iperf3Server, startIperf3Server } from './iperf3-server.js';
import type { UpstreamPorts } from './upstream-server.js';

const HOST = '127.0.0.1';
const READY_TIMEOUT_MS = 15_000;
const STOP_GRACE_MS = 5_000;
const MAX_STARTUP_ERROR_CHARS = 4_000;
const SERVER_SCRIPT = fileURLToPath(new URL('./upstream-server.js', import.meta.url));

/**
 * Spawns the upstream process with the bench server certificate, and the iperf3 server when iperf3
 * is installed and `iperf3` is not false, and resolves once every port listens.
 */
export async function startBenchUpstreams(
  certs: BenchCertFiles,
  options: { iperf3?: boolean } = {},
): Promise<BenchUpstreams> {
  const child = spawn(process.execPath, [SERVER_SCRIPT, certs.caCert, certs.serverCert, certs.serverKey], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  // Until it is ready its stderr belongs in the error that says why it never was; after that
  // (accept failures under a flood) it goes where ours goes.
  let startupErrors = '';
  const collect = (chunk: Buffer): void => {
    startupErrors = (startupErrors + chunk.toString('utf8')).slice(-MAX_STARTUP_ERROR_CHARS);
  };
  child.stderr?.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let ports: UpstreamPorts;
  try {
    ports = await readPorts(child);
  } catch (err) {
    // A child that never spawned has no exit to wait for.
    if (child.pid !== undefined) {
      child.kill('SIGKILL');
      await exited;
    }
    const detail = startupErrors.trim();
    if (detail === '') throw err;
    throw new SwitchyardError(ErrorCodes.ERR_INTERNAL, `${(err as Error).message}:\n${detail}`, {
      cause: err,
    });
  }
  child.stderr?.removeListener('data', collect);
  child.stderr?.pipe(process.stderr, { end: false });
  let iperf3: Iperf3Server | undefined;
  try {
    iperf3 = options.iperf3 === false ? undefined : await startIperf3Server();
  } catch (err) {
    await stop(child, exited);
    throw err;
  }
  const at = (port: number): Endpoint => ({ host: HOST, port });
  const echo = at(ports.echo);
  return {
    endpoints: { http: at(ports.http), bulk: at(ports.bulk), echo, iperf3: iperf3?.endpoint ?? echo },
    tlsEcho: at(ports.tlsEcho),
    udpEcho: at(ports.udpEcho),
    pid: child.pid as number,
    iperf3: iperf3 !== undefined,
    stop: async () => {
      await iperf3?.stop();
      await stop(child, exited);
    },
  };
}

async function stop(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGTERM');
    const escalate = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    await exited;
    clearTimeout(escalate);
  }
  // Our end of its stdin would otherwise keep this process's event loop alive.
  child.stdin?.destroy();
  child.stdout?.destroy();
  child.stderr?.destroy();
}

function readPorts(child: ChildProcess): Promise<UpstreamPorts> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(
      () =>
        done(
          new SwitchyardError(
            ErrorCodes.ERR_INTERNAL,
            `benchmark upstreams did not report their ports within ${READY_TIMEOUT_MS} ms`,
          ),
        ),
      READY_TIMEOUT_MS,
    );
    const onData = (chunk: Buffer): void => {
      text += chunk.toString('utf8');
      const newline = text.indexOf('\n');
      if (newline < 0) return;
      try {
        done(undefined, parsePorts(text.slice(0, newline)));
      } catch (err) {
        done(err as Error);
      }
    };
    const onExit = (code: number | null, signal: string | null): void =>
      done(
        new SwitchyardError(
          ErrorCodes.ERR_INTERNAL,
          `benchmark upstreams exited (code ${code}, signal ${signal}) before reporting their ports`,
        ),
      );
    const done = (err: Error | undefined, ports?: UpstreamPorts): void => {
      clearTimeout(timer);
      child.stdout?.removeListener('data', onData);
      child.removeListener('close', onExit);
      child.removeListener('error', done);
      if (err) reject(err);
      else resolve(ports as UpstreamPorts);
    };
    child.stdout?.on('data', onData);
    // 'close' rather than 'exit': it waits for stdio, so the child's last words on stderr are in.
    child.once('close', onExit);
    child.once('error', done);
  });
}

function parsePorts(line: string): UpstreamPorts {
  const parsed = JSON.parse(line) as Partial<Record<keyof UpstreamPorts, unknown>>;
  for (const name of ['http', 'bulk', 'echo', 'tlsEcho', 'udpEcho'] as const) {
    const port = parsed[name];
    if (typeof port !== 'number' || !Number.isInteger(port) || port <= 0) {
      throw new SwitchyardError(
        ErrorCodes.ERR_INTERNAL,
        `benchmark upstreams reported no port for ${name}: ${line}`,
      );
    }
  }
  return parsed as UpstreamPorts;
}
