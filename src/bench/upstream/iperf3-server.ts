/**
 * The iperf3 upstream: `iperf3 -s` on a loopback port of its own, so the iperf3 rows measure each
 * target with the standard tool instead of only with our bulk generator. iperf3 runs one test at a
 * time; the suite runs one load at a time, so that is all it needs.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { ErrorCodes, SwitchyardError } from '../../lib/errors.js';
import { freeLoopbackPorts, LOOPBACK } from '../targets/free-port.js';
import { findTool } from '../targets/system-tool.js';
import { waitForPorts } from '../targets/wait-for-ports.js';
import type { Endpoint } from '../types.js';

/** A running iperf3 server. */
export interface Iperf3Server {
  endpoint: Endpoint;
  pid: number;
  stop(): Promise<void>;
}

const STOP_GRACE_MS = 5000;

/** Starts `iperf3 -s` on a free loopback port and resolves once it accepts; undefined when iperf3 is not installed. */
export async function startIperf3Server(): Promise<Iperf3Server | undefined> {
  const command = await findTool('iperf3');
  if (command === undefined) return undefined;
  const [port] = await freeLoopbackPorts(1);
  // Its per-test report would only fill a pipe nobody reads, so its output is dropped.
  const child = spawn(command, ['-s', '-B', LOOPBACK, '-p', String(port)], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await once(child, 'spawn');
    await waitForPorts([{ host: LOOPBACK, port }], { gaveUp: () => child.exitCode !== null });
  } catch (err) {
    await stop(child, exited);
    throw new SwitchyardError(
      ErrorCodes.ERR_INTERNAL,
      `iperf3 server did not start: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  child.on('error', () => {});
  return { endpoint: { host: LOOPBACK, port }, pid: child.pid as number, stop: () => stop(child, exited) };
}

async function stop(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  child.kill('SIGTERM');
  const escalate = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(escalate);
}
