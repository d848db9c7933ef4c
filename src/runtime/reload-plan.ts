import type { GroupConfig, ListenerConfig, SwitchyardConfig } from '../config/types.js';

/**
 * One difference between the running configuration and the next, as the reload applies it. The
 * plan is computed from the two configurations alone (no sockets, no files), so what a reload will
 * do can be tested and printed on its own; the runtime manager applies it in order.
 */
export type ReloadChange =
  | { kind: 'group-added'; group: string }
  | { kind: 'group-removed'; group: string }
  /** `fields`: the group's keys that differ (`upstreams`, `balancer`, `healthCheck`, ...). */
  | { kind: 'group-changed'; group: string; fields: string[] }
  | { kind: 'rate-limit' }
  | { kind: 'concurrency'; from: number; to: number }
  /** `fields`: `timeouts.<name>` and `connect.<name>` keys that differ. */
  | { kind: 'timeouts'; fields: string[] }
  | { kind: 'listener-added'; listener: string }
  | { kind: 'listener-removed'; listener: string }
  /** A new address: bound afresh, the old socket closed after, counters carried over. */
  | { kind: 'listener-moved'; listener: string; from: string; to: string }
  /** Same address, other settings (the kind included): applied on the same socket. */
  | { kind: 'listener-updated'; listener: string; fields: string[] }
  /** File watching settings: the watchers are set up again. */
  | { kind: 'reload-settings'; fields: string[] }
  /** Settings a running process does not take over (the admin server, logging): logged, not applied. */
  | { kind: 'needs-restart'; key: string };

/** The reload of `current` into `next`, change by change; empty when nothing differs. */
export type ReloadPlan = ReloadChange[];

// The top-level keys the plan understands. A key added to the configuration without a place here
// makes `planReload` throw, and the test that changes every key fails: a new key cannot be
// silently left out of reloads.
const PLANNED_KEYS = [
  'listeners',
  'groups',
  'rateLimit',
  'concurrency',
  'timeouts',
  'connect',
  'admin',
  'log',
  'reload',
] as const satisfies readonly (keyof SwitchyardConfig)[];

/** Everything that differs between `current` and `next`, in the order a reload applies it. */
export function planReload(current: SwitchyardConfig, next: SwitchyardConfig): ReloadPlan {
  for (const key of new Set([...Object.keys(current), ...Object.keys(next)])) {
    if (!(PLANNED_KEYS as readonly string[]).includes(key)) {
      throw new TypeError(`reload plan: configuration key "${key}" has no place in the plan`);
    }
  }
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
    if (before === undefined) {
      plan.push({ kind: 'group-added', group: name });
      continue;
    }
    const fields = differingKeys(before, after);
    if (fields.length > 0) plan.push({ kind: 'group-changed', group: name, fields });
  }
  for (const name of Object.keys(current)) {
    if (next[name] === undefined) plan.push({ kind: 'group-removed', group: name });
  }
  return plan;
}

function planLimits(current: SwitchyardConfig, next: SwitchyardConfig): ReloadChange[] {
  const plan: ReloadChange[] = [];
  if (!same(current.rateLimit, next.rateLimit)) plan.push({ kind: 'rate-limit' });
  if (current.concurrency.perClient !== next.concurrency.perClient) {
    plan.push({ kind: 'concurrency', from: current.concurrency.perClient, to: next.concurrency.perClient });
  }
  const timeouts = [
    ...differingKeys(current.timeouts, next.timeouts).map((k) => `timeouts.${k}`),
    ...differingKeys(current.connect, next.connect).map((k) => `connect.${k}`),
  ];
  if (timeouts.length > 0) plan.push({ kind: 'timeouts', fields: timeouts });
  return plan;
}

function planListeners(current: ListenerConfig[], next: ListenerConfig[]): ReloadChange[] {
  const plan: ReloadChange[] = [];
  const before = new Map(current.map((l) => [l.name, l]));
  for (const after of next) {
    const was = before.get(after.name);
    if (was === undefined) plan.push({ kind: 'listener-added', listener: after.name });
    else if (was.bind !== after.bind)
      plan.push({ kind: 'listener-moved', listener: after.name, from: was.bind, to: after.bind });
    else {
      const fields = differingKeys(was, after);
      if (fields.length > 0) plan.push({ kind: 'listener-updated', listener: after.name, fields });
    }
  }
  for (const was of current) {
    if (!next.some((l) => l.name === was.name)) plan.push({ kind: 'listener-removed', listener: was.name });
  }
  return plan;
}

function planRestartOnly(current: SwitchyardConfig, next: SwitchyardConfig): ReloadChange[] {
  const plan: ReloadChange[] = [];
  const reload = differingKeys(current.reload, next.reload);
  if (reload.length > 0) plan.push({ kind: 'reload-settings', fields: reload.map((k) => `reload.${k}`) });
  for (const section of ['admin', 'log'] as const) {
    const a = (current[section] ?? {}) as Record<string, unknown>;
    const b = (next[section] ?? {}) as Record<string, unknown>;
    if (current[section] === undefined || next[section] === undefined) {
      if (current[section] !== next[section]) plan.push({ kind: 'needs-restart', key: section });
      continue;
    }
    for (const key of differingKeys(a, b)) plan.push({ kind: 'needs-restart', key: `${section}.${key}` });
  }
  return plan;
}

/** The line a reload logs for a change (the wording operators have seen in reload logs so far). */
export function describeChange(change: ReloadChange): string {
  switch (change.kind) {
    case 'group-added':
      return `group ${change.group} added`;
    case 'group-removed':
      return `group ${change.group} removed (live sessions finish)`;
    case 'group-changed':
      return `group ${change.group} ${change.fields.join(', ')} updated`;
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
    case 'listener-moved':
      return `listener ${change.listener} moved ${change.from} -> ${change.to}`;
    case 'listener-updated':
      return `listener ${change.listener} updated`;
    case 'reload-settings':
      return `file watching updated (${change.fields.join(', ')})`;
    case 'needs-restart':
      return `${change.key} changed; takes effect at the next restart`;
  }
}

/** Keys of two plain objects whose values differ (compared as JSON), in the order they appear. */
function differingKeys(a: object, b: object): string[] {
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const keys = new Set([...Object.keys(ra), ...Object.keys(rb)]);
  return [...keys].filter((k) => !same(ra[k], rb[k]));
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
