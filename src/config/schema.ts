import { z } from 'zod';
import { SwitchyardError } from '../lib/errors.js';
import { formatHostPort, type HostPort, parseHostPort } from '../lib/upstreams/address.js';
import { MAX_DURATION_MS, parseDuration } from './duration.js';
import { showValue } from './show-value.js';
import { didYouMean } from './suggest.js';
import type {
  BalancerName,
  GroupConfig,
  ListenerConfig,
  SwitchyardConfig,
  TlsVersion,
  UpstreamConfig,
} from './types.js';

/** Balancer names a group may use, in the order the docs list them. */
export const BALANCER_NAMES = [
  'least-connections',
  'round-robin',
  'weighted-round-robin',
  'random',
  'power-of-two',
  'consistent-hash',
] as const satisfies readonly BalancerName[];

/** Rate-limit algorithm names. */
export const RATE_LIMIT_ALGORITHMS = ['fixed-window', 'token-bucket', 'sliding-window', 'gcra'] as const;

/** Log level names. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/** The literal group that stands for "the group named like the client's org". */
export const ORG_GROUP = '{org}';

/** The route org that matches any org. */
export const ANY_ORG = '*';

/** Rate-limit algorithms that read `burst`. */
const BURST_ALGORITHMS: readonly string[] = ['token-bucket', 'gcra'];
const TLS_VERSIONS: readonly TlsVersion[] = ['TLSv1.2', 'TLSv1.3'];
const GROUP_NAME = /^[A-Za-z0-9_.-]+$/;

type Ctx = z.core.$RefinementCtx;
type Path = (string | number)[];

// `at: 'key'` asks the locator to point at the key itself rather than its value.
function report(ctx: Ctx, path: Path, message: string, at: 'key' | 'value' = 'value'): void {
  ctx.addIssue({ code: 'custom', message, path, params: { at } });
}

function fail(ctx: Ctx, message: string): never {
  ctx.addIssue({ code: 'custom', message });
  return z.NEVER;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A non-empty string. */
function text() {
  return z.string().min(1);
}

/** A whole number in [min, max]. */
function integer(min: number, max?: number) {
  const range = max === undefined ? `>= ${min}` : `from ${min} to ${max}`;
  return z.number().superRefine((n, ctx) => {
    if (!Number.isInteger(n) || n < min || (max !== undefined && n > max)) {
      ctx.addIssue({ code: 'custom', message: `expected a whole number ${range}, got ${n}` });
    }
  });
}

/** A duration (see parseDuration) as milliseconds; 0 only when `allowZero` (it then means "disabled"). */
function duration(allowZero: boolean) {
  return z.any().transform((value: unknown, ctx): number => {
    if (value === undefined) return fail(ctx, 'required');
    const ms = parseDuration(value);
    if (ms === undefined) return fail(ctx, `expected a duration like "5m", got ${showValue(value)}`);
    if (ms === 0 && !allowZero) return fail(ctx, `expected a duration above 0, got ${showValue(value)}`);
    if (ms > MAX_DURATION_MS) {
      return fail(
        ctx,
        `expected a duration of at most 24d (the longest timer Node supports), got ${showValue(value)}`,
      );
    }
    return ms;
  });
}

/** `host:port` checked by parseHostPort; with `allowPortZero`, port 0 ("any free port") too. */
export function parseAddress(text: string, allowPortZero: boolean): HostPort {
  const zero = allowPortZero ? /^(.*):0+$/.exec(text) : null;
  if (zero === null) return parseHostPort(text);
  try {
    return { ...parseHostPort(`${zero[1]}:1`), port: 0 };
  } catch {
    // Host problems are found before the port is looked at, so this throws them with the text as written.
    return parseHostPort(text);
  }
}

/** A `host:port` string, returned in canonical form. */
function address(allowPortZero: boolean) {
  return z.any().transform((value: unknown, ctx): string => {
    if (value === undefined) return fail(ctx, 'required');
    if (typeof value !== 'string')
      return fail(ctx, `invalid address ${showValue(value)}: expected "host:port"`);
    try {
      const hp = parseAddress(value, allowPortZero);
      return formatHostPort(hp.host, hp.port);
    } catch (err) {
      return fail(ctx, err instanceof SwitchyardError ? err.message : String(err));
    }
  });
}

/** A TLS version, with a pointed refusal of the obsolete ones. */
function tlsVersion() {
  return z.any().transform((value: unknown, ctx): TlsVersion => {
    if (value === 'TLSv1.2' || value === 'TLSv1.3') return value;
    if (value === 'TLSv1' || value === 'TLSv1.1') {
      return fail(
        ctx,
        `${value} is not supported (obsolete and insecure, RFC 8996); use "TLSv1.2" or "TLSv1.3"`,
      );
    }
    const hint = typeof value === 'string' ? didYouMean(value, TLS_VERSIONS) : '';
    return fail(ctx, `expected one of "TLSv1.2", "TLSv1.3", got ${showValue(value)}${hint}`);
  });
}

const tlsSchema = z
  .strictObject({
    cert: text(),
    key: text(),
    clientCa: text(),
    crl: text().optional(),
    minVersion: tlsVersion().default('TLSv1.2'),
    maxVersion: tlsVersion().default('TLSv1.3'),
    ciphers: text().optional(),
    ecdhCurve: text().optional(),
    orgRule: z.enum(['first', 'any']).default('any'),
  })
  .superRefine((tls, ctx) => {
    if (TLS_VERSIONS.indexOf(tls.maxVersion) < TLS_VERSIONS.indexOf(tls.minVersion)) {
      report(ctx, ['maxVersion'], `"${tls.maxVersion}" is below minVersion "${tls.minVersion}"`);
    }
  });

const routeSchema = z.strictObject({
  org: text(),
  clientIds: z.array(text()).min(1).optional(),
  group: text(),
});

const handshakeRateSchema = z
  .strictObject({
    perSource: integer(0).default(200),
    window: duration(false).default(1000),
  })
  .prefault({});

/** Exactly one of `tls` (+ `routes`) or `group`; runs on partly parsed input so it reports alongside other issues. */
function checkListenerKind(value: unknown, ctx: Ctx): void {
  if (!isRecord(value)) return;
  const who = typeof value.name === 'string' ? `listener "${value.name}"` : 'this listener';
  const hasTls = value.tls !== undefined;
  const hasGroup = value.group !== undefined;
  const hasRoutes = value.routes !== undefined;
  if (hasTls && hasGroup) {
    report(
      ctx,
      ['group'],
      `${who} has both "tls" and "group"; a TLS listener picks groups with "routes", a plain TCP listener has "group" and no "tls"`,
      'key',
    );
  } else if (hasTls && !hasRoutes) {
    report(ctx, ['routes'], `${who} has "tls" but no "routes"; add routes that map client orgs to groups`);
  } else if (!hasTls && hasRoutes) {
    report(
      ctx,
      ['routes'],
      `${who} has "routes" but no "tls"; routes match client certificate orgs, so they need "tls" (a plain TCP listener uses "group")`,
      'key',
    );
  } else if (!hasTls && !hasGroup) {
    report(ctx, [], `${who} needs either "tls" with "routes" (mutual TLS) or "group" (plain TCP)`);
  }
}

const listenerSchema = z
  .strictObject({
    name: text(),
    bind: address(true),
    maxConnections: integer(0).default(10000),
    handshakeRate: handshakeRateSchema,
    maxPendingHandshakes: integer(0).default(512),
    proxyProtocol: z.enum(['none', 'v1', 'v2']).default('none'),
    tls: tlsSchema.optional(),
    routes: z.array(routeSchema).min(1).optional(),
    group: text().optional(),
  })
  .superRefine(checkListenerKind, { when: () => true })
  .transform((l): ListenerConfig => {
    const base = {
      name: l.name,
      bind: l.bind,
      maxConnections: l.maxConnections,
      handshakeRate: l.handshakeRate,
      maxPendingHandshakes: l.maxPendingHandshakes,
      proxyProtocol: l.proxyProtocol,
    };
    // checkListenerKind has made sure exactly one of the two shapes is present.
    if (l.tls !== undefined) return { kind: 'tls', ...base, tls: l.tls, routes: l.routes ?? [] };
    return { kind: 'tcp', ...base, group: l.group ?? '' };
  });

// The id default (the address) is filled in by the group, after its duplicate check has seen which
// upstreams wrote an id.
const upstreamSchema = z.strictObject({
  address: address(false),
  id: text().optional(),
  weight: z
    .number()
    .superRefine((n, ctx) => {
      if (!(n > 0)) ctx.addIssue({ code: 'custom', message: `expected a number above 0, got ${n}` });
    })
    .default(1),
  maxConnections: integer(0).default(0),
  state: z.enum(['up', 'down', 'draining', 'maintenance']).default('up'),
});

/** The id an upstream will get, from partly parsed input; undefined when its address is unusable. */
function upstreamId(value: unknown): string | undefined {
  if (!isRecord(value)) return undefined;
  if (typeof value.id === 'string') return value.id;
  if (typeof value.address !== 'string') return undefined;
  try {
    const hp = parseHostPort(value.address);
    return formatHostPort(hp.host, hp.port);
  } catch {
    return undefined;
  }
}

function checkGroup(value: unknown, ctx: Ctx): void {
  if (!isRecord(value)) return;
  const balancer = value.balancer ?? 'least-connections';
  if (balancer !== 'consistent-hash' && BALANCER_NAMES.some((b) => b === balancer)) {
    for (const key of ['hashKey', 'boundedLoad']) {
      if (value[key] !== undefined) {
        report(ctx, [key], `only used by balancer "consistent-hash" (this group uses "${balancer}")`, 'key');
      }
    }
  }
  if (!Array.isArray(value.upstreams)) return;
  const seen = new Map<string, number>();
  value.upstreams.forEach((u, i) => {
    const id = upstreamId(u);
    if (id === undefined) return;
    const first = seen.get(id);
    if (first === undefined) {
      seen.set(id, i);
      return;
    }
    const key = isRecord(u) && typeof u.id === 'string' ? 'id' : 'address';
    const hint = key === 'address' ? '; give one an "id" to list the same address twice' : '';
    report(ctx, ['upstreams', i, key], `duplicate upstream id "${id}" (also upstreams[${first}])${hint}`);
  });
}

const healthCheckSchema = z.strictObject({
  type: z.enum(['tcp', 'tls', 'send-expect', 'http']).default('tcp'),
  interval: duration(false).default(5000),
  downInterval: duration(false).optional(),
  timeout: duration(false).default(2000),
  rise: integer(1, 100).default(2),
  fall: integer(1, 100).default(3),
  jitter: z.number().min(0).max(1).default(0.1),
  initialState: z.enum(['healthy', 'unhealthy']).default('healthy'),
  port: integer(1, 65535).optional(),
  path: text().optional(),
  expectStatus: text().optional(),
  send: text().optional(),
  expect: text().optional(),
});

const passiveHealthSchema = z
  .strictObject({
    consecutiveFailures: integer(1, 1000).default(5),
    baseEjectionTime: duration(false).default(30_000),
    maxEjectionTime: duration(false).default(300_000),
    maxEjectionPercent: integer(0, 100).default(50),
  })
  .superRefine((p, ctx) => {
    if (p.maxEjectionTime < p.baseEjectionTime) {
      ctx.addIssue({
        code: 'custom',
        path: ['maxEjectionTime'],
        message: `must be at least baseEjectionTime (${p.baseEjectionTime} ms), got ${p.maxEjectionTime} ms`,
      });
    }
  });

const groupSchema = z
  .strictObject({
    balancer: z.enum(BALANCER_NAMES).default('least-connections'),
    healthCheck: healthCheckSchema.optional(),
    passiveHealth: passiveHealthSchema.optional(),
    slowStart: duration(true).default(0),
    shutdownSessionsOnDown: z.boolean().default(false),
    hashKey: z.enum(['source-ip', 'client-id']).optional(),
    boundedLoad: z
      .number()
      .superRefine((n, ctx) => {
        if (n !== 0 && !(n >= 1)) {
          ctx.addIssue({ code: 'custom', message: `expected 0 (off) or a number >= 1, got ${n}` });
        }
      })
      .optional(),
    upstreams: z.array(upstreamSchema).min(1),
  })
  .superRefine(checkGroup, { when: () => true })
  .transform(
    (g): GroupConfig => ({
      balancer: g.balancer,
      hashKey: g.hashKey ?? 'client-id',
      boundedLoad: g.boundedLoad ?? 0,
      ...(g.healthCheck === undefined ? {} : { healthCheck: g.healthCheck }),
      ...(g.passiveHealth === undefined ? {} : { passiveHealth: g.passiveHealth }),
      slowStart: g.slowStart,
      shutdownSessionsOnDown: g.shutdownSessionsOnDown,
      upstreams: g.upstreams.map(
        (u): UpstreamConfig => ({
          address: u.address,
          id: u.id ?? u.address,
          weight: u.weight,
          maxConnections: u.maxConnections,
          state: u.state,
        }),
      ),
    }),
  );

const groupsSchema = z.record(z.string(), groupSchema).superRefine(
  (groups: unknown, ctx) => {
    if (!isRecord(groups)) return;
    const names = Object.keys(groups);
    if (names.length === 0) report(ctx, [], 'expected at least 1 group');
    for (const name of names) {
      if (!GROUP_NAME.test(name)) {
        report(ctx, [name], `group name "${name}" may only use letters, digits, "_", "." and "-"`, 'key');
      }
    }
  },
  { when: () => true },
);

const rateLimitSchema = z
  .strictObject({
    algorithm: z.enum(RATE_LIMIT_ALGORITHMS).default('fixed-window'),
    limit: integer(1),
    window: duration(false),
    burst: integer(1).optional(),
  })
  .superRefine(
    (value: unknown, ctx) => {
      if (!isRecord(value) || value.burst === undefined) return;
      const algorithm = value.algorithm ?? 'fixed-window';
      if (typeof algorithm === 'string' && !BURST_ALGORITHMS.includes(algorithm)) {
        report(ctx, ['burst'], `only used by "token-bucket" and "gcra" (algorithm is "${algorithm}")`, 'key');
      }
    },
    { when: () => true },
  );

const timeoutsSchema = z
  .strictObject({
    handshake: duration(false).default(5000),
    connect: duration(false).default(2000),
    idle: duration(true).default(300_000),
    maxLifetime: duration(true).default(0),
    shutdownGrace: duration(true).default(30_000),
    shutdownJitter: duration(true).default(1000),
  })
  .prefault({});

/** Route and listener group references must name a defined group; checked across the whole file. */
function checkReferences(value: unknown, ctx: Ctx): void {
  if (!isRecord(value) || !Array.isArray(value.listeners)) return;
  const groups = isRecord(value.groups) ? Object.keys(value.groups) : undefined;
  const names = new Map<string, number>();
  value.listeners.forEach((l, i) => {
    if (!isRecord(l)) return;
    if (typeof l.name === 'string') {
      const first = names.get(l.name);
      if (first === undefined) names.set(l.name, i);
      else
        report(
          ctx,
          ['listeners', i, 'name'],
          `duplicate listener name "${l.name}" (also listeners[${first}])`,
        );
    }
    if (groups === undefined) return;
    const unknownGroup = (name: string) =>
      `group "${name}" is not defined in groups${didYouMean(name, groups)}`;
    if (typeof l.group === 'string' && l.tls === undefined && !groups.includes(l.group)) {
      report(ctx, ['listeners', i, 'group'], unknownGroup(l.group));
    }
    if (!Array.isArray(l.routes)) return;
    l.routes.forEach((r, j) => {
      if (!isRecord(r) || typeof r.group !== 'string') return;
      const path = ['listeners', i, 'routes', j, 'group'];
      if (r.group === ORG_GROUP) {
        // With a literal org the "{org}" group is known now; with "*" it is only known per client.
        if (typeof r.org === 'string' && r.org !== ANY_ORG && !groups.includes(r.org)) {
          report(ctx, path, `"${ORG_GROUP}" here means group "${r.org}", which is not defined in groups`);
        }
      } else if (!groups.includes(r.group)) {
        report(ctx, path, unknownGroup(r.group));
      }
    });
  });
}

/**
 * The configuration file's schema. Parsing returns a {@link SwitchyardConfig} with defaults filled
 * in and durations in milliseconds; TLS file paths are returned as written (the loader makes them
 * absolute). Issues carry `params.at === 'key'` when they are about a key rather than its value.
 */
export const configSchema: z.ZodType<SwitchyardConfig> = z
  .strictObject({
    listeners: z.array(listenerSchema).min(1),
    groups: groupsSchema,
    rateLimit: rateLimitSchema.optional(),
    concurrency: z.strictObject({ perClient: integer(0).default(0) }).prefault({}),
    timeouts: timeoutsSchema,
    connect: z.strictObject({ attempts: integer(1, 10).default(3) }).prefault({}),
    admin: z
      .strictObject({
        bind: address(true).default('127.0.0.1:9090'),
        token: text().optional(),
      })
      .optional(),
    log: z
      .strictObject({
        level: z.enum(LOG_LEVELS).default('info'),
        format: z.enum(['auto', 'json', 'pretty']).default('auto'),
      })
      .prefault({}),
    reload: z
      .strictObject({
        watchConfig: z.boolean().default(false),
        watchCertificates: z.boolean().default(true),
        interval: duration(false).default(2000),
      })
      .prefault({}),
  })
  .superRefine(checkReferences, { when: () => true });
