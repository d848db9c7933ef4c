/**
 * The admin API's HTTP plumbing, apart from its routes: answers, path decoding, the bearer token,
 * the same-origin rule for writes, bounded JSON bodies and the bind address.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { type ErrorCode, ErrorCodes, SwitchyardError } from '../lib/errors.js';
import { parseHostPort } from '../lib/upstreams/address.js';

/** The HTTP status each stable code is answered with; other codes are 400. */
export const STATUS_BY_CODE: Partial<Record<ErrorCode, number>> = {
  ERR_UNKNOWN_GROUP: 404,
  ERR_UNKNOWN_UPSTREAM: 404,
  ERR_NOT_FOUND: 404,
  ERR_INVALID_ARGUMENT: 400,
  ERR_INVALID_ADDRESS: 400,
  ERR_UNKNOWN_BALANCER: 400,
  ERR_INVALID_JSON: 400,
  ERR_DUPLICATE_UPSTREAM: 409,
  ERR_UNAUTHORIZED: 401,
  ERR_FORBIDDEN_ORIGIN: 403,
  ERR_METHOD_NOT_ALLOWED: 405,
  ERR_PAYLOAD_TOO_LARGE: 413,
  ERR_CONFIG_INVALID: 422,
  ERR_CONFIG_READ: 422,
  ERR_RELOAD_FAILED: 422,
  ERR_RESTART_FAILED: 422,
  ERR_UPGRADE_FAILED: 422,
  ERR_TOO_MANY_STREAMS: 503,
};

/** A JSON answer, or (for /metrics) text. */
export interface Reply {
  status: number;
  body: unknown;
  /** Set for non-JSON bodies. */
  contentType?: string;
  /** More headers (the dashboard page's Content-Security-Policy). */
  headers?: Record<string, string>;
}

/** A 200 answer with `body` as JSON. */
export function ok(body: unknown): Reply {
  return { status: 200, body };
}

/** Writes `reply`; a response already under way is cut instead (its status is gone). */
export function send(res: ServerResponse, reply: Reply): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = reply.contentType === undefined ? `${JSON.stringify(reply.body)}\n` : String(reply.body);
  res.statusCode = reply.status;
  res.setHeader('Content-Type', reply.contentType ?? 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  if (reply.headers !== undefined)
    for (const [name, value] of Object.entries(reply.headers)) res.setHeader(name, value);
  res.end(text);
}

/** Path segments, percent-decoded; undefined when an escape is malformed (answered as not found). */
export function pathSegments(pathname: string): string[] | undefined {
  const raw = pathname.split('/').slice(1);
  if (raw.length > 0 && raw[raw.length - 1] === '') raw.pop();
  try {
    return raw.map((s) => decodeURIComponent(s));
  } catch {
    return undefined;
  }
}

/** The SHA-256 of `text`: tokens are compared as digests. */
export function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Compares SHA-256 digests (always 32 bytes) in constant time, so neither content nor length leaks. */
export function authorized(req: IncomingMessage, expected: Buffer): boolean {
  const header = req.headers.authorization;
  if (header === undefined) return false;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  if (match === null) return false;
  return timingSafeEqual(digest(match[1]), expected);
}

/**
 * A browser page on another origin must not change anything, token or not: refuses a write whose
 * `Origin` does not match the `Host` it was sent to. Command-line clients send no `Origin`.
 */
export function checkOrigin(req: IncomingMessage): void {
  const origin = req.headers.origin;
  if (origin === undefined) return;
  let originHost: string | undefined;
  try {
    originHost = new URL(origin).host;
  } catch {
    originHost = undefined;
  }
  if (originHost === undefined || originHost !== req.headers.host) {
    throw new SwitchyardError(ErrorCodes.ERR_FORBIDDEN_ORIGIN, 'cross-origin changes are refused');
  }
}

/** Reads the body as one JSON object, at most `max` bytes; an empty body is `{}`. */
export async function readJsonObject(req: IncomingMessage, max: number): Promise<Record<string, unknown>> {
  const text = (await readBody(req, max)).toString('utf8').trim();
  if (text === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new SwitchyardError(
      ErrorCodes.ERR_INVALID_JSON,
      `request body is not valid JSON: ${(err as Error).message}`,
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SwitchyardError(ErrorCodes.ERR_INVALID_JSON, 'request body must be a JSON object');
  }
  return value as Record<string, unknown>;
}

/**
 * Collects the body up to `max` bytes. Past that it rejects at once and keeps reading without
 * keeping, so the 413 reaches the client (closing with unread data would reset the connection
 * under it); the server's request timeout bounds a body that never ends.
 */
function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const tooLarge = () =>
      new SwitchyardError(ErrorCodes.ERR_PAYLOAD_TOO_LARGE, `request body is larger than ${max} bytes`);
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = Number(req.headers['content-length'] ?? 0) > max;
    if (refused) {
      req.resume();
      reject(tooLarge());
      return;
    }
    req.on('data', (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      if (size > max) {
        refused = true;
        chunks.length = 0;
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.once('end', () => {
      if (!refused) resolve(Buffer.concat(chunks));
    });
    req.once('error', reject);
  });
}

/** `host:port` with port 0 allowed; IPv6 literals in brackets. */
export function parseBind(bind: string): { host: string; port: number } {
  if (bind.endsWith(':0')) {
    const host = bind.slice(0, -2);
    const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
    if (bare === '' || (bare.includes(':') && isIP(bare) !== 6)) {
      throw new SwitchyardError(ErrorCodes.ERR_INVALID_ADDRESS, `invalid admin bind address "${bind}"`);
    }
    return { host: bare, port: 0 };
  }
  const hp = parseHostPort(bind);
  return { host: hp.host, port: hp.port };
}

/** True for a host only this machine can reach. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}
