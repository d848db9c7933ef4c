import { z } from 'zod';
import { SwitchyardError } from '../lib/errors.js';
import { HttpProbe, parseStatusRanges } from '../lib/health/http-probe.js';
import { formatHostPort, type HostPort, parseHostPort } from '../lib/upstreams/address.js';
import { MAX_DURATION_MS, parseDuration } from './duration.js';
import { HEALTH_CHECK_DEFAULTS, HEALTH_CHECK_TYPES, TYPE_SPECIFIC_KEYS } from './health-check.js';
import { showValue } from './show-value.js';
import { didYouMean } from './suggest.js';
import type {
  BalancerName,
  GroupConfig,
  HealthCheckType,
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

/**
 * A `host:port` string, returned in canonical form. A bind address (`role: 'bind'`) may use port 0,
 * and one without a host (`:8443`, `*:8443`, `8443`, as HAProxy and NGINX write it) gets a hint.
 */
function address(role: 'bind' | 'upstream') {
  return z.any().transform((value: unknown, ctx): string => {
    if (value === undefined) return fail(ctx, 'required');
    if (typeof value !== 'string' && typeof value !== 'number')
      return fail(ctx, `invalid address ${showValue(value)}: expected "host:port"`);
    const text = String(value);
    const port = role === 'bind' ? /^(?:\*?:)?(\d+)$/.exec(text)?.[1] : undefined;
    if (port !== undefined) {
      return fail(
        ctx,
        `invalid address ${showValue(value)}: no host; write "0.0.0.0:${port}" for every IPv4 address, "[::]:${port}" for every IPv6 (and, on most systems, IPv4) address, or "127.0.0.1:${port}" for this machine only`,
      );
    }
    if (typeof value !== 'string')
      return fail(ctx, `invalid address ${showValue(value)}: expected "host:port"`);
    try {
      const hp = parseAddress(value, role === 'bind');
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

/**
 * `perSource` defaults by listener kind (see {@link DEFAULT_PER_SOURCE}), so it is left unset here and
 * filled in once the kind is known.
 */
const handshakeRateSchema = z
  .strictObject({
    perSource: integer(0).optional(),
    window: duration(false).default(1000),
  })
  .prefault({});

/**
 * The per-source guard's default per listener kind. A TLS listener protects its handshakes (CPU) from
 * one address opening connections in a loop; 1000 per second lets a NAT gateway or a node's SNAT
 * carry many clients. A plain TCP listener has no handshake to protect, and one busy source (a NAT,
 * a load test) is normal traffic there, so the guard is off unless configured.
 */
export const DEFAULT_PER_SOURCE = { tls: 1000, tcp: 0 } as const;

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
    bind: address('bind'),
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
    const kind = l.tls !== undefined ? 'tls' : 'tcp';
    const base = {
      name: l.name,
      bind: l.bind,
      maxConnections: l.maxConnections,
      handshakeRate: {
        perSource: l.handshakeRate.perSource ?? DEFAULT_PER_SOURCE[kind],
        window: l.handshakeRate.window,
      },
      maxPendingHandshakes: l.maxPendingHandshakes,
      proxyProtocol: l.proxyProtocol,
    };
    // checkListenerKind has made sure exactly one of the two shapes is present.
    if (l.tls !== undefined) return { kind: 'tls', ...base, tls: l.tls, routes: l.routes ?? [] };
    return { kind: 'tcp', ...base, group: l.group ?? '' };
  });

/** An http check's request path, checked as the probe will check it. */
function httpPath() {
  return text().superRefine((path, ctx) => {
    try {
      new HttpProbe({ path });
    } catch {
      ctx.addIssue({
        code: 'custom',
        message: `expected a path starting with "/", without spaces or control characters, got ${showValue(path)}`,
      });
    }
  });
}

/** Accepted HTTP statuses: `200`, `"200-399"` or `"200,204,300-399"`, kept as text. */
function statusList() {
  return z.any().transform((value: unknown, ctx): string => {
    if (typeof value !== 'string' && typeof value !== 'number') {
      return fail(ctx, `expected statuses like 200 or "200-399", got ${showValue(value)}`);
    }
    try {
      parseStatusRanges(value);
    } catch {
      return fail(
        ctx,
        `expected statuses from 100 to 599 like 200, "200-399" or "200,204", got ${showValue(value)}`,
      );
    }
    return String(value);
  });
}

const healthCheckTlsSchema = z
  .strictObject({
    cert: text().optional(),
    key: text().optional(),
    ca: text().optional(),
    servername: text().optional(),
    verify: z.boolean().optional(),
  })
  .superRefine((tls, ctx) => {
    // Checked per block: a certificate from one level and a key from another are never a pair.
    if (tls.cert !== undefined && tls.key === undefined)
      report(ctx, ['cert'], 'needs "key" next to it', 'key');
    if (tls.key !== undefined && tls.cert === undefined)
      report(ctx, ['key'], 'needs "cert" next to it', 'key');
  });

// Every key optional and none defaulted: an upstream's check replaces only what it writes.
const healthCheckKeys = {
  type: z.enum(HEALTH_CHECK_TYPES).optional(),
  enabled: z.boolean().optional(),
  interval: duration(false).optional(),
  downInterval: duration(false).optional(),
  timeout: duration(false).optional(),
  rise: integer(1, 100).optional(),
  fall: integer(1, 100).optional(),
  // below 1: a spread of 100 % could make a wait of 0
  jitter: z.number().min(0).lt(1).optional(),
  initialState: z.enum(['healthy', 'unhealthy']).optional(),
  port: integer(1, 65535).optional(),
  path: httpPath().optional(),
  expectStatus: statusList().optional(),
  send: text().optional(),
  expect: text().optional(),
  tls: healthCheckTlsSchema.optional(),
};

const healthCheckOverrideSchema = z.strictObject(healthCheckKeys);

const HC = HEALTH_CHECK_DEFAULTS;
const healthCheckSchema = z.strictObject({
  ...healthCheckKeys,
  type: z.enum(HEALTH_CHECK_TYPES).default(HC.type),
  enabled: z.boolean().default(HC.enabled),
  interval: duration(false).default(HC.interval),
  timeout: duration(false).default(HC.timeout),
  rise: integer(1, 100).default(HC.rise),
  fall: integer(1, 100).default(HC.fall),
  jitter: z.number().min(0).lt(1).default(HC.jitter),
  initialState: z.enum(['healthy', 'unhealthy']).default(HC.initialState),
});

// The id default (the address) is filled in by the group, after its duplicate check has seen which
// upstreams wrote an id.
const upstreamSchema = z.strictObject({
  address: address('upstream'),
  id: text().optional(),
  weight: z
    .number()
    .superRefine((n, ctx) => {
      if (!(n > 0)) ctx.addIssue({ code: 'custom', message: `expected a number above 0, got ${n}` });
    })
    .default(1),
  maxConnections: integer(0).default(0),
  state: z.enum(['up', 'down', 'draining', 'maintenance']).default('up'),
  healthCheck: healthCheckOverrideSchema.optional(),
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
  checkHealthChecks(value, value.upstreams, ctx);
}

function checkType(value: unknown): HealthCheckType | undefined {
  return HEALTH_CHECK_TYPES.find((t) => t === value);
}

/**
 * What only the group as a whole can tell: keys of another check type (the type may come from the
 * group or the upstream), and a send-expect check without `expect`. Runs on partly parsed input,
 * so a bad type is left to its own issue.
 */
function checkHealthChecks(group: Record<string, unknown>, upstreams: unknown[], ctx: Ctx): void {
  const groupCheck = isRecord(group.healthCheck) ? group.healthCheck : undefined;
  const groupType = groupCheck === undefined ? undefined : checkType(groupCheck.type ?? HC.type);
  // Upstreams whose own check has another type still read the group's keys they do not set.
  const inheriting: { own: Record<string, unknown>; type: HealthCheckType }[] = [];
  upstreams.forEach((u, i) => {
    const own = isRecord(u) && isRecord(u.healthCheck) ? u.healthCheck : undefined;
    if (own === undefined) return;
    const type = checkType(own.type ?? groupCheck?.type ?? HC.type);
    if (type === undefined) return;
    inheriting.push({ own, type });
    for (const key of typeSpecificKeys(own)) {
      if ((TYPE_SPECIFIC_KEYS[key] as readonly string[]).includes(type)) continue;
      const why = `only used by ${typeList(key)} (this upstream's check is "${type}")`;
      report(ctx, ['upstreams', i, 'healthCheck', key], why, 'key');
    }
    // With the type from the group, a missing expect is the group's to report.
    if (own.type === 'send-expect' && (own.expect ?? groupCheck?.expect) === undefined) {
      report(ctx, ['upstreams', i, 'healthCheck'], SEND_EXPECT_NEEDS_EXPECT);
    }
  });
  if (groupCheck === undefined || groupType === undefined) return;
  for (const key of typeSpecificKeys(groupCheck)) {
    // The group's own type always reads them: upstreams added through the admin API get its check.
    const readers = new Set([
      groupType,
      ...inheriting.filter((u) => u.own[key] === undefined).map((u) => u.type),
    ]);
    if (TYPE_SPECIFIC_KEYS[key].some((t) => readers.has(t))) continue;
    const types = [...readers].map((t) => `"${t}"`).join(', ');
    report(
      ctx,
      ['healthCheck', key],
      `only used by ${typeList(key)} (this group's checks are ${types})`,
      'key',
    );
  }
  if (groupType === 'send-expect' && groupCheck.expect === undefined) {
    report(ctx, ['healthCheck'], SEND_EXPECT_NEEDS_EXPECT);
  }
}

const SEND_EXPECT_NEEDS_EXPECT = 'type "send-expect" needs "expect", the text the reply must contain';

type TypeSpecificKey = keyof typeof TYPE_SPECIFIC_KEYS;

function typeSpecificKeys(check: Record<string, unknown>): TypeSpecificKey[] {
  return (Object.keys(TYPE_SPECIFIC_KEYS) as TypeSpecificKey[]).filter((k) => check[k] !== undefined);
}

function typeList(key: TypeSpecificKey): string {
  const types = TYPE_SPECIFIC_KEYS[key].map((t) => `"${t}"`);
  if (types.length === 1) return `type ${types[0]}`;
  return `types ${types.slice(0, -1).join(', ')} and ${types[types.length - 1]}`;
}

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
          ...(u.healthCheck === undefined ? {} : { healthCheck: u.healthCheck }),
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
        bind: address('bind').default('127.0.0.1:9090'),
        token: text().optional(),
      })
      .optional(),
    log: z
      .strictObject({
        level: z.enum(LOG_LEVELS).default('info'),
        format: z.enum(['auto', 'json', 'pretty']).default('auto'),
        accessLog: text().default('stdout'),
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
