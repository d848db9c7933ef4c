import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { BindError } from '../lib/bind-error.js';
import { ErrorCodes, SwitchyardError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { formatHostPort } from '../lib/upstreams/address.js';
import type { AdminActions } from './admin-actions.js';
import {
  authorized,
  checkOrigin,
  digest,
  isLoopback,
  parseBind,
  pathSegments,
  readJsonObject,
  STATUS_BY_CODE,
  send,
} from './admin-http.js';
import { ANSWERED, adminRoutes, type Route } from './admin-routes.js';
import type { AdminSource, HealthStatusFn } from './admin-views.js';
import type { ClientLimitState } from './dashboard/client-limits.js';
import { DashboardFeed } from './dashboard/dashboard-feed.js';
import { EventStreams, type EventStreamsOptions } from './dashboard/event-streams.js';
import type { RefusalSource } from './dashboard/refusal-source.js';
import type { Metrics } from './metrics.js';
import { ServerHistory } from './server-history.js';

/** Everything the admin server needs. */
export interface AdminServerOptions {
  /** `host:port` to listen on (`127.0.0.1:9090` by default in config); port 0 picks a free one. */
  bind: string;
  /** When set, every change (and reload) needs `Authorization: Bearer <token>`. Reads stay open. */
  token?: string;
  /** The proxy whose snapshots are shown; a {@link ProxyServer} is one. */
  proxy: AdminSource;
  /** How changes are made: the same calls a config reload uses. */
  actions: AdminActions;
  /** Served at `GET /metrics`. */
  metrics: Pick<Metrics, 'render' | 'contentType'>;
  /** What the health checker last saw of an upstream, if one runs. */
  healthStatus?: HealthStatusFn;
  /** The worker processes, when there are several: served at `GET /api/workers`. */
  workers?: () => unknown[];
  /** A rolling restart of the workers, when there are several: `POST /api/restart`. */
  restart?: () => Promise<number>;
  /** An upgrade (a new balancer from the files on disk takes over), with several workers: `POST /api/upgrade`. */
  upgrade?: () => Promise<number>;
  /** Where startup, changes and failures are logged. */
  logger: Logger;
  /** A listening socket handed over by the balancer this one replaces; `bind` is then only what the logs say. */
  handle?: object;
  /** Largest request body accepted, bytes. Default 64 KiB. */
  maxBodyBytes?: number;
  /** Version, start, last reload and notable events; fed by the composition root. Default: a fresh one. */
  history?: ServerHistory;
  /** Where the dashboard's refusals per client come from: the proxy's events, or the workers'. */
  refusals?: RefusalSource;
  /** One client's rate-limit and concurrency state, for `GET /api/clients/:id` and the dashboard. */
  clientLimits?: (id: string) => Promise<ClientLimitState>;
  /** Bounds of the dashboard's event streams. */
  streams?: EventStreamsOptions;
}

/** A running admin server. */
export interface AdminServer {
  /** Bound host. */
  host: string;
  /** Bound port (the real one when 0 was asked for). */
  port: number;
  /** Stops listening and closes every connection, idle or not. */
  close(): Promise<void>;
  /** The listening socket, for a successor to take over; undefined once closed. */
  listeningHandle(): object | undefined;
  /** Stops accepting and closes the idle connections; requests being served finish. */
  stopAccepting(): void;
}

const DEFAULT_MAX_BODY = 64 * 1024;

/**
 * Starts the admin HTTP API on `bind` (node:http, JSON in and out). Reads are open; when `token` is
 * set every write needs it and is refused with 401 (and nothing changed) without it. Routes
 * (`GET /api` lists them, `route-index.ts`):
 *
 * - `GET /` (the dashboard page; its files under `/dashboard/`), `GET /healthz`, `GET /readyz`, `GET /metrics`
 * - `GET /api`, `GET /api/status`, `GET /api/stream` (Server-Sent Events, the dashboard's feed)
 * - `GET /api/groups`, `GET /api/groups/:group`, `GET /api/groups/:group/upstreams[/:id]`
 * - `GET /api/clients?offset=&limit=`, `GET /api/clients/:id`, `GET /api/workers` (with several workers)
 * - `PUT|POST /api/groups/:group/upstreams/:id/state {state}` (`up`, `down`, `draining`, `maintenance`,
 *   or the verbs `drain`, `ready`); `POST /api/groups/:group/upstreams/:id/(drain|ready|maintenance)`
 * - `PUT /api/groups/:group/upstreams/:id/weight {weight}`
 * - `POST /api/groups/:group/upstreams {address, id?, weight?, maxConnections?, state?}`
 * - `DELETE /api/groups/:group/upstreams/:id`
 * - `PUT /api/groups/:group/balancer {balancer}`
 * - `POST /api/reload`, `POST /api/restart` and `POST /api/upgrade` (with several workers)
 */
export async function startAdminServer(options: AdminServerOptions): Promise<AdminServer> {
  const { logger } = options;
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY;
  const tokenDigest = options.token === undefined ? undefined : digest(options.token);
  const { host, port } = parseBind(options.bind);
  const history = options.history ?? new ServerHistory();
  const feed = new DashboardFeed({
    source: options.proxy,
    history,
    logger,
    healthStatus: options.healthStatus,
    workers: options.workers,
    refusals: options.refusals,
    clientLimits: options.clientLimits,
  });
  const streams = new EventStreams(feed, options.streams);
  const routes = adminRoutes({ ...options, history, dashboard: { feed, streams } });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://admin.invalid');
    const segments = pathSegments(url.pathname);
    const route = segments === undefined ? undefined : routes(segments);
    if (route === undefined) throw new SwitchyardError(ErrorCodes.ERR_NOT_FOUND, `no route ${url.pathname}`);
    const method = req.method === 'HEAD' ? 'GET' : (req.method ?? '');
    const handler = route[method as keyof Route];
    if (handler === undefined) {
      const allowed = Object.keys(route);
      if (allowed.includes('GET')) allowed.push('HEAD');
      res.setHeader('Allow', allowed.join(', '));
      throw new SwitchyardError(
        ErrorCodes.ERR_METHOD_NOT_ALLOWED,
        `${req.method} is not allowed on ${url.pathname}; use ${allowed.join(', ')}`,
      );
    }
    if (method !== 'GET') {
      checkOrigin(req);
      if (tokenDigest !== undefined && !authorized(req, tokenDigest)) {
        res.setHeader('WWW-Authenticate', 'Bearer realm="switchyard"');
        logger.warn(
          { method: req.method, path: url.pathname, remote: req.socket.remoteAddress },
          'admin: unauthorized',
        );
        throw new SwitchyardError(
          ErrorCodes.ERR_UNAUTHORIZED,
          'a valid bearer token is required for changes',
        );
      }
    }
    const body = handler.body === true ? await readJsonObject(req, maxBody) : {};
    await options.proxy.refresh?.();
    const reply = await handler.run({ query: url.searchParams, body, http: { req, res } });
    if (reply !== ANSWERED) send(res, reply);
  };

  const server = createServer(
    { requestTimeout: 10_000, headersTimeout: 5_000, keepAliveTimeout: 5_000, maxHeaderSize: 16 * 1024 },
    (req, res) => {
      handle(req, res).catch((err: unknown) => {
        // ERR_INTERNAL is a broken invariant, not the client's fault: logged and answered as below
        if (err instanceof SwitchyardError && err.code !== ErrorCodes.ERR_INTERNAL) {
          const status = STATUS_BY_CODE[err.code] ?? 400;
          send(res, { status, body: { error: { code: err.code, message: err.message } } });
          return;
        }
        logger.error({ method: req.method, path: req.url, err: String(err) }, 'admin: request failed');
        send(res, {
          status: 500,
          body: { error: { code: ErrorCodes.ERR_INTERNAL, message: 'internal error' } },
        });
      });
    },
  );
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    const failed = (err: Error) =>
      reject(new BindError('admin API', undefined, formatHostPort(host, port), err));
    server.once('error', failed);
    const listening = () => {
      server.removeListener('error', failed);
      resolve();
    };
    if (options.handle === undefined) server.listen({ host, port }, listening);
    else server.listen(options.handle, listening);
  });
  server.on('error', (err) => logger.error({ err: String(err) }, 'admin server error'));
  const address = server.address();
  const boundPort = typeof address === 'object' && address !== null ? address.port : port;
  logger.info(
    { address: formatHostPort(host, boundPort), token: tokenDigest !== undefined },
    'admin API listening',
  );
  if (tokenDigest === undefined && !isLoopback(host)) {
    logger.warn(
      { address: formatHostPort(host, boundPort) },
      'admin API on a non-loopback address without a token',
    );
  }

  let closed: Promise<void> | undefined;
  return {
    host,
    port: boundPort,
    close: () => {
      closed ??= new Promise<void>((resolve) => {
        // Event streams never end by themselves: ended first, so closing waits for nothing.
        streams.closeAll();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
    listeningHandle: () => (server as unknown as { _handle?: object | null })._handle ?? undefined,
    stopAccepting: () => {
      streams.closeAll();
      server.close();
      server.closeIdleConnections();
    },
  };
}
