import { z } from 'zod';
import { HttpProbe, parseStatusRanges } from '../lib/health/http-probe.js';
import { formatHostPort, parseHostPort } from '../lib/upstreams/address.js';
import { HEALTH_CHECK_DEFAULTS, HEALTH_CHECK_TYPES, TYPE_SPECIFIC_KEYS } from './health-check.js';
import {
  address,
  BALANCER_NAMES,
  type Ctx,
  duration,
  fail,
  GROUP_NAME,
  integer,
  isRecord,
  report,
  text,
} from './schema-common.js';
import { upstreamTlsSchema } from './schema-upstream-tls.js';
import { showValue } from './show-value.js';
import type { GroupConfig, HealthCheckType, UpstreamConfig } from './types.js';

// The `groups.<name>` part of the configuration schema: upstreams, health checks, passive health.

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
    if (
      own.type === 'udp' &&
      ((own.send ?? groupCheck?.send) === undefined || (own.expect ?? groupCheck?.expect) === undefined)
    ) {
      report(ctx, ['upstreams', i, 'healthCheck'], UDP_NEEDS_SEND_EXPECT);
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
  if (groupType === 'udp' && (groupCheck.send === undefined || groupCheck.expect === undefined)) {
    report(ctx, ['healthCheck'], UDP_NEEDS_SEND_EXPECT);
  }
}

const SEND_EXPECT_NEEDS_EXPECT = 'type "send-expect" needs "expect", the text the reply must contain';
const UDP_NEEDS_SEND_EXPECT =
  'type "udp" needs "send", the datagram sent (UDP servers do not speak first), and "expect", the text the reply must contain';

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
    upstreamTls: upstreamTlsSchema.optional(),
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
      ...(g.upstreamTls === undefined ? {} : { upstreamTls: g.upstreamTls }),
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

export const groupsSchema = z.record(z.string(), groupSchema).superRefine(
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
