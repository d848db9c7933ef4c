import { isIP } from 'node:net';
import { ErrorCodes, SwitchyardError } from '../errors.js';

/** A parsed `host:port`; `family` is 4 or 6 for literal addresses and 0 for names. */
export interface HostPort {
  readonly host: string;
  readonly port: number;
  readonly family: 0 | 4 | 6;
}

/**
 * Parses `127.0.0.1:9001`, `[::1]:9012` or `name:80`. IPv6 literals need brackets because a bare
 * `::1:80` is ambiguous.
 */
export function parseHostPort(text: string): HostPort {
  let host: string;
  let portText: string;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0 || text[close + 1] !== ':') throw invalid(text, 'expected "[ipv6]:port"');
    host = text.slice(1, close);
    portText = text.slice(close + 2);
    if (isIP(host) !== 6) throw invalid(text, `"${host}" is not an IPv6 address`);
  } else {
    const colon = text.lastIndexOf(':');
    if (colon <= 0) throw invalid(text, 'expected "host:port"');
    host = text.slice(0, colon);
    portText = text.slice(colon + 1);
    if (host.includes(':')) throw invalid(text, 'IPv6 addresses need brackets, as in "[::1]:9000"');
  }
  if (!/^\d{1,5}$/.test(portText)) throw invalid(text, `port "${portText}" is not a number`);
  const port = Number(portText);
  if (port < 1 || port > 65535) throw invalid(text, `port ${port} is outside 1-65535`);
  const family = isIP(host);
  return { host, port, family: family === 4 || family === 6 ? family : 0 };
}

/** The canonical `host:port` text, with brackets around IPv6 literals. */
export function formatHostPort(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

function invalid(text: string, why: string): SwitchyardError {
  return new SwitchyardError(ErrorCodes.ERR_INVALID_ADDRESS, `invalid address "${text}": ${why}`);
}
