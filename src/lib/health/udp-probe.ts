import { createSocket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { ErrorCodes, SwitchyardError } from '../errors.js';
import { type HealthProbe, ProbeError, type ProbeTarget } from './health-probe.js';

/** Options of a {@link UdpProbe}. */
export interface UdpProbeOptions {
  /** The datagram sent (a string as UTF-8); UDP servers do not speak first, so it is required. */
  send: string | Uint8Array;
  /** What a reply datagram must contain: a string or bytes anywhere in it, or a RegExp over its UTF-8. */
  expect: string | Uint8Array | RegExp;
}

/**
 * Sends one datagram from a socket connected to the upstream and passes on the first reply that
 * contains `expect`. A reply without it is a failure; no reply fails by the checker's timeout, and
 * ICMP port unreachable (ECONNREFUSED on the connected socket) fails at once as a connect failure.
 */
export class UdpProbe implements HealthProbe {
  readonly type = 'udp';
  readonly #send: Buffer;
  readonly #matches: (reply: Buffer) => boolean;
  readonly #shown: string;

  constructor(options: UdpProbeOptions) {
    // Untyped callers (configuration read at runtime) may leave either out.
    const send = options.send as string | Uint8Array | undefined;
    if (send === undefined || send.length === 0)
      throw new SwitchyardError(ErrorCodes.ERR_INVALID_ARGUMENT, 'send must not be empty');
    this.#send = typeof send === 'string' ? Buffer.from(send, 'utf8') : Buffer.from(send);
    const expect = options.expect as string | Uint8Array | RegExp | undefined;
    if (expect === undefined)
      throw new SwitchyardError(ErrorCodes.ERR_INVALID_ARGUMENT, 'expect must not be empty');
    if (expect instanceof RegExp) {
      const re = new RegExp(expect.source, expect.flags.replace(/[gy]/g, ''));
      this.#matches = (reply) => re.test(reply.toString('utf8'));
      this.#shown = String(expect);
    } else {
      const needle = typeof expect === 'string' ? Buffer.from(expect, 'utf8') : Buffer.from(expect);
      if (needle.length === 0)
        throw new SwitchyardError(ErrorCodes.ERR_INVALID_ARGUMENT, 'expect must not be empty');
      this.#matches = (reply) => reply.includes(needle);
      this.#shown = typeof expect === 'string' ? JSON.stringify(expect) : `0x${needle.toString('hex')}`;
    }
  }

  check(target: ProbeTarget, signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) {
        reject(signal.reason);
        return;
      }
      const socket = createSocket(isIPv6(target.host) ? 'udp6' : 'udp4');
      let done = false;
      const finish = (err?: unknown) => {
        if (done) return;
        done = true;
        signal.removeEventListener('abort', onAbort);
        socket.close();
        if (err === undefined) resolve();
        else reject(err);
      };
      const onAbort = () => finish(signal.reason);
      signal.addEventListener('abort', onAbort);
      socket.on('error', (err: NodeJS.ErrnoException) =>
        finish(new ProbeError('connect', `${err.code ?? 'error'}: ${err.message}`, { cause: err })),
      );
      socket.on('message', (reply) =>
        finish(
          this.#matches(reply)
            ? undefined
            : new ProbeError('response', `reply did not contain ${this.#shown}`),
        ),
      );
      socket.connect(target.port, target.host, () => {
        if (!done) socket.send(this.#send);
      });
    });
  }
}
