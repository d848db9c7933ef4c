import type { GroupConfig, SwitchyardConfig } from '../config/types.js';
import { createBalancer } from '../lib/balancers/registry.js';
import type { UpstreamGroup } from '../lib/upstreams/upstream-group.js';
import type { BuiltRuntime } from './build-runtime.js';
import { describeChange, type ReloadPlan } from './reload-plan.js';

/**
 * The groups after the plan's group changes: added ones come from the new build, removed ones are
 * left out (their live sessions keep them), changed ones are the live objects changed in place, so
 * counters and sessions stay. Returns a new map; the one the proxy runs on is not touched.
 */
export function applyGroups(
  plan: ReloadPlan,
  current: ReadonlyMap<string, UpstreamGroup>,
  old: SwitchyardConfig,
  next: SwitchyardConfig,
  built: BuiltRuntime,
  changes: string[],
): Map<string, UpstreamGroup> {
  const groups = new Map(current);
  for (const change of plan) {
    if (change.kind === 'group-added') {
      groups.set(change.group, built.runtime.groups.get(change.group)!);
      changes.push(describeChange(change));
    } else if (change.kind === 'group-removed') {
      groups.delete(change.group);
      changes.push(describeChange(change));
    } else if (change.kind === 'group-changed') {
      const live = groups.get(change.group)!;
      mergeGroup(live, old.groups[change.group], next.groups[change.group], changes);
    }
  }
  return groups;
}

/** Applies what the file changed of one group to its live object, one change line per difference. */
function mergeGroup(group: UpstreamGroup, before: GroupConfig, after: GroupConfig, changes: string[]): void {
  const name = group.name;
  const oldById = new Map(before.upstreams.map((u) => [u.id, u]));
  for (const u of after.upstreams) {
    const was = oldById.get(u.id);
    const live = group.get(u.id);
    if (was === undefined || live === undefined || was.address !== u.address) {
      if (live !== undefined) group.remove(u.id);
      group.add({
        address: u.address,
        id: u.id,
        weight: u.weight,
        maxConnections: u.maxConnections,
        state: u.state,
      });
      changes.push(`upstream ${name}/${u.id} added`);
      continue;
    }
    // Only what the file changed is applied, so a state or weight set through the API survives.
    if (was.weight !== u.weight) {
      group.setWeight(u.id, u.weight);
      changes.push(`upstream ${name}/${u.id} weight ${was.weight} -> ${u.weight}`);
    }
    if (was.maxConnections !== u.maxConnections) {
      group.setMaxConnections(u.id, u.maxConnections);
      changes.push(`upstream ${name}/${u.id} maxConnections ${was.maxConnections} -> ${u.maxConnections}`);
    }
    if (was.state !== u.state) {
      group.setState(u.id, u.state);
      changes.push(`upstream ${name}/${u.id} state ${was.state} -> ${u.state}`);
    }
    // Applied by the health restart every reload ends with; listed so the log says what changed.
    if (!sameJson(was.healthCheck, u.healthCheck))
      changes.push(`upstream ${name}/${u.id} health check updated`);
  }
  for (const u of before.upstreams) {
    if (after.upstreams.some((a) => a.id === u.id) || group.get(u.id) === undefined) continue;
    group.remove(u.id);
    changes.push(`upstream ${name}/${u.id} removed (live sessions finish)`);
  }
  if (before.balancer !== after.balancer || before.boundedLoad !== after.boundedLoad) {
    group.setBalancer(createBalancer(after.balancer, { boundedLoad: after.boundedLoad }));
    changes.push(`group ${name} balancer ${before.balancer} -> ${after.balancer}`);
  }
  for (const key of ['healthCheck', 'passiveHealth', 'slowStart', 'shutdownSessionsOnDown'] as const) {
    if (!sameJson(before[key], after[key])) changes.push(`group ${name} ${key} updated`);
  }
}

/** Two values that print the same as JSON. */
export function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
