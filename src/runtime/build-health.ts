import { readFile } from 'node:fs/promises';
import { formatKeyPath } from '../config/config-error.js';
import {
  HEALTH_CHECK_DEFAULTS,
  HEALTH_TLS_FILE_KEYS,
  healthTlsBlocks,
  mergeHealthCheck,
  verifiesUpstream,
} from '../config/health-check.js';
import type {
  GroupConfig,
  HealthCheckConfig,
  HealthCheckTlsConfig,
  SwitchyardConfig,
} from '../config/types.js';
import { ErrorCodes, SwitchyardError } from '../lib/errors.js';
import type { GroupHealthOptions } from '../lib/health/group-health.js';
import type { ActiveCheckOverrides } from '../lib/health/health-checker.js';
import type { ProbeTlsOptions } from '../lib/health/probe-connection.js';
import { createHealthProbe, type HealthProbeOptions } from '../lib/health/probe-registry.js';
import { whyUnreadable } from './read-pem.js';
import { clientMaterialProblem } from './tls-problem.js';

/** The contents of the files health checks name, by absolute path. */
export type HealthFiles = ReadonlyMap<string, string>;

/** A file a health check names that cannot be used, at the key path that names it. */
export interface HealthFileProblem {
  /** Key path, e.g. `['groups', 'web', 'upstreams', 0, 'healthCheck', 'tls', 'cert']`. */
  path: (string | number)[];
  /** What is wrong, without the key path. */
  message: string;
}

/**
 * Reads every file the health checks' `tls` blocks name and checks each block is usable: its key
 * matches its certificate, its CA file holds a certificate. A file named twice is read once.
 */
export async function readHealthFiles(
  config: SwitchyardConfig,
): Promise<{ files: Map<string, string>; problems: HealthFileProblem[] }> {
  const files = new Map<string, string>();
  const problems: HealthFileProblem[] = [];
  for (const block of healthTlsBlocks(config)) {
    const pem: Partial<Record<(typeof HEALTH_TLS_FILE_KEYS)[number], string>> = {};
    let readable = true;
    for (const key of HEALTH_TLS_FILE_KEYS) {
      const path = block.tls[key];
      if (path === undefined) continue;
      try {
        const text = files.get(path) ?? (await readFile(path, 'utf8'));
        files.set(path, text);
        pem[key] = text;
      } catch (err) {
        problems.push({
          path: [...block.path, key],
          message: `cannot read "${path}": ${whyUnreadable(err)}`,
        });
        readable = false;
      }
    }
    const why = readable ? clientMaterialProblem(pem, block.tls) : undefined;
    if (why !== undefined) {
      problems.push({ path: why.key === '' ? block.path : [...block.path, why.key], message: why.message });
    }
  }
  return { files, problems };
}

/** {@link readHealthFiles} for building a runtime: the first problem is thrown as `ERR_CONFIG_READ`. */
export async function loadHealthFiles(config: SwitchyardConfig): Promise<HealthFiles> {
  const { files, problems } = await readHealthFiles(config);
  const first = problems[0];
  if (first !== undefined) {
    throw new SwitchyardError(ErrorCodes.ERR_CONFIG_READ, `${formatKeyPath(first.path)}: ${first.message}`);
  }
  return files;
}

/** Every group's health checking plan, by group name, from files already read. */
export function planHealth(config: SwitchyardConfig, files: HealthFiles): Map<string, GroupHealthOptions> {
  const plans = new Map<string, GroupHealthOptions>();
  for (const [name, g] of Object.entries(config.groups)) {
    const plan = planGroupHealth(g, files);
    if (plan !== undefined) plans.set(name, plan);
  }
  return plans;
}

/**
 * What a group's health checking is built from, or undefined when it has none. Upstreams with a
 * `healthCheck` of their own get the merged check as the checker's override for their id; without a
 * group check the others stay unchecked. Every file comes from `files` and every probe option was
 * validated by the schema, so this cannot fail once the files are loaded.
 */
export function planGroupHealth(g: GroupConfig, files: HealthFiles): GroupHealthOptions | undefined {
  const overrides: Record<string, ActiveCheckOverrides> = {};
  for (const u of g.upstreams) {
    const own = mergeHealthCheck(g.healthCheck, u.healthCheck);
    if (u.healthCheck !== undefined && own !== undefined) overrides[u.id] = activeSettings(own, files);
  }
  const active = g.healthCheck !== undefined || Object.keys(overrides).length > 0;
  if (!active && g.passiveHealth === undefined && g.slowStart === 0) return undefined;
  const base =
    g.healthCheck === undefined
      ? { ...activeSettings(HEALTH_CHECK_DEFAULTS, files), enabled: false }
      : activeSettings(g.healthCheck, files);
  return {
    active: active ? { ...base, overrides } : undefined,
    passive: g.passiveHealth,
    slowStart: g.slowStart > 0 ? g.slowStart : undefined,
  };
}

function activeSettings(hc: HealthCheckConfig, files: HealthFiles) {
  return {
    probe: createHealthProbe(probeOptions(hc, files)),
    interval: hc.interval,
    downInterval: hc.downInterval,
    timeout: hc.timeout,
    rise: hc.rise,
    fall: hc.fall,
    jitter: hc.jitter,
    initialState: hc.initialState,
    port: hc.port,
    enabled: hc.enabled,
  };
}

function probeOptions(hc: HealthCheckConfig, files: HealthFiles): HealthProbeOptions {
  const tls = hc.tls === undefined ? undefined : probeTls(hc.tls, files);
  switch (hc.type) {
    case 'tcp':
      return { type: 'tcp' };
    case 'tls':
      // Without a `tls` block the check proves the upstream speaks TLS; whose certificate it shows is
      // then not its business.
      return { type: 'tls', ...(tls ?? { verify: false }) };
    case 'send-expect':
      return { type: 'send-expect', send: hc.send, expect: hc.expect ?? '', tls };
    case 'http':
      return { type: 'http', path: hc.path, expectStatus: hc.expectStatus, tls };
    case 'udp':
      // The schema refuses a udp check without send or expect.
      return { type: 'udp', send: hc.send ?? '', expect: hc.expect ?? '' };
  }
}

function probeTls(tls: HealthCheckTlsConfig, files: HealthFiles): ProbeTlsOptions {
  const file = (path: string | undefined): string | undefined => {
    if (path === undefined) return undefined;
    const text = files.get(path);
    // A check quietly run without its certificate would look like the upstream's fault.
    if (text === undefined)
      throw new SwitchyardError(ErrorCodes.ERR_INTERNAL, `health check file "${path}" was not loaded`);
    return text;
  };
  return {
    cert: file(tls.cert),
    key: file(tls.key),
    ca: file(tls.ca),
    servername: tls.servername,
    verify: verifiesUpstream(tls),
  };
}
