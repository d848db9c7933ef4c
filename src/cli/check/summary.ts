/** The one-screen summary `switchyard check` prints for a valid configuration. */

import { isAbsolute, relative } from 'node:path';
import { formatDuration } from '../../config/duration.js';
import { healthTlsBlocks } from '../../config/health-check.js';
import { listenerFiles } from '../../config/listener-files.js';
import { redactUrlPassword } from '../../config/secrets.js';
import type {
  GroupConfig,
  ListenerConfig,
  SwitchyardConfig,
  UpstreamConfig,
  WorkersSetting,
} from '../../config/types.js';
import { listenerSetup } from '../../runtime/listener-kinds/registry.js';
import { workerCount } from '../../workers/worker-count.js';

/** What {@link formatSummary} describes. */
export interface SummaryInput {
  /** The configuration file as given. */
  path: string;
  /** The validated configuration. */
  config: SwitchyardConfig;
  /** Labels of the environment and flag overrides applied. */
  overrides: string[];
}

/** How the summary is written. */
export interface SummaryOptions {
  /** Whether the TLS files were read and checked. */
  filesChecked: boolean;
  /** Paths under this directory are shown relative to it. */
  cwd: string;
}

/**
 * Listeners (bind, kind, routes), groups (balancer, upstreams with weight and state), limits,
 * timeouts and the admin and log settings, ending with "configuration OK".
 */
export function formatSummary(input: SummaryInput, options: SummaryOptions): string {
  const { config } = input;
  const show = (path: string) => showPath(path, options.cwd);
  const out: string[] = [`${input.path}`];
  if (input.overrides.length > 0) out.push(`  overrides: ${input.overrides.join(', ')}`);
  out.push('', `listeners (${config.listeners.length})`);
  const nameWidth = Math.max(...config.listeners.map((l) => l.name.length));
  for (const l of config.listeners) out.push(...listenerLines(l, nameWidth, show));
  const groups = Object.entries(config.groups);
  out.push(`groups (${groups.length})`);
  const groupWidth = Math.max(...groups.map(([name]) => name.length));
  for (const [name, g] of groups) out.push(groupLine(name, g, groupWidth) + upstreamTlsPart(g, show));
  out.push('limits');
  out.push(`  rate limit    ${rateLimit(config)}`);
  out.push(
    `  concurrency   ${config.concurrency.perClient === 0 ? 'unlimited' : `${config.concurrency.perClient} connections`} ${admissionKey(config)}`,
  );
  out.push(`  store         ${limitStoreLine(config)}`);
  out.push(
    `  connect       ${config.connect.attempts} ${config.connect.attempts === 1 ? 'attempt' : 'attempts'} per connection`,
  );
  const t = config.timeouts;
  out.push(
    `timeouts        handshake ${d(t.handshake)}, connect ${d(t.connect)}, idle ${off(t.idle)}, max lifetime ${off(t.maxLifetime)}, shutdown grace ${d(t.shutdownGrace)} (+${d(t.shutdownJitter)} jitter)`,
  );
  out.push(
    `admin           ${config.admin === undefined ? 'off' : `${config.admin.bind}${config.admin.token === undefined ? '' : ', token set'}`}`,
  );
  out.push(`log             ${config.log.level}, access log ${config.log.accessLog}`);
  out.push(`workers         ${workersLine(config.workers)}`);
  out.push('');
  const tls =
    config.listeners.some((l) => listenerFiles(l).length > 0) ||
    healthTlsBlocks(config).length > 0 ||
    groups.some(([, g]) => g.upstreamTls !== undefined);
  const files = !tls
    ? ''
    : options.filesChecked
      ? ' (certificate files read and checked)'
      : ' (certificate files not checked: --no-files)';
  out.push(`configuration OK${files}`);
  return `${out.join('\n')}\n`;
}

function workersLine(setting: WorkersSetting): string {
  if (setting === 'auto') {
    const n = workerCount('auto');
    return `auto (${n} here${n === 1 ? ': one process' : ', and a primary'})`;
  }
  return setting === 1 ? '1 (one process)' : `${setting}, and a primary`;
}

function listenerLines(l: ListenerConfig, width: number, show: (p: string) => string): string[] {
  const limits = `max ${l.maxConnections === 0 ? 'unlimited' : l.maxConnections} connections`;
  const proxyIn =
    l.acceptProxyProtocol === 'none'
      ? ''
      : `, PROXY protocol ${l.acceptProxyProtocol} in from ${l.trustedProxies.join(' ')}`;
  const proxyOut = l.proxyProtocol === 'none' ? '' : `, PROXY protocol ${l.proxyProtocol} to upstreams`;
  const rules =
    (l.allow.length > 0 ? `, allow ${l.allow.join(' ')}` : '') +
    (l.deny.length > 0 ? `, deny ${l.deny.join(' ')}` : '');
  const [first, ...more] = listenerSetup(l).summary(
    l,
    { limits, rules, rulesAndProxy: rules + proxyIn + proxyOut },
    show,
  );
  return [
    `  ${l.name.padEnd(width)}  ${l.bind}  ${first}`,
    ...more.map((line) => `  ${''.padEnd(width)}  ${line}`),
  ];
}

function groupLine(name: string, g: GroupConfig, width: number): string {
  let balancer: string = g.balancer;
  if (g.balancer === 'consistent-hash') {
    balancer += ` on ${g.hashKey}${g.boundedLoad === 0 ? '' : `, bounded load ${g.boundedLoad}`}`;
  }
  return `  ${name.padEnd(width)}  ${balancer}: ${g.upstreams.map(upstream).join(', ')}`;
}

/** `, TLS to upstreams (CA ca.pem, name api.internal, client cert certs/lb.pem)` for a group with `upstreamTls`. */
function upstreamTlsPart(g: GroupConfig, show: (p: string) => string): string {
  const t = g.upstreamTls;
  if (t === undefined) return '';
  const parts = [
    t.ca === undefined ? 'public CAs' : `CA ${show(t.ca)}`,
    t.serverName === undefined ? "name: each upstream's host" : `name ${t.serverName}`,
  ];
  if (t.cert !== undefined) parts.push(`client cert ${show(t.cert)}`);
  if (t.minVersion !== 'TLSv1.2') parts.push(`${t.minVersion} and up`);
  return `, TLS to upstreams (${parts.join(', ')})`;
}

function upstream(u: UpstreamConfig): string {
  const id = u.id === u.address ? u.address : `${u.id}=${u.address}`;
  const cap = u.maxConnections === 0 ? '' : `, max ${u.maxConnections}`;
  return `${id} (weight ${u.weight}, ${u.state}${cap})`;
}

function rateLimit(config: SwitchyardConfig): string {
  const r = config.rateLimit;
  if (r === undefined) return 'off';
  const burst = r.burst === undefined ? '' : `, burst ${r.burst}`;
  return `${r.algorithm}, ${r.limit} per ${d(r.window)}${burst} ${admissionKey(config)}`;
}

/** What the limits count by: the certificate's CN on TLS listeners, the source address on plain TCP. */
function admissionKey(config: SwitchyardConfig): string {
  const kinds = new Set(config.listeners.map((l) => l.kind));
  const names = { tcp: 'plain TCP', 'tls-passthrough': 'TLS passthrough', udp: 'UDP' } as const;
  const bySource = (['tcp', 'tls-passthrough', 'udp'] as const)
    .filter((k) => kinds.has(k))
    .map((k) => names[k]);
  if (bySource.length === 0) return 'per client id';
  if (!kinds.has('tls')) return 'per source address';
  const which =
    bySource.length === 1 ? bySource[0] : `${bySource.slice(0, -1).join(', ')} and ${bySource.at(-1)}`;
  return `per client id (per source address on ${which} listeners)`;
}

function d(ms: number): string {
  return formatDuration(ms);
}

function off(ms: number): string {
  return ms === 0 ? 'off' : formatDuration(ms);
}

/** A path relative to `cwd` when it lies below it, else as it is. */
export function showPath(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

function limitStoreLine(config: SwitchyardConfig): string {
  const s = config.limitStore;
  if (s.type === 'memory') return "memory (this balancer's own counts)";
  return `redis ${redactUrlPassword(s.url)} (key prefix "${s.keyPrefix}", command timeout ${d(s.commandTimeout)}, failure policy ${s.failurePolicy})`;
}
