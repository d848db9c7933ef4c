/** Waiting, with a bound, until a started proxy accepts TCP connections on each of its ports (or answers otherwise). */
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCodes, SwitchyardError } from '../../lib/errors.js';
import type { Endpoint } from '../types.js';

/** Options of {@link waitForPorts} and the other waits for a started proxy. */
export interface WaitForPortsOptions {
  /** Give up after this long, ms. */
  timeoutMs?: number;
  /** Checked between attempts: a proxy that has exited will never accept, so stop waiting for it. */
  gaveUp?: () => boolean;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const RETRY_MS = 25;
const ATTEMPT_TIMEOUT_MS = 1000;

/**
 * Resolves once every endpoint has accepted one connection (closed again at once); rejects when
 * `timeoutMs` passes first or `gaveUp()` says so.
 */
export async function waitForPorts(
  endpoints: readonly Endpoint[],
  options: WaitForPortsOptions = {},
): Promise<void> {
  const deadline = deadlineOf(options);
  for (const endpoint of endpoints) {
    await retryUntil(`${endpoint.host}:${endpoint.port}`, () => accepts(endpoint), deadline, options.gaveUp);
  }
}

/**
 * Tries `attempt` every {@link RETRY_MS} until it says true; rejects naming `what` when the clock
 * passes `deadline` (a `Date.now()` reading) or `gaveUp()` says so.
 */
export async function retryUntil(
  what: string,
  attempt: () => Promise<boolean>,
  deadline: number,
  gaveUp?: () => boolean,
): Promise<void> {
  for (;;) {
    if (gaveUp?.()) throw new SwitchyardError(ErrorCodes.ERR_INTERNAL, `gave up waiting for ${what}`);
    if (await attempt()) return;
    if (Date.now() > deadline)
      throw new SwitchyardError(ErrorCodes.ERR_INTERNAL, `${what} did not answer in time`);
    await sleep(RETRY_MS);
  }
}

/** When to stop waiting, for a wait given {@link WaitForPortsOptions}. */
export function deadlineOf(options: WaitForPortsOptions): number {
  return Date.now() + (options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
}

/** Whether one TCP connect to the endpoint succeeds. */
export function accepts(endpoint: Endpoint): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: endpoint.host, port: endpoint.port });
    socket.setTimeout(ATTEMPT_TIMEOUT_MS, () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
