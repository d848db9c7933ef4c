import { z } from 'zod';
import {
  ANY_ORG,
  address,
  BURST_ALGORITHMS,
  type Ctx,
  duration,
  integer,
  isRecord,
  LOG_LEVELS,
  ORG_GROUP,
  RATE_LIMIT_ALGORITHMS,
  report,
  text,
} from './schema-common.js';
import { groupsSchema } from './schema-groups.js';
import { listenerSchema } from './schema-listeners.js';
import { didYouMean } from './suggest.js';
import type { LimitStoreConfig, SwitchyardConfig } from './types.js';

export {
  ANY_ORG,
  BALANCER_NAMES,
  LOG_LEVELS,
  ORG_GROUP,
  parseAddress,
  RATE_LIMIT_ALGORITHMS,
} from './schema-common.js';

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
    if (typeof l.defaultGroup === 'string' && !groups.includes(l.defaultGroup)) {
      report(ctx, ['listeners', i, 'defaultGroup'], unknownGroup(l.defaultGroup));
    }
    if (Array.isArray(l.sniRoutes)) {
      l.sniRoutes.forEach((r, j) => {
        if (isRecord(r) && typeof r.group === 'string' && !groups.includes(r.group))
          report(ctx, ['listeners', i, 'sniRoutes', j, 'group'], unknownGroup(r.group));
      });
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

/** `limitStore`: memory by default; a Redis needs its URL, and `tls` only goes with `rediss://`. */
const limitStoreSchema = z
  .strictObject({
    type: z.enum(['memory', 'redis']).default('memory'),
    url: text().optional(),
    tls: z
      .strictObject({ ca: text().optional(), cert: text().optional(), key: text().optional() })
      .optional(),
    keyPrefix: z.string().default('switchyard:'),
    connectTimeout: duration(false).default(2000),
    commandTimeout: duration(false).default(250),
    failurePolicy: z.enum(['open', 'closed']).default('open'),
  })
  .prefault({})
  .superRefine((s, ctx) => {
    if (s.type === 'memory') {
      for (const key of ['url', 'tls'] as const) {
        if (s[key] !== undefined)
          report(ctx, [key], `"${key}" is for type: redis; this store is in memory`, 'key');
      }
      return;
    }
    if (s.url === undefined) {
      report(
        ctx,
        ['type'],
        'a redis limit store needs "url" (redis://host:6379 or rediss://host:6380)',
        'key',
      );
      return;
    }
    // The URL may carry a password: errors name its scheme, never the URL itself.
    const scheme = /^([a-z]+):\/\//.exec(s.url)?.[1];
    if (scheme !== 'redis' && scheme !== 'rediss') {
      report(
        ctx,
        ['url'],
        `expected a redis:// or rediss:// URL, got ${scheme === undefined ? 'no scheme' : `${scheme}://`}`,
      );
      return;
    }
    try {
      new URL(s.url);
    } catch {
      report(ctx, ['url'], `not a valid ${scheme}:// URL`);
      return;
    }
    if (s.tls !== undefined && scheme !== 'rediss') {
      report(ctx, ['tls'], '"tls" needs a rediss:// URL (redis:// is plain TCP)', 'key');
    }
    if (s.tls !== undefined && (s.tls.cert === undefined) !== (s.tls.key === undefined)) {
      report(ctx, ['tls'], 'a client certificate needs both "cert" and "key"', 'key');
    }
    if (s.commandTimeout >= s.connectTimeout) {
      report(
        ctx,
        ['commandTimeout'],
        `commandTimeout (${s.commandTimeout} ms) must be shorter than connectTimeout (${s.connectTimeout} ms): a decision waits at most commandTimeout, Redis down or not`,
      );
    }
  })
  .transform((s): LimitStoreConfig => {
    if (s.type === 'memory') return { type: 'memory' };
    const { url = '', tls, keyPrefix, connectTimeout, commandTimeout, failurePolicy } = s;
    return {
      type: 'redis',
      url,
      ...(tls === undefined ? {} : { tls }),
      keyPrefix,
      connectTimeout,
      commandTimeout,
      failurePolicy,
    };
  });

/** Most data-plane processes one balancer may start. */
export const MAX_WORKERS = 256;

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
    limitStore: limitStoreSchema,
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
    workers: z.union([z.literal('auto'), integer(1, MAX_WORKERS)]).default(1),
  })
  .superRefine(checkReferences, { when: () => true });
