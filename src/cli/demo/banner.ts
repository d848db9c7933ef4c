/** What `switchyard demo` prints once it runs: where things are and a curl line per org. */
import { isIP } from 'node:net';
import { ErrorCodes, SwitchyardError } from '../../lib/errors.js';
import { showPath } from '../check/summary.js';
import type { DemoCertificates } from './demo-certs.js';
import { greeting, type HttpUpstream } from './http-upstream.js';

/** What the banner describes. */
export interface BannerInput {
  /** Host the balancer is bound to, as configured. */
  host: string;
  /** Port it is bound to. */
  port: number;
  /** The demo PKI. */
  certs: DemoCertificates;
  /** Every upstream. */
  upstreams: readonly HttpUpstream[];
  /** Paths below this directory are shown relative to it. */
  cwd: string;
}

/** How curl prints a refused org: the balancer closes the TLS session before any HTTP answer. */
export const REFUSED_CURL_OUTPUT = 'curl: (52) Empty reply from server';

/** The host name to put in a URL for a balancer bound to `host`: wildcards and loopback become localhost. */
export function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '127.0.0.1') return 'localhost';
  return isIP(host) === 6 ? `[${host}]` : host;
}

/** The curl command that reaches the demo as `org`. */
export function curlCommand(input: BannerInput, org: string): string {
  const client = input.certs.clients.find((c) => c.org === org);
  if (client === undefined)
    throw new SwitchyardError(ErrorCodes.ERR_INTERNAL, `no demo client for org ${org}`);
  const p = (path: string) => shellQuote(showPath(path, input.cwd));
  return `curl --cacert ${p(input.certs.ca.certPath)} --cert ${p(client.certPath)} --key ${p(client.keyPath)} https://${urlHost(input.host)}:${input.port}/`;
}

/** The banner text, ending with a newline. */
export function formatBanner(input: BannerInput): string {
  const groups = new Map<string, HttpUpstream[]>();
  for (const u of input.upstreams) groups.set(u.group, [...(groups.get(u.group) ?? []), u]);
  const lines = [
    '',
    '=== Switchyard demo ===',
    `balancer   https://${urlHost(input.host)}:${input.port}/  mutual TLS; route { org: "*", group: "{org}" }: a client's O picks its group, least-connections inside it`,
  ];
  for (const [group, ups] of groups) {
    lines.push(`  ${group.padEnd(8)} ${ups.map((u) => `${u.name} ${u.address}`).join(', ')}`);
  }
  lines.push(
    `certs      ${showPath(input.certs.ca.certPath, input.cwd).replace(/ca\.pem$/, '')} (CA, server, one client per org)`,
  );
  lines.push('', 'Try each org from another terminal:', '');
  for (const client of input.certs.clients) {
    const ups = groups.get(client.org);
    lines.push(`# O=${client.org}, CN=${client.cn}`);
    lines.push(curlCommand(input, client.org));
    if (ups === undefined) {
      lines.push(
        `#   -> refused: no group "${client.org}", so the balancer closes the connection; curl prints`,
        `#      ${REFUSED_CURL_OUTPUT}   (exit code 52)`,
      );
    } else {
      lines.push(`#   -> ${ups.map((u) => greeting(u.name, u.group)).join('   or   ')}`);
    }
    lines.push('');
  }
  lines.push('Press Ctrl-C to stop (the balancer drains, then the upstreams close).', '');
  return lines.join('\n');
}

/** `text` as one shell word: unchanged when it is plain, else in single quotes. */
export function shellQuote(text: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}
