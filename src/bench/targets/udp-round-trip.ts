/**
 * One datagram to a UDP echo and its reply: how a target's UDP endpoint is proven to work, and how
 * the suite waits for one whose port was named in its configuration (UDP has no connect to try).
 */
import { createSocket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { Endpoint } from '../types.js';
import { deadlineOf, retryUntil, type WaitForPortsOptions } from './wait-for-ports.js';

const ATTEMPT_TIMEOUT_MS = 200;
const PROBE = Buffer.from('ready?');

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
export function waitForUdpEcho(endpoint: Endpoint, options: WaitForPortsOptions = {}): Promise<void> {
  const attempt = async () => (await udpRoundTrip(endpoint, PROBE, ATTEMPT_TIMEOUT_MS)) !== undefined;
  return retryUntil(`udp ${endpoint.host}:${endpoint.port}`, attempt, deadlineOf(options), options.gaveUp);
}
