/** `GET /api`: every route of the admin API with its methods, for people and scripts finding their way. */

/** One route of the index. */
export interface RouteEntry {
  /** The path, with `:name` for a segment that varies. */
  path: string;
  methods: string[];
  /** What it is for. */
  about: string;
}

/** Which optional routes this server has. */
export interface RouteIndexParts {
  /** `/api/workers` (several workers). */
  workers: boolean;
  /** `/api/restart` (several workers). */
  restart: boolean;
  /** `/api/upgrade` (several workers). */
  upgrade: boolean;
}

const ALWAYS: RouteEntry[] = [
  { path: '/', methods: ['GET'], about: 'the dashboard page' },
  { path: '/healthz', methods: ['GET'], about: 'liveness: the process answers' },
  {
    path: '/readyz',
    methods: ['GET'],
    about: 'readiness: listening, and every group has an upstream in rotation',
  },
  { path: '/metrics', methods: ['GET'], about: 'Prometheus metrics' },
  { path: '/api', methods: ['GET'], about: 'this index' },
  {
    path: '/api/status',
    methods: ['GET'],
    about: 'version, uptime, last reload, listeners, groups, sessions',
  },
  {
    path: '/api/stream',
    methods: ['GET'],
    about: 'Server-Sent Events: the full state, then one tick a second (the dashboard)',
  },
  { path: '/api/clients', methods: ['GET'], about: 'live clients by identity (?offset=&limit=)' },
  { path: '/api/clients/:id', methods: ['GET'], about: "one client's live sessions and recent refusals" },
  { path: '/api/groups', methods: ['GET'], about: 'every group and its upstreams' },
  { path: '/api/groups/:group', methods: ['GET'], about: 'one group' },
  { path: '/api/groups/:group/balancer', methods: ['PUT'], about: 'swap the balancer {balancer}' },
  {
    path: '/api/groups/:group/upstreams',
    methods: ['GET', 'POST'],
    about: 'list, or add {address, id?, weight?, maxConnections?, state?}',
  },
  { path: '/api/groups/:group/upstreams/:id', methods: ['GET', 'DELETE'], about: 'one upstream; remove it' },
  {
    path: '/api/groups/:group/upstreams/:id/state',
    methods: ['PUT', 'POST'],
    about: 'set its state {state}',
  },
  {
    path: '/api/groups/:group/upstreams/:id/drain',
    methods: ['POST'],
    about: 'no new connections; live ones run on',
  },
  {
    path: '/api/groups/:group/upstreams/:id/maintenance',
    methods: ['POST'],
    about: 'out of rotation for maintenance',
  },
  { path: '/api/groups/:group/upstreams/:id/ready', methods: ['POST'], about: 'back in rotation' },
  { path: '/api/groups/:group/upstreams/:id/weight', methods: ['PUT'], about: 'set its weight {weight}' },
  { path: '/api/reload', methods: ['POST'], about: 're-read the configuration and apply what changed' },
];

const OPTIONAL: Record<keyof RouteIndexParts, RouteEntry> = {
  workers: { path: '/api/workers', methods: ['GET'], about: 'the worker processes' },
  restart: { path: '/api/restart', methods: ['POST'], about: 'replace every worker, one by one' },
  upgrade: {
    path: '/api/upgrade',
    methods: ['POST'],
    about: 'a new balancer from the files on disk takes over',
  },
};

/** The routes of a server with `parts`; writes (every method but GET) need the token when one is set. */
export function routeIndex(parts: RouteIndexParts): RouteEntry[] {
  const optional = (Object.keys(OPTIONAL) as (keyof RouteIndexParts)[]).filter((k) => parts[k]);
  return [...ALWAYS, ...optional.map((k) => OPTIONAL[k])];
}
