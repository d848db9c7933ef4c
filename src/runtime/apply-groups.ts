import type { SwitchyardConfig, UpstreamConfig } from '../config/types.js';
import { createBalancer } from '../lib/balancers/registry.js';
import type { UpstreamGroup } from '../lib/upstreams/upstream-group.js';
import type { BuiltRuntime } from './build-runtime.js';
import { describeChange, type ReloadPlan } from './reload-plan.js';

/**
 * The groups after the plan's group changes: added ones come from the new build, removed ones are
 * left out (their live sessions keep them), kept ones are the live objects changed in place, so
 * counters and sessions stay. Returns a new map; the one the proxy runs on is not touched. Each
 * change applied adds its line to `changes`.
 */
export function applyGroups(
  plan: ReloadPlan,
  current: ReadonlyMap<string, UpstreamGroup>,
  next: SwitchyardConfig,
  built: BuiltRuntime,
  changes: string[],
): Map<string, UpstreamGroup> {
  const groups = new Map(current);
  const touched = new Set<string>();
  for (const change of plan) {
    switch (change.kind) {
      case 'group-added':
        groups.set(change.group, built.runtime.groups.get(change.group)!);
        changes.push(describeChange(change));
        continue;
      case 'group-removed':
        groups.delete(change.group);
        changes.push(describeChange(change));
        continue;
      case 'upstream-added': {
        const live = groups.get(change.group)!;
        // at a new address: the old upstream goes (its sessions finish), the new one starts afresh
        if (live.get(change.upstream) !== undefined) live.remove(change.upstream);
        live.add(upstreamOptions(configuredUpstream(next, change.group, change.upstream)));
        break;
      }
      case 'upstream-removed': {
        const live = groups.get(change.group)!;
        touched.add(change.group);
        // already removed through the admin API: nothing to do, nothing to say
        if (live.get(change.upstream) === undefined) continue;
        live.remove(change.upstream);
        break;
      }
      case 'upstream-setting': {
        const live = groups.get(change.group)!;
        touched.add(change.group);
        // removed through the admin API: put back with the file's values below
        if (live.get(change.upstream) === undefined) continue;
        // Only what the file changed is applied, so a state or weight set through the API survives.
        const u = configuredUpstream(next, change.group, change.upstream);
        if (change.field === 'weight') live.setWeight(u.id, u.weight);
        else if (change.field === 'maxConnections') live.setMaxConnections(u.id, u.maxConnections);
        else live.setState(u.id, u.state);
        break;
      }
      case 'upstream-health-check':
        touched.add(change.group);
        if (groups.get(change.group)!.get(change.upstream) === undefined) continue;
        break;
      case 'balancer': {
        const cfg = next.groups[change.group];
        groups.get(change.group)!.setBalancer(createBalancer(cfg.balancer, { boundedLoad: cfg.boundedLoad }));
        break;
      }
      case 'group-setting':
        // The hash key and upstream TLS go in with the new runtime, health settings with the health restart.
        break;
      default:
        continue;
    }
    touched.add(change.group);
    changes.push(describeChange(change));
  }
  for (const name of touched) restoreRemoved(groups.get(name)!, next, changes);
  return groups;
}

/**
 * Upstreams the file lists that the live group lacks were removed through the admin API; a reload
 * that changes their group puts them back with the file's values, as reloads always have.
 */
function restoreRemoved(group: UpstreamGroup, next: SwitchyardConfig, changes: string[]): void {
  for (const u of next.groups[group.name]?.upstreams ?? []) {
    if (group.get(u.id) !== undefined) continue;
    group.add(upstreamOptions(u));
    changes.push(`upstream ${group.name}/${u.id} added`);
  }
}

function configuredUpstream(config: SwitchyardConfig, group: string, id: string): UpstreamConfig {
  return config.groups[group].upstreams.find((u) => u.id === id)!;
}

function upstreamOptions(u: UpstreamConfig) {
  return { address: u.address, id: u.id, weight: u.weight, maxConnections: u.maxConnections, state: u.state };
}
