import { ErrorCodes, SwitchyardError } from '../errors.js';
import { formatHostPort } from '../upstreams/address.js';
import { type HealthProbe, ProbeError, type ProbeTarget } from './health-probe.js';
import {
  checkReadLimit,
  DEFAULT_READ_LIMIT,
  type ProbeTlsOptions,
  probeConnection,
  type ReplyVerdict,
} from './probe-connection.js';

/** Options of an {@link HttpProbe}. */
export interface HttpProbeOptions {
  /** Request path, starting with `/`. Default `/`. */
  path?: string;
  /** Host header. Default the target as `host:port`. */
  host?: string;
  /**
   * Accepted status codes: a code (`200`), a range (`'200-399'`) or a comma-separated list of both
   * (`'200,204,300-399'`). Default `'200-399'`.
   */
  expectStatus?: number | string;
  /** Most reply bytes read while looking for the status line. Default 4096. */
  readLimit?: number;
  /** Connect with TLS (an HTTPS check). */
  tls?: ProbeTlsOptions;
}

/** Default for {@link HttpProbeOptions.expectStatus}. */
export const DEFAULT_EXPECT_STATUS = '200-399';

/** An inclusive range of status codes. */
type StatusRange = readonly [number, number];

const STATUS_LINE = /^HTTP\/\d(?:\.\d)? (\d{3})(?:[ \r]|$)/;

/**
 * Sends `GET <path>` as HTTP/1.0 with `Connection: close`, so the upstream closes when done and no
 * keep-alive connection lingers, and passes when the status code is one of `expectStatus`. Only the
 * status line is read; the body is never waited for.
 */
export class HttpProbe implements HealthProbe {
  readonly type = 'http';
  readonly #path: string;
  readonly #host: string | undefined;
  readonly #ranges: readonly StatusRange[];
  readonly #shown: string;
  readonly #readLimit: number;
  readonly #tls: ProbeTlsOptions | undefined;
  // the request is the same every time unless Host comes from the target
  readonly #request: Buffer | undefined;
  readonly #judge = (reply: Buffer, ended: boolean): ReplyVerdict => this.#judgeReply(reply, ended);

  constructor(options: HttpProbeOptions = {}) {
    this.#path = checkToken('path', options.path ?? '/');
    if (!this.#path.startsWith('/')) {
      throw new SwitchyardError(
        ErrorCodes.ERR_INVALID_ARGUMENT,
        `path must start with "/", got "${this.#path}"`,
      );
    }
    this.#host = options.host === undefined ? undefined : checkToken('host', options.host);
    const expect = options.expectStatus ?? DEFAULT_EXPECT_STATUS;
    this.#ranges = parseStatusRanges(expect);
    this.#shown = String(expect);
    this.#readLimit = checkReadLimit(options.readLimit ?? DEFAULT_READ_LIMIT);
    this.#tls = options.tls;
    this.#request = this.#host === undefined ? undefined : this.#build(this.#host);
  }

  check(target: ProbeTarget, signal: AbortSignal): Promise<void> {
    return probeConnection(target, signal, {
      tls: this.#tls,
      send: this.#request ?? this.#build(formatHostPort(target.host, target.port)),
      judge: this.#judge,
      readLimit: this.#readLimit,
    });
  }

  #build(host: string): Buffer {
    return Buffer.from(
      `GET ${this.#path} HTTP/1.0\r\nHost: ${host}\r\nUser-Agent: switchyard-health-check\r\n` +
        'Accept: */*\r\nConnection: close\r\n\r\n',
      'latin1',
    );
  }

  #judgeReply(reply: Buffer, ended: boolean): ReplyVerdict {
    const eol = reply.indexOf(10);
    if (eol < 0) {
      return ended ? new ProbeError('response', 'connection closed before an HTTP status line') : undefined;
    }
    const line = reply.toString('latin1', 0, eol);
    const m = STATUS_LINE.exec(line);
    if (m === null)
      return new ProbeError('response', `not an HTTP status line: ${JSON.stringify(line.trim())}`);
    const status = Number(m[1]);
    for (const [low, high] of this.#ranges) if (status >= low && status <= high) return true;
    return new ProbeError('response', `HTTP status ${status}, expected ${this.#shown}`);
  }
}

/** Parses `200`, `'200-399'` or `'200,204,300-399'` into inclusive ranges of codes 100..599. */
export function parseStatusRanges(expect: number | string): StatusRange[] {
  const ranges: StatusRange[] = [];
  for (const part of String(expect).split(',')) {
    const m = /^\s*(\d{3})\s*(?:-\s*(\d{3})\s*)?$/.exec(part);
    const low = m === null ? Number.NaN : Number(m[1]);
    const high = m === null ? Number.NaN : Number(m[2] ?? m[1]);
    if (!(low >= 100 && high <= 599 && low <= high)) {
      throw new SwitchyardError(
        ErrorCodes.ERR_INVALID_ARGUMENT,
        `expectStatus must be codes or ranges like 200 or "200-399", got "${expect}"`,
      );
    }
    ranges.push([low, high]);
  }
  return ranges;
}

// A request line or header with whitespace or control characters in it could split the request.
function checkToken(what: string, value: string): string {
  if (value === '' || !isPlainToken(value)) {
    throw new SwitchyardError(
      ErrorCodes.ERR_INVALID_ARGUMENT,
      `${what} must be non-empty without spaces or control characters, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

function isPlainToken(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    // controls, space, DEL, and the non-ASCII whitespace a header parser might also split on
    if (c <= 0x20 || c === 0x7f || /\s/.test(value[i])) return false;
  }
  return true;
}
