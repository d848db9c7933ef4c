import type { BenchResult, TargetName } from '../types.js';

/** Every target in the order they run and are reported. */
export const TARGET_ORDER: readonly TargetName[] = [
  'direct',
  'switchyard',
  'switchyard-defaults',
  'switchyard-workers',
  'naive',
  'haproxy',
  'nginx',
];

/**
 * Results by scenario, scenarios in the order they first appear and each scenario's rows in
 * `TARGET_ORDER` (rows of an unknown target last, in their given order).
 */
export function groupByScenario(results: readonly BenchResult[]): Map<string, BenchResult[]> {
  const groups = new Map<string, BenchResult[]>();
  for (const result of results) {
    const rows = groups.get(result.scenario);
    if (rows === undefined) groups.set(result.scenario, [result]);
    else rows.push(result);
  }
  for (const rows of groups.values()) rows.sort((a, b) => targetRank(a.target) - targetRank(b.target));
  return groups;
}

/** Position of a target in `TARGET_ORDER`; unknown names sort after every known one. */
export function targetRank(target: string): number {
  const rank = TARGET_ORDER.indexOf(target as TargetName);
  return rank === -1 ? TARGET_ORDER.length : rank;
}

/** Switchyard compared with HAProxy, direct, naive and NGINX in one scenario, > 1 meaning Switchyard is better. */
export interface SwitchyardRatios {
  vsHaproxy?: number;
  vsDirect?: number;
  vsNaive?: number;
  vsNginx?: number;
}

/**
 * The ratios of a scenario's switchyard row: the ones the row carries, or computed from the other
 * rows' medians when the row lacks them.
 */
export function switchyardRatios(rows: readonly BenchResult[]): SwitchyardRatios {
  const switchyard = rows.find((r) => r.target === 'switchyard');
  if (switchyard === undefined) return {};
  const haproxy = rows.find((r) => r.target === 'haproxy');
  const direct = rows.find((r) => r.target === 'direct');
  const naive = rows.find((r) => r.target === 'naive');
  const nginx = rows.find((r) => r.target === 'nginx');
  return {
    vsHaproxy: switchyard.vsHaproxy ?? orientedRatio(switchyard, haproxy),
    vsDirect: switchyard.vsDirect ?? orientedRatio(switchyard, direct),
    vsNaive: switchyard.vsNaive ?? orientedRatio(switchyard, naive),
    vsNginx: switchyard.vsNginx ?? orientedRatio(switchyard, nginx),
  };
}

function orientedRatio(mine: BenchResult, other: BenchResult | undefined): number | undefined {
  if (other === undefined) return undefined;
  const ratio = mine.higherIsBetter ? mine.value / other.value : other.value / mine.value;
  return Number.isFinite(ratio) ? ratio : undefined;
}

/**
 * A file-name slug for each scenario (`TLS handshake` -> `tls-handshake`), unique among the given
 * scenarios: a later scenario whose slug is taken gets `-2`, `-3`, ...
 */
export function scenarioSlugs(scenarios: Iterable<string>): Map<string, string> {
  const slugs = new Map<string, string>();
  const taken = new Set<string>();
  for (const scenario of scenarios) {
    if (slugs.has(scenario)) continue;
    const base =
      scenario
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, '-')
        .replace(/^-+|-+$/g, '') || 'scenario';
    let slug = base;
    for (let n = 2; taken.has(slug); n++) slug = `${base}-${n}`;
    taken.add(slug);
    slugs.set(scenario, slug);
  }
  return slugs;
}
