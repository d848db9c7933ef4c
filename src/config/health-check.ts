import { ACTIVE_CHECK_DEFAULTS } from '../lib/health/health-checker.js';
import type {
  HealthCheckConfig,
  HealthCheckOverride,
  HealthCheckTlsConfig,
  HealthCheckType,
  SwitchyardConfig,
} from './types.js';

/** Check types, in the order the docs list them. */
export const HEALTH_CHECK_TYPES = [
  'tcp',
  'tls',
  'send-expect',
  'http',
  'udp',
] as const satisfies readonly HealthCheckType[];

/**
 * A group's check when it writes nothing else; also what an upstream's own check starts from when
 * its group has none. The schema's defaults are these, so the two cannot drift apart.
 */
export const HEALTH_CHECK_DEFAULTS = {
  type: 'tcp',
  ...ACTIVE_CHECK_DEFAULTS,
} as const satisfies HealthCheckConfig;

/** Keys only some check types read, with those types. */
export const TYPE_SPECIFIC_KEYS = {
  path: ['http'],
  expectStatus: ['http'],
  send: ['send-expect', 'udp'],
  expect: ['send-expect', 'udp'],
  tls: ['tls', 'http', 'send-expect'],
} as const satisfies Record<string, readonly HealthCheckType[]>;

/**
 * The check an upstream runs: the keys its own `healthCheck` sets over its group's (`tls` key by
 * key), or over {@link HEALTH_CHECK_DEFAULTS} when the group has none; undefined when neither has one.
 * Merging what was written (not what was defaulted) is what lets an upstream change one key only.
 */
export function mergeHealthCheck(
  group: HealthCheckConfig | undefined,
  upstream: HealthCheckOverride | undefined,
): HealthCheckConfig | undefined {
  if (upstream === undefined) return group;
  const base: HealthCheckConfig = group ?? HEALTH_CHECK_DEFAULTS;
  const merged: HealthCheckConfig = { ...base, ...definedOnly(upstream) };
  const tls =
    upstream.tls === undefined || base.tls === undefined
      ? (upstream.tls ?? base.tls)
      : { ...base.tls, ...definedOnly(upstream.tls) };
  if (tls === undefined) delete merged.tls;
  else merged.tls = tls;
  return merged;
}

/** Whether a check verifies the upstream's certificate: as written, else when a CA to verify against is given. */
export function verifiesUpstream(tls: HealthCheckTlsConfig): boolean {
  return tls.verify ?? tls.ca !== undefined;
}

/** A `tls` block of a health check, with the key path it was written at. */
export interface HealthTlsBlock {
  /** Key path of the block, e.g. `['groups', 'web', 'upstreams', 0, 'healthCheck', 'tls']`. */
  readonly path: (string | number)[];
  /** The block itself (the loader rewrites its paths in place). */
  readonly tls: HealthCheckTlsConfig;
}

/** Every health check `tls` block of the configuration, groups' and upstreams', in file order. */
export function healthTlsBlocks(config: SwitchyardConfig): HealthTlsBlock[] {
  const blocks: HealthTlsBlock[] = [];
  for (const [name, g] of Object.entries(config.groups)) {
    if (g.healthCheck?.tls !== undefined) {
      blocks.push({ path: ['groups', name, 'healthCheck', 'tls'], tls: g.healthCheck.tls });
    }
    g.upstreams.forEach((u, i) => {
      if (u.healthCheck?.tls === undefined) return;
      blocks.push({ path: ['groups', name, 'upstreams', i, 'healthCheck', 'tls'], tls: u.healthCheck.tls });
    });
  }
  return blocks;
}

/** The file-naming keys of a health check `tls` block. */
export const HEALTH_TLS_FILE_KEYS = ['cert', 'key', 'ca'] as const;

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
