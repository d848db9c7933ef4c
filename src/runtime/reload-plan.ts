import type {
  AdminConfig,
  BalancerName,
  ConcurrencyConfig,
  ConnectConfig,
  GroupConfig,
  ListenerConfig,
  LogConfig,
  ReloadConfig,
  SwitchyardConfig,
  TimeoutsConfig,
  UpstreamConfig,
} from '../config/types.js';
import { ErrorCodes, SwitchyardError } from '../lib/errors.js';

/** An upstream's values the admin API may set too: a reload applies only the ones the file changed. */
export type UpstreamSetting = 'weight' | 'maxConnections' | 'state';

/**
 * One difference between the running configuration and the next, as the reload applies it. The
 * plan is computed from the two configurations alone (no sockets, no files), so what a reload will
 * do can be tested and printed on its own; the runtime manager applies it in order.
 */
export type ReloadChange =
  | { kind: 'group-added'; group: string }
  | { kind: 'group-removed'; group: string }
  /** New in the group, or at a new address (the old one goes first; its sessions finish). */
  | { kind: 'upstream-added'; group: string; upstream: string }
  | { kind: 'upstream-removed'; group: string; upstream: string }
  | {
      kind: 'upstream-setting';
      group: string;
      upstream: string;
      field: UpstreamSetting;
      from: number | string;
      to: number | string;
    }
  /** Applied by the health restart every reload ends with. */
  | { kind: 'upstream-health-check'; group: string; upstream: string }
  /** The balancer or its bounded load: a new balancer indexes the live counters. */
  | { kind: 'balancer'; group: string; from: BalancerName; to: BalancerName }
  /** Applied with the new runtime (hash key) or by the health restart (the others). */
  | { kind: 'group-setting'; group: string; field: GroupSetting }
  | { kind: 'rate-limit' }
  | { kind: 'concurrency'; from: number; to: number }
  /** `fields`: `timeouts.<name>` and `connect.<name>` keys that differ. */
  | { kind: 'timeouts'; fields: string[] }
  | { kind: 'listener-added'; listener: string }
  | { kind: 'listener-removed'; listener: string }
  /** A new address: bound afresh, the old socket closed after, counters carried over. */
  | { kind: 'listener-moved'; listener: string; from: string; to: string; kindChange?: KindChange }
  /** Same address, other settings (the kind included): applied on the same socket. */
  | { kind: 'listener-updated'; listener: string; fields: string[]; kindChange?: KindChange }
  /** File watching settings: the watchers are set up again. */
  | { kind: 'reload-settings'; fields: string[] }
  /** Settings a running process does not take over (the admin server, logging): logged, not applied. */
  | { kind: 'needs-restart'; key: string };

/** A listener's kind before and after; present on a listener change only when the two differ. */
export interface KindChange {
  from: ListenerConfig['kind'];
  to: ListenerConfig['kind'];
}

/** The reload of `current` into `next`, change by change; empty when nothing differs. */
export type ReloadPlan = ReloadChange[];

// Every key of the configuration has a place in one of the tables below. Each table must name
// every key of its type (`satisfies Record<...>`), so a key added to a type does not compile until
// it is placed; a key present at run time that a table lacks makes `planReload` throw. Either way
// a new key cannot silently be left out of reloads.

type KeyOf<T> = T extends unknown ? keyof T : never;

/** Where each top-level section is planned. */
const TOP_KEYS = {
  listeners: 'listeners',
  groups: 'groups',
  rateLimit: 'limits',
  concurrency: 'limits',
  limitStore: 'restart',
  timeouts: 'limits',
  connect: 'limits',
  admin: 'restart',
  log: 'restart',
  reload: 'files',
  workers: 'restart',
} as const satisfies Record<keyof SwitchyardConfig, string>;

/** How a group's keys are applied: its upstreams one by one, a new balancer, or a setting. */
const GROUP_KEYS = {
  upstreams: 'upstreams',
  balancer: 'balancer',
  boundedLoad: 'balancer',
  hashKey: 'setting',
  healthCheck: 'setting',
  passiveHealth: 'setting',
  slowStart: 'setting',
  shutdownSessionsOnDown: 'setting',
  upstreamTls: 'setting',
} as const satisfies Record<keyof GroupConfig, 'upstreams' | 'balancer' | 'setting'>;

/** A group key applied as a whole: with the new runtime or by the health restart. */
export type GroupSetting = {
  [K in keyof typeof GROUP_KEYS]: (typeof GROUP_KEYS)[K] extends 'setting' ? K : never;
}[keyof typeof GROUP_KEYS];

/** How an upstream's keys are applied; `id` is what upstreams are matched by. */
const UPSTREAM_KEYS = {
  id: 'identity',
  address: 'address',
  weight: 'setting',
  maxConnections: 'setting',
  state: 'setting',
  healthCheck: 'health',
} as const satisfies Record<keyof UpstreamConfig, 'identity' | 'address' | 'setting' | 'health'>;

/** A listener is matched by name; a new address binds afresh, the rest is updated on its socket. */
const LISTENER_KEYS = {
  name: 'identity',
  bind: 'address',
  // Another transport needs another socket: the listener is bound afresh, like a move.
  protocol: 'address',
  kind: 'settings',
  maxConnections: 'settings',
  handshakeRate: 'settings',
  maxPendingHandshakes: 'settings',
  proxyProtocol: 'settings',
  acceptProxyProtocol: 'settings',
  trustedProxies: 'settings',
  allow: 'settings',
  deny: 'settings',
  tls: 'settings',
  routes: 'settings',
  group: 'settings',
  sniRoutes: 'settings',
  defaultGroup: 'settings',
  flowIdleTimeout: 'settings',
  maxFlows: 'settings',
} as const satisfies Record<KeyOf<ListenerConfig>, 'identity' | 'address' | 'settings'>;

// Sections whose keys the new runtime (timeouts, connect attempts, concurrency), the file
// watchers (reload) or only a restart (admin, log) take over.
const TIMEOUT_KEYS = {
  handshake: true,
  connect: true,
  idle: true,
  maxLifetime: true,
  shutdownGrace: true,
  shutdownJitter: true,
} as const satisfies Record<keyof TimeoutsConfig, true>;
const CONNECT_KEYS = { attempts: true } as const satisfies Record<keyof ConnectConfig, true>;
const CONCURRENCY_KEYS = { perClient: true } as const satisfies Record<keyof ConcurrencyConfig, true>;
const RELOAD_KEYS = { watchConfig: true, watchCertificates: true, interval: true } as const satisfies Record<
  keyof ReloadConfig,
  true
>;
const ADMIN_KEYS = { bind: true, token: true } as const satisfies Record<keyof AdminConfig, true>;
const LOG_KEYS = { level: true, format: true, accessLog: true } as const satisfies Record<
  keyof LogConfig,
  true
>;

/** Everything that differs between `current` and `next`, in the order a reload applies it. */
export function planReload(current: SwitchyardConfig, next: SwitchyardConfig): ReloadPlan {
  differingKeys(current, next, TOP_KEYS, 'configuration');
  return [
    ...planGroups(current.groups, next.groups),
    ...planLimits(current, next),
    ...planListeners(current.listeners, next.listeners),
    ...planRestartOnly(current, next),
  ];
}

function planGroups(current: Record<string, GroupConfig>, next: Record<string, GroupConfig>): ReloadChange[] {
  const plan: ReloadChange[] = [];
  for (const [name, after] of Object.entries(next)) {
    const before = current[name];
    if (before === undefined) plan.push({ kind: 'group-added', group: name });
    else plan.push(...planGroup(name, before, after));
  }
  for (const name of Object.keys(current)) {
    if (next[name] === undefined) plan.push({ kind: 'group-removed', group: name });
  }
  return plan;
}

/** One kept group's changes: its upstreams in the file's order, removed ones, balancer, settings. */
function planGroup(group: string, before: GroupConfig, after: GroupConfig): ReloadChange[] {
  const fields = differingKeys(before, after, GROUP_KEYS, `group ${group}`);
  const plan: ReloadChange[] = [];
  if (fields.includes('upstreams')) {
    const oldById = new Map(before.upstreams.map((u) => [u.id, u]));
    for (const u of after.upstreams) {
      const was = oldById.get(u.id);
      const changed = differingKeys(was ?? {}, u, UPSTREAM_KEYS, `upstream ${group}/${u.id}`);
      if (was === undefined || changed.includes('address')) {
        plan.push({ kind: 'upstream-added', group, upstream: u.id });
        continue;
      }
      for (const field of changed) {
        if (field === 'healthCheck') plan.push({ kind: 'upstream-health-check', group, upstream: u.id });
        else if (UPSTREAM_KEYS[field] === 'setting') {
          const setting = field as UpstreamSetting;
          plan.push({
            kind: 'upstream-setting',
            group,
            upstream: u.id,
            field: setting,
            from: was[setting],
            to: u[setting],
          });
        }
      }
    }
    const kept = new Set(after.upstreams.map((u) => u.id));
    for (const u of before.upstreams) {
      if (!kept.has(u.id)) plan.push({ kind: 'upstream-removed', group, upstream: u.id });
    }
  }
  if (fields.some((f) => GROUP_KEYS[f] === 'balancer')) {
    plan.push({ kind: 'balancer', group, from: before.balancer, to: after.balancer });
  }
  for (const field of fields) {
    if (GROUP_KEYS[field] === 'setting')
      plan.push({ kind: 'group-setting', group, field: field as GroupSetting });
  }
  return plan;
}

function planLimits(current: SwitchyardConfig, next: SwitchyardConfig): ReloadChange[] {
  const plan: ReloadChange[] = [];
  // A limit's keys are not told apart: any change builds a new limiter from the whole section.
  if (!sameJson(current.rateLimit, next.rateLimit)) plan.push({ kind: 'rate-limit' });
  if (differingKeys(current.concurrency, next.concurrency, CONCURRENCY_KEYS, 'concurrency').length > 0) {
    plan.push({ kind: 'concurrency', from: current.concurrency.perClient, to: next.concurrency.perClient });
  }
  const timeouts = [
    ...differingKeys(current.timeouts, next.timeouts, TIMEOUT_KEYS, 'timeouts').map((k) => `timeouts.${k}`),
    ...differingKeys(current.connect, next.connect, CONNECT_KEYS, 'connect').map((k) => `connect.${k}`),
  ];
  if (timeouts.length > 0) plan.push({ kind: 'timeouts', fields: timeouts });
  return plan;
}

function planListeners(current: ListenerConfig[], next: ListenerConfig[]): ReloadChange[] {
  const plan: ReloadChange[] = [];
  const before = new Map(current.map((l) => [l.name, l]));
  for (const after of next) {
    const was = before.get(after.name);
    const fields = differingKeys(was ?? {}, after, LISTENER_KEYS, `listener ${after.name}`);
    if (was === undefined) {
      plan.push({ kind: 'listener-added', listener: after.name });
      continue;
    }
    const kindChange = was.kind === after.kind ? {} : { kindChange: { from: was.kind, to: after.kind } };
    if (fields.includes('bind') || fields.includes('protocol')) {
      plan.push({
        kind: 'listener-moved',
        listener: after.name,
        from: was.bind,
        to: after.bind,
        ...kindChange,
      });
    } else if (fields.length > 0) {
      plan.push({ kind: 'listener-updated', listener: after.name, fields, ...kindChange });
    }
  }
  for (const was of current) {
    if (!next.some((l) => l.name === was.name)) plan.push({ kind: 'listener-removed', listener: was.name });
  }
  return plan;
}

function planRestartOnly(current: SwitchyardConfig, next: SwitchyardConfig): ReloadChange[] {
  const plan: ReloadChange[] = [];
  const reload = differingKeys(current.reload, next.reload, RELOAD_KEYS, 'reload');
  if (reload.length > 0) plan.push({ kind: 'reload-settings', fields: reload.map((k) => `reload.${k}`) });
  if ((current.admin === undefined) !== (next.admin === undefined)) {
    plan.push({ kind: 'needs-restart', key: 'admin' });
  } else {
    for (const key of differingKeys(current.admin ?? {}, next.admin ?? {}, ADMIN_KEYS, 'admin'))
      plan.push({ kind: 'needs-restart', key: `admin.${key}` });
  }
  for (const key of differingKeys(current.log, next.log, LOG_KEYS, 'log'))
    plan.push({ kind: 'needs-restart', key: `log.${key}` });
  if (current.workers !== next.workers) plan.push({ kind: 'needs-restart', key: 'workers' });
  // The connection to a store is opened once per process: a new store, or new settings for it,
  // would need every live slot moved across; a restart (rolling, with workers) does it cleanly.
  if (JSON.stringify(current.limitStore) !== JSON.stringify(next.limitStore))
    plan.push({ kind: 'needs-restart', key: 'limitStore' });
  return plan;
}

/** The line a reload logs for a change (the wording operators have seen in reload logs so far). */
export function describeChange(change: ReloadChange): string {
  switch (change.kind) {
    case 'group-added':
      return `group ${change.group} added`;
    case 'group-removed':
      return `group ${change.group} removed (live sessions finish)`;
    case 'upstream-added':
      return `upstream ${change.group}/${change.upstream} added`;
    case 'upstream-removed':
      return `upstream ${change.group}/${change.upstream} removed (live sessions finish)`;
    case 'upstream-setting':
      return `upstream ${change.group}/${change.upstream} ${change.field} ${change.from} -> ${change.to}`;
    case 'upstream-health-check':
      return `upstream ${change.group}/${change.upstream} health check updated`;
    case 'balancer':
      return `group ${change.group} balancer ${change.from} -> ${change.to}`;
    case 'group-setting':
      return `group ${change.group} ${change.field} updated`;
    case 'rate-limit':
      return 'rate limit replaced';
    case 'concurrency':
      return `concurrency per client ${change.from} -> ${change.to}`;
    case 'timeouts':
      return 'timeouts and connect attempts updated';
    case 'listener-added':
      return `listener ${change.listener} added`;
    case 'listener-removed':
      return `listener ${change.listener} removed (live sessions finish)`;
    case 'listener-moved': {
      const kinds =
        change.kindChange === undefined ? '' : ` (${change.kindChange.from} -> ${change.kindChange.to})`;
      return `listener ${change.listener} moved ${change.from} -> ${change.to}${kinds} (sessions on the old address finish)`;
    }
    case 'listener-updated':
      if (change.kindChange === undefined) return `listener ${change.listener} updated`;
      return `listener ${change.listener} changed from ${change.kindChange.from} to ${change.kindChange.to} on the same socket`;
    case 'reload-settings':
      return `file watching updated (${change.fields.join(', ')})`;
    case 'needs-restart':
      return `${change.key} changed; takes effect at the next restart`;
  }
}

/**
 * The keys of `table` whose values differ between `a` and `b` (compared as JSON), in the table's
 * order. A key of either object that the table lacks has no place in the plan: that is a bug to
 * be found by the tests, not a difference to be skipped.
 */
function differingKeys<K extends string>(
  a: object,
  b: object,
  table: Record<K, unknown>,
  where: string,
): K[] {
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  for (const key of [...Object.keys(ra), ...Object.keys(rb)]) {
    if (!Object.hasOwn(table, key)) {
      throw new SwitchyardError(
        ErrorCodes.ERR_INTERNAL,
        `reload plan: ${where} key "${key}" has no place in the plan`,
      );
    }
  }
  return (Object.keys(table) as K[]).filter((k) => !sameJson(ra[k], rb[k]));
}

/** Two values that print the same as JSON (configuration sections, TLS material). */
export function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
