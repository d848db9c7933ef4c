/**
 * A real `redis-server` for tests, on a free loopback port, with no persistence and its own temp
 * dir. Plain or TLS (client certificates required, from the shared test PKI).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, connect as netConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect as tlsConnect } from 'node:tls';
import { writeTestPki } from './certs.js';

/** PEM material a client needs for the TLS server: the CA and a client certificate it accepts. */
export interface RedisTestTls {
  ca: string;
  cert: string;
  key: string;
}

/** A running test Redis. */
export interface TestRedis {
  /** `redis://127.0.0.1:port` or `rediss://127.0.0.1:port`. */
  url: string;
  port: number;
  /** Set for the TLS variant. */
  tls: RedisTestTls | undefined;
  /** Terminates the server (resuming it first if paused) and removes its dir. */
  stop(): Promise<void>;
  /** Sends `signal` (default SIGKILL) and waits for the process to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** SIGSTOP: the connection stays open and nothing answers. */
  pause(): void;
  /** SIGCONT. */
  resume(): void;
  /** Starts a new server on the same port (after `kill`), empty, and waits until it answers. */
  restart(): Promise<void>;
}

const START_DEADLINE_MS = 10_000;

/** Starts a plain `redis-server` on a free loopback port. */
export function startRedis(): Promise<TestRedis> {
  return start(false);
}

/** Starts a `redis-server` that speaks TLS only and requires a client certificate. */
export function startTlsRedis(): Promise<TestRedis> {
  return start(true);
}

async function start(useTls: boolean): Promise<TestRedis> {
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-redis-'));
  let tls: RedisTestTls | undefined;
  let tlsArgs: string[] = [];
  if (useTls) {
    const pki = await writeTestPki(join(dir, 'pki'));
    tls = {
      ca: await readFile(pki.caPath, 'utf8'),
      cert: await readFile(pki.groupA.certPath, 'utf8'),
      key: await readFile(pki.groupA.keyPath, 'utf8'),
    };
    tlsArgs = [
      '--tls-cert-file',
      pki.server.certPath,
      '--tls-key-file',
      pki.server.keyPath,
      '--tls-ca-cert-file',
      pki.caPath,
      '--tls-auth-clients',
      'yes',
    ];
  }
  const argsFor = (port: number): string[] => [
    ...(useTls ? ['--port', '0', '--tls-port', String(port)] : ['--port', String(port)]),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
    ...tlsArgs,
  ];
  let child: ChildProcess | undefined;
  let port = 0;
  // another process may take the free port between our probe and redis-server's bind: try again
  for (let attempt = 0; child === undefined; attempt++) {
    port = await freePort();
    child = await launch(argsFor(port), port, tls);
    if (child === undefined && attempt >= 4) {
      await rm(dir, { recursive: true, force: true });
      throw new Error('redis-server did not start');
    }
  }
  let current: ChildProcess = child;
  const exited = (p: ChildProcess): Promise<void> =>
    p.exitCode !== null || p.signalCode !== null ? Promise.resolve() : once(p, 'exit').then(() => {});
  const kill = async (signal: NodeJS.Signals = 'SIGKILL'): Promise<void> => {
    const p = current;
    if (p.exitCode !== null || p.signalCode !== null) return;
    p.kill('SIGCONT');
    p.kill(signal);
    await exited(p);
  };
  return {
    url: `${useTls ? 'rediss' : 'redis'}://127.0.0.1:${port}`,
    port,
    tls,
    kill,
    pause: () => current.kill('SIGSTOP'),
    resume: () => current.kill('SIGCONT'),
    async stop() {
      await kill('SIGTERM');
      await rm(dir, { recursive: true, force: true });
    },
    async restart() {
      await kill('SIGKILL');
      const deadline = Date.now() + START_DEADLINE_MS;
      for (;;) {
        const next = await launch(argsFor(port), port, tls);
        if (next !== undefined) {
          current = next;
          return;
        }
        if (Date.now() > deadline) throw new Error(`redis-server did not restart on port ${port}`);
        await sleep(50);
      }
    },
  };
}

/** A port nothing listens on right now. */
async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** Starts redis-server and waits for PONG; undefined when it exited first (port taken). */
async function launch(
  args: string[],
  port: number,
  tls: RedisTestTls | undefined,
): Promise<ChildProcess | undefined> {
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const deadline = Date.now() + START_DEADLINE_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) return undefined;
    if (await ping(port, tls)) {
      child.stdout?.removeAllListeners('data');
      child.stderr?.removeAllListeners('data');
      child.stdout?.resume();
      child.stderr?.resume();
      return child;
    }
    await sleep(25);
  }
  child.kill('SIGKILL');
  throw new Error(`redis-server did not answer PING on port ${port}:\n${output}`);
}

/** True when a server on `port` answers PING with PONG. */
async function ping(port: number, tls: RedisTestTls | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    let reply = '';
    const socket: Socket =
      tls === undefined
        ? netConnect(port, '127.0.0.1')
        : tlsConnect({ port, host: '127.0.0.1', ca: tls.ca, cert: tls.cert, key: tls.key });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once(tls === undefined ? 'connect' : 'secureConnect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
  });
}
