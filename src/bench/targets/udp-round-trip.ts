/**
 * One datagram to a UDP echo and its reply: how a target's UDP endpoint is proven to work, and how
 * the suite waits for one whose port was named in its configuration (UDP has no connect to try).
 */
import { createSocket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCodes, SwitchyardError } from '../../lib/errors.js';
import type { Endpoint } from '../types.js';

/** Options of {@link waitForUdpEcho}. */
export interface WaitForUdpOptions {
  /** Give up after this long, ms. */
  timeoutMs?: number;
  /** Checked between attempts: a proxy that has exited will never answer, so stop waiting for it. */
  gaveUp?: () => boolean;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const ATTEMPT_TIMEOUT_MS = 200;
const RETRY_MS = 25;

/**
 * Sends `payload` once from a fresh socket connected to `endpoint` and resolves with the first
 * datagram that comes back within `timeoutMs`, or undefined when none does (lost, refused, nobody there).
 */
export function udpRoundTrip(
  endpoint: Endpoint,
  payload: Buffer,
  timeoutMs: number,
): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const socket = createSocket(isIPv6(endpoint.host) ? 'udp6' : 'udp4');
    let reply: Buffer | undefined;
    const done = (datagram?: Buffer): void => {
      clearTimeout(timer);
      reply ??= datagram;
      socket.removeAllListeners('message');
      socket.close(() => resolve(reply));
    };
    const timer = setTimeout(() => done(), timeoutMs);
    socket.once('message', (datagram: Buffer) => done(datagram));
    // ECONNREFUSED from ICMP: nobody listens yet; the timer gives up on this attempt.
    socket.on('error', () => {});
    socket.connect(endpoint.port, endpoint.host, () => socket.send(payload));
  });
}

/** Resolves once a datagram sent to `endpoint` comes back; rejects when `timeoutMs` passes first or `gaveUp()` says so. */
export async function waitForUdpEcho(endpoint: Endpoint, options: WaitForUdpOptions = {}): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const probe = Buffer.from('ready?');
  for (;;) {
    if (options.gaveUp?.())
      throw new SwitchyardError(
        ErrorCodes.ERR_INTERNAL,
        `gave up waiting for udp ${endpoint.host}:${endpoint.port}`,
      );
    if ((await udpRoundTrip(endpoint, probe, ATTEMPT_TIMEOUT_MS)) !== undefined) return;
    if (Date.now() > deadline)
      throw new SwitchyardError(
        ErrorCodes.ERR_INTERNAL,
        `nothing answered on udp ${endpoint.host}:${endpoint.port} in time`,
      );
    await sleep(RETRY_MS);
  }
}
