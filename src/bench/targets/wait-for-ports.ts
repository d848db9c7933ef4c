/** Waiting, with a bound, until a started proxy accepts TCP connections on each of its ports. */
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCodes, SwitchyardError } from '../../lib/errors.js';
import type { Endpoint } from '../types.js';

/** Options of {@link waitForPorts}. */
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
  const deadline = Date.now() + (options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  for (const endpoint of endpoints) {
    for (;;) {
      if (options.gaveUp?.())
        throw new SwitchyardError(
          ErrorCodes.ERR_INTERNAL,
          `gave up waiting for ${endpoint.host}:${endpoint.port}`,
        );
      if (await accepts(endpoint)) break;
      if (Date.now() > deadline)
        throw new SwitchyardError(
          ErrorCodes.ERR_INTERNAL,
          `${endpoint.host}:${endpoint.port} did not accept in time`,
        );
      await sleep(RETRY_MS);
    }
  }
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
