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
import type { SwitchyardConfig } from './types.js';

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
