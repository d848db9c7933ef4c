import { ErrorCodes, SwitchyardError } from '../errors.js';
import { type HealthProbe, ProbeError, type ProbeTarget } from './health-probe.js';
import {
  checkReadLimit,
  DEFAULT_READ_LIMIT,
  type ProbeTlsOptions,
  probeConnection,
  type ReplyVerdict,
} from './probe-connection.js';

/** Options of a {@link SendExpectProbe}. */
export interface SendExpectProbeOptions {
  /** Written once connected (a string as UTF-8). Omit for protocols where the server speaks first. */
  send?: string | Uint8Array;
  /**
   * What the reply must contain within `readLimit` bytes: a string or bytes anywhere in it, or a
   * RegExp tested against it decoded as UTF-8 (use the `m` flag and `^...$` to match a whole line).
   */
  expect: string | Uint8Array | RegExp;
  /** Most reply bytes read before giving up. Default 4096. */
  readLimit?: number;
  /** Connect with TLS. */
  tls?: ProbeTlsOptions;
}

/** Passes when the upstream answers what it is sent with the expected bytes or pattern. */
export class SendExpectProbe implements HealthProbe {
  readonly type = 'send-expect';
  readonly #send: Uint8Array | undefined;
  readonly #judge: (reply: Buffer, ended: boolean) => ReplyVerdict;
  readonly #readLimit: number;
  readonly #tls: ProbeTlsOptions | undefined;

  constructor(options: SendExpectProbeOptions) {
    const send = options.send;
    this.#send = typeof send === 'string' ? Buffer.from(send, 'utf8') : send;
    this.#judge = expectJudge(options.expect);
    this.#readLimit = checkReadLimit(options.readLimit ?? DEFAULT_READ_LIMIT);
    this.#tls = options.tls;
  }

  check(target: ProbeTarget, signal: AbortSignal): Promise<void> {
    return probeConnection(target, signal, {
      tls: this.#tls,
      send: this.#send,
      judge: this.#judge,
      readLimit: this.#readLimit,
    });
  }
}

function expectJudge(expect: string | Uint8Array | RegExp): (reply: Buffer, ended: boolean) => ReplyVerdict {
  if (expect instanceof RegExp) {
    // A global or sticky RegExp keeps lastIndex between tests; a fresh copy without them does not.
    const re = new RegExp(expect.source, expect.flags.replace(/[gy]/g, ''));
    return (reply, ended) => (re.test(reply.toString('utf8')) ? true : failure(ended, String(expect)));
  }
  const needle = typeof expect === 'string' ? Buffer.from(expect, 'utf8') : Buffer.from(expect);
  if (needle.length === 0) {
    throw new SwitchyardError(ErrorCodes.ERR_INVALID_ARGUMENT, 'expect must not be empty');
  }
  const shown = typeof expect === 'string' ? JSON.stringify(expect) : `0x${needle.toString('hex')}`;
  return (reply, ended) => (reply.includes(needle) ? true : failure(ended, shown));
}

function failure(ended: boolean, shown: string): ProbeError | undefined {
  return ended ? new ProbeError('response', `reply did not contain ${shown}`) : undefined;
}
