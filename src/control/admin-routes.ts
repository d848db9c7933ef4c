/**
 * The admin API's routes: which path and method does what. Reads come from one snapshot of the
 * proxy per request; changes go through {@link AdminActions}, the calls a config reload uses.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCodes, SwitchyardError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import type { GroupSnapshot, UpstreamSnapshot } from '../proxy/snapshot.js';
import type { AdminActions } from './admin-actions.js';
import {
  canonicalAddress,
  intParam,
  newUpstream,
  numberField,
  STATE_VERBS,
  stateValue,
  stringField,
} from './admin-fields.js';
import { ok, type Reply } from './admin-http.js';
import {
  type AdminSource,
  clientsPage,
  groupView,
  type HealthStatusFn,
  readiness,
  upstreamView,
} from './admin-views.js';
import type { DashboardFeed } from './dashboard/dashboard-feed.js';
import type { EventStreams } from './dashboard/event-streams.js';
import { assetReply } from './dashboard/static-assets.js';
import type { Metrics } from './metrics.js';
import { routeIndex } from './route-index.js';
import type { ServerHistory } from './server-history.js';
import { statusView } from './status-view.js';

/** What a handler gets. */
export interface AdminRequest {
  query: URLSearchParams;
  body: Record<string, unknown>;
  /** The request and response themselves, for a handler that answers on its own (a stream). */
  http: { req: IncomingMessage; res: ServerResponse };
}

/** What a handler returns when it wrote its answer itself. */
export const ANSWERED: unique symbol = Symbol('answered');

/** One method of one route. */
export interface Handler {
  /** Reads and parses a JSON object body first. */
  body?: boolean;
  run(req: AdminRequest): Reply | typeof ANSWERED | Promise<Reply | typeof ANSWERED>;
}

/** The methods a path answers. */
export type Route = Partial<Record<'GET' | 'POST' | 'PUT' | 'DELETE', Handler>>;

/** What the routes read and change. */
export interface RouteContext {
  proxy: AdminSource;
  actions: AdminActions;
  metrics: Pick<Metrics, 'render' | 'contentType'>;
  healthStatus?: HealthStatusFn;
  /** The worker processes, when there are several. */
  workers?: () => unknown[];
  /** Replaces every worker one by one (with several workers); resolves with how many. */
  restart?: () => Promise<number>;
  /** Starts a new balancer from the files on disk that takes over (with several workers); resolves with its pid. */
  upgrade?: () => Promise<number>;
  /** Version, start and last reload, for `/api/status`. */
  history: ServerHistory;
  /** The dashboard's sampler (client details) and its event streams. */
  dashboard: { feed: DashboardFeed; streams: EventStreams };
  logger: Logger;
}

const MAX_PAGE = 1000;
const DEFAULT_PAGE = 100;

/** Finds the route of a decoded path, or undefined when there is none. */
export type RouteTable = (path: string[]) => Route | undefined;

/** The routes of the admin API (listed at {@link startAdminServer}). */
export function adminRoutes(context: RouteContext): RouteTable {
  const {
    proxy,
    actions,
    metrics,
    healthStatus,
    logger,
    workers: workersView,
    restart,
    upgrade,
    history,
  } = context;
  const { feed, streams } = context.dashboard;

  const findGroup = (name: string): GroupSnapshot => {
    const g = proxy.snapshot().groups.find((x) => x.name === name);
    if (g === undefined) throw new SwitchyardError(ErrorCodes.ERR_UNKNOWN_GROUP, `no group "${name}"`);
    return g;
  };
  const findUpstream = (group: string, id: string): UpstreamSnapshot | undefined =>
    findGroup(group).upstreams.find((u) => u.id === id);
  const upstreamReply = (group: string, id: string, status = 200): Reply => {
    const u = findUpstream(group, id);
    if (u === undefined) {
      throw new SwitchyardError(ErrorCodes.ERR_UNKNOWN_UPSTREAM, `group "${group}" has no upstream "${id}"`);
    }
    return { status, body: upstreamView(group, u, healthStatus) };
  };
  const groupReply = (group: string): Reply => ok(groupView(findGroup(group), healthStatus));
  const allGroups = (): Reply => ok(proxy.snapshot().groups.map((g) => groupView(g, healthStatus)));
  // A change is in force everywhere when its promise resolves; the reply shows the picture after it.
  const changed = async (work: () => void | Promise<void>): Promise<void> => {
    await work();
    await proxy.refresh?.();
  };
  const setState = async (
    group: string,
    id: string,
    state: ReturnType<typeof stateValue>,
  ): Promise<Reply> => {
    await changed(() => actions.setUpstreamState(group, id, state));
    logger.info({ group, upstream: id, state }, 'admin: upstream state set');
    return upstreamReply(group, id);
  };

  const ready: Route = {
    GET: {
      run: () => {
        const r = readiness(proxy.snapshot());
        return r.ready
          ? ok({ status: 'ready' })
          : { status: 503, body: { status: 'not ready', reasons: r.reasons } };
      },
    },
  };
  const metricsRoute: Route = {
    GET: {
      run: async () => ({ status: 200, body: await metrics.render(), contentType: metrics.contentType }),
    },
  };
  const status: Route = {
    GET: {
      run: () => ok(statusView(proxy.snapshot(), { history, healthStatus, workers: workersView })),
    },
  };
  const index: Route = {
    GET: {
      run: () =>
        ok({
          routes: routeIndex({
            workers: workersView !== undefined,
            restart: restart !== undefined,
            upgrade: upgrade !== undefined,
          }),
        }),
    },
  };
  const stream: Route = {
    GET: {
      run: async ({ http }): Promise<typeof ANSWERED> => {
        await streams.open(http.req, http.res);
        return ANSWERED;
      },
    },
  };
  const asset = (name: string): Route | undefined => {
    const reply = assetReply(name);
    return reply === undefined ? undefined : { GET: { run: () => reply } };
  };
  const clients: Route = {
    GET: {
      run: ({ query }) => {
        const offset = intParam(query, 'offset', 0, 0, Number.MAX_SAFE_INTEGER);
        const limit = intParam(query, 'limit', DEFAULT_PAGE, 1, MAX_PAGE);
        return ok(clientsPage(proxy.sessionSnapshots(), offset, limit));
      },
    },
  };
  const reload: Route = {
    POST: {
      run: async () => {
        const result = await actions.reload();
        await proxy.refresh?.();
        if (result.ok) {
          logger.info({ changes: result.changes }, 'admin: reload applied');
          return ok({ ok: true, changes: result.changes });
        }
        logger.warn({ error: result.error }, 'admin: reload refused');
        throw new SwitchyardError(ErrorCodes.ERR_RELOAD_FAILED, result.error);
      },
    },
  };

  const restartRoute = (run: () => Promise<number>): Route => ({
    POST: {
      run: async () => {
        logger.info({}, 'admin: rolling restart');
        const replaced = await run();
        await proxy.refresh?.();
        return ok({ ok: true, replaced });
      },
    },
  });

  const upgradeRoute = (run: () => Promise<number>): Route => ({
    POST: {
      run: async () => {
        logger.info({}, 'admin: upgrade');
        return ok({ ok: true, pid: await run() });
      },
    },
  });

  const balancer = (group: string): Route => ({
    PUT: {
      body: true,
      run: async ({ body }) => {
        const name = stringField(body, 'balancer', ['balancer']);
        await changed(() => actions.setBalancer(group, name));
        logger.info({ group, balancer: name }, 'admin: balancer set');
        return groupReply(group);
      },
    },
  });
  const upstreams = (group: string): Route => ({
    GET: { run: () => ok(groupView(findGroup(group), healthStatus).upstreams) },
    POST: {
      body: true,
      run: async ({ body }) => {
        const upstream = newUpstream(body);
        await changed(() => actions.addUpstream(group, upstream));
        const added = upstream.id ?? canonicalAddress(upstream.address);
        logger.info({ group, upstream: added, address: upstream.address }, 'admin: upstream added');
        return upstreamReply(group, added, 201);
      },
    },
  });
  const upstream = (group: string, id: string): Route => ({
    GET: { run: () => upstreamReply(group, id) },
    DELETE: {
      run: async () => {
        const u = findUpstream(group, id);
        const view = u === undefined ? undefined : upstreamView(group, u, healthStatus);
        await changed(() => actions.removeUpstream(group, id));
        logger.info({ group, upstream: id }, 'admin: upstream removed');
        return ok({ removed: view ?? { id } });
      },
    },
  });
  const upstreamAction = (group: string, id: string, action: string): Route | undefined => {
    if (action === 'state') {
      const handler: Handler = {
        body: true,
        run: ({ body }) => setState(group, id, stateValue(stringField(body, 'state', ['state']))),
      };
      return { PUT: handler, POST: handler };
    }
    if (action === 'weight') {
      return {
        PUT: {
          body: true,
          run: async ({ body }) => {
            const weight = numberField(body, 'weight', ['weight']);
            await changed(() => actions.setUpstreamWeight(group, id, weight));
            logger.info({ group, upstream: id, weight }, 'admin: upstream weight set');
            return upstreamReply(group, id);
          },
        },
      };
    }
    const verb = STATE_VERBS[action];
    if (Object.hasOwn(STATE_VERBS, action) && verb !== undefined) {
      return { POST: { run: () => setState(group, id, verb) } };
    }
    return undefined;
  };

  return (p) => {
    const n = p.length;
    if (n === 1 && p[0] === 'healthz') return { GET: { run: () => ok({ status: 'ok' }) } };
    if (n === 1 && p[0] === 'readyz') return ready;
    if (n === 1 && p[0] === 'metrics') return metricsRoute;
    if (n === 0) return asset('index.html');
    if (n === 2 && p[0] === 'dashboard') return asset(p[1]);
    if (p[0] !== 'api') return undefined;
    if (n === 1) return index;
    const [, area, group, sub, id, action] = p;
    if (n === 2 && area === 'status') return status;
    if (n === 2 && area === 'stream') return stream;
    if (n === 2 && area === 'clients') return clients;
    if (n === 3 && area === 'clients') return { GET: { run: async () => ok(await feed.client(group)) } };
    if (n === 2 && area === 'workers' && workersView !== undefined)
      return { GET: { run: () => ok(workersView()) } };
    if (n === 2 && area === 'restart' && restart !== undefined) return restartRoute(restart);
    if (n === 2 && area === 'upgrade' && upgrade !== undefined) return upgradeRoute(upgrade);
    if (n === 2 && area === 'reload') return reload;
    if (area !== 'groups') return undefined;
    if (n === 2) return { GET: { run: allGroups } };
    if (n === 3) return { GET: { run: () => groupReply(group) } };
    if (n === 4 && sub === 'balancer') return balancer(group);
    if (sub !== 'upstreams') return undefined;
    if (n === 4) return upstreams(group);
    if (n === 5) return upstream(group, id);
    if (n === 6) return upstreamAction(group, id, action);
    return undefined;
  };
}
