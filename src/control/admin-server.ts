import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { BindError } from '../lib/bind-error.js';
import { type ErrorCode, ErrorCodes, SwitchyardError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { formatHostPort, parseHostPort } from '../lib/upstreams/address.js';
import { UPSTREAM_STATES, type UpstreamState } from '../lib/upstreams/upstream.js';
import { type AdminActions, type NewUpstream, requireGroup } from './admin-actions.js';
import {
  type AdminSource,
  clientsPage,
  groupView,
  type HealthStatusFn,
  listenerView,
  readiness,
  upstreamView,
} from './admin-views.js';
import type { Metrics } from './metrics.js';

/** Everything the admin server needs. */
export interface AdminServerOptions {
  /** `host:port` to listen on (`127.0.0.1:9090` by default in config); port 0 picks a free one. */
  bind: string;
  /** When set, every change (and reload) needs `Authorization: Bearer <token>`. Reads stay open. */
  token?: string;
  /** The proxy whose state is shown; a {@link ProxyServer} is one. */
  proxy: AdminSource;
  /** How changes are made: the same calls a config reload uses. */
  actions: AdminActions;
  /** Served at `GET /metrics`. */
  metrics: Pick<Metrics, 'render' | 'contentType'>;
  /** What the health checker last saw of an upstream, if one runs. */
  healthStatus?: HealthStatusFn;
  /** Where startup, changes and failures are logged. */
  logger: Logger;
  /** Largest request body accepted, bytes. Default 64 KiB. */
  maxBodyBytes?: number;
}

/** A running admin server. */
export interface AdminServer {
  /** Bound host. */
  host: string;
  /** Bound port (the real one when 0 was asked for). */
  port: number;
  /** Stops listening and closes every connection, idle or not. */
  close(): Promise<void>;
}

const DEFAULT_MAX_BODY = 64 * 1024;
const MAX_PAGE = 1000;
const DEFAULT_PAGE = 100;

/** Verbs the state endpoint accepts besides the state names themselves. */
const STATE_VERBS: Record<string, UpstreamState> = {
  drain: 'draining',
  ready: 'up',
  maintenance: 'maintenance',
};

const STATUS_BY_CODE: Partial<Record<ErrorCode, number>> = {
  ERR_UNKNOWN_GROUP: 404,
  ERR_UNKNOWN_UPSTREAM: 404,
  ERR_NOT_FOUND: 404,
  ERR_INVALID_ARGUMENT: 400,
  ERR_INVALID_ADDRESS: 400,
  ERR_UNKNOWN_BALANCER: 400,
  ERR_INVALID_JSON: 400,
  ERR_DUPLICATE_UPSTREAM: 409,
  ERR_UNAUTHORIZED: 401,
  ERR_FORBIDDEN_ORIGIN: 403,
  ERR_METHOD_NOT_ALLOWED: 405,
  ERR_PAYLOAD_TOO_LARGE: 413,
  ERR_CONFIG_INVALID: 422,
  ERR_CONFIG_READ: 422,
  ERR_RELOAD_FAILED: 422,
};

/** A JSON answer, or (for /metrics) text. */
interface Reply {
  status: number;
  body: unknown;
  /** Set for non-JSON bodies. */
  contentType?: string;
}

/** What a handler gets. */
interface Request {
  query: URLSearchParams;
  body: Record<string, unknown>;
}

interface Handler {
  /** Reads and parses a JSON object body first. */
  body?: boolean;
  run(req: Request): Reply | Promise<Reply>;
}

type Route = Partial<Record<'GET' | 'POST' | 'PUT' | 'DELETE', Handler>>;

/**
 * Starts the admin HTTP API on `bind` (node:http, JSON in and out). Reads are open; when `token` is
 * set every write needs it and is refused with 401 (and nothing changed) without it. Routes:
 *
 * - `GET /healthz`, `GET /readyz`, `GET /metrics`
 * - `GET /api/status`, `GET /api/groups`, `GET /api/groups/:group`, `GET /api/groups/:group/upstreams[/:id]`
 * - `GET /api/clients?offset=&limit=`
 * - `PUT|POST /api/groups/:group/upstreams/:id/state {state}` (`up`, `down`, `draining`, `maintenance`,
 *   or the verbs `drain`, `ready`); `POST /api/groups/:group/upstreams/:id/(drain|ready|maintenance)`
 * - `PUT /api/groups/:group/upstreams/:id/weight {weight}`
 * - `POST /api/groups/:group/upstreams {address, id?, weight?, maxConnections?, state?}`
 * - `DELETE /api/groups/:group/upstreams/:id`
 * - `PUT /api/groups/:group/balancer {balancer}`
 * - `POST /api/reload`
 */
export async function startAdminServer(options: AdminServerOptions): Promise<AdminServer> {
  const { proxy, actions, metrics, healthStatus, logger } = options;
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY;
  const tokenDigest = options.token === undefined ? undefined : digest(options.token);
  const { host, port } = parseBind(options.bind);

  const upstreamReply = (group: string, id: string, status = 200): Reply => {
    const u = requireGroup(proxy, group).get(id);
    if (u === undefined) {
      throw new SwitchyardError(ErrorCodes.ERR_UNKNOWN_UPSTREAM, `group "${group}" has no upstream "${id}"`);
    }
    return { status, body: upstreamView(group, u, healthStatus) };
  };
  const groupReply = (group: string): Reply => ({
    status: 200,
    body: groupView(requireGroup(proxy, group), healthStatus),
  });
  const setState = (group: string, id: string, state: UpstreamState): Reply => {
    actions.setUpstreamState(group, id, state);
    logger.info({ group, upstream: id, state }, 'admin: upstream state set');
    return upstreamReply(group, id);
  };

  const routes = (p: string[]): { route: Route } | undefined => {
    const n = p.length;
    if (n === 1 && p[0] === 'healthz') return { route: { GET: { run: () => ok({ status: 'ok' }) } } };
    if (n === 1 && p[0] === 'readyz') {
      return {
        route: {
          GET: {
            run: () => {
              const r = readiness(proxy);
              return r.ready
                ? ok({ status: 'ready' })
                : { status: 503, body: { status: 'not ready', reasons: r.reasons } };
            },
          },
        },
      };
    }
    if (n === 1 && p[0] === 'metrics') {
      return {
        route: {
          GET: {
            run: async () => ({
              status: 200,
              body: await metrics.render(),
              contentType: metrics.contentType,
            }),
          },
        },
      };
    }
    if (p[0] !== 'api' || n < 2) return undefined;
    const [, area, group, sub, id, action] = p;
    if (n === 2 && area === 'status') {
      return {
        route: {
          GET: {
            run: () =>
              ok({
                listeners: proxy.listeners().map(listenerView),
                groups: [...proxy.runtime.groups.values()].map((g) => groupView(g, healthStatus)),
                sessions: proxy.sessionCount,
                stopping: proxy.stopping,
              }),
          },
        },
      };
    }
    if (n === 2 && area === 'clients') {
      return {
        route: {
          GET: {
            run: ({ query }) => {
              const offset = intParam(query, 'offset', 0, 0, Number.MAX_SAFE_INTEGER);
              const limit = intParam(query, 'limit', DEFAULT_PAGE, 1, MAX_PAGE);
              return ok(clientsPage(proxy, offset, limit));
            },
          },
        },
      };
    }
    if (n === 2 && area === 'reload') {
      return {
        route: {
          POST: {
            run: async () => {
              const result = await actions.reload();
              if (result.ok) {
                logger.info({ changes: result.changes }, 'admin: reload applied');
                return ok({ ok: true, changes: result.changes });
              }
              logger.warn({ error: result.error }, 'admin: reload refused');
              throw new SwitchyardError(ErrorCodes.ERR_RELOAD_FAILED, result.error);
            },
          },
        },
      };
    }
    if (area !== 'groups') return undefined;
    if (n === 2) {
      return {
        route: {
          GET: { run: () => ok([...proxy.runtime.groups.values()].map((g) => groupView(g, healthStatus))) },
        },
      };
    }
    if (n === 3) return { route: { GET: { run: () => groupReply(group) } } };
    if (n === 4 && sub === 'balancer') {
      return {
        route: {
          PUT: {
            body: true,
            run: ({ body }) => {
              const balancer = stringField(body, 'balancer', ['balancer']);
              actions.setBalancer(group, balancer);
              logger.info({ group, balancer }, 'admin: balancer set');
              return groupReply(group);
            },
          },
        },
      };
    }
    if (sub !== 'upstreams') return undefined;
    if (n === 4) {
      return {
        route: {
          GET: { run: () => ok(groupView(requireGroup(proxy, group), healthStatus).upstreams) },
          POST: {
            body: true,
            run: ({ body }) => {
              const upstream = newUpstream(body);
              actions.addUpstream(group, upstream);
              const added = upstream.id ?? canonicalAddress(upstream.address);
              logger.info({ group, upstream: added, address: upstream.address }, 'admin: upstream added');
              return upstreamReply(group, added, 201);
            },
          },
        },
      };
    }
    if (n === 5) {
      return {
        route: {
          GET: { run: () => upstreamReply(group, id) },
          DELETE: {
            run: () => {
              const u = requireGroup(proxy, group).get(id);
              const view = u === undefined ? undefined : upstreamView(group, u, healthStatus);
              actions.removeUpstream(group, id);
              logger.info({ group, upstream: id }, 'admin: upstream removed');
              return ok({ removed: view ?? { id } });
            },
          },
        },
      };
    }
    if (n !== 6) return undefined;
    if (action === 'state') {
      const handler: Handler = {
        body: true,
        run: ({ body }) => setState(group, id, stateValue(stringField(body, 'state', ['state']))),
      };
      return { route: { PUT: handler, POST: handler } };
    }
    if (action === 'weight') {
      return {
        route: {
          PUT: {
            body: true,
            run: ({ body }) => {
              const weight = numberField(body, 'weight', ['weight']);
              actions.setUpstreamWeight(group, id, weight);
              logger.info({ group, upstream: id, weight }, 'admin: upstream weight set');
              return upstreamReply(group, id);
            },
          },
        },
      };
    }
    const verb = STATE_VERBS[action];
    if (Object.hasOwn(STATE_VERBS, action) && verb !== undefined) {
      return { route: { POST: { run: () => setState(group, id, verb) } } };
    }
    return undefined;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://admin.invalid');
    const segments = pathSegments(url.pathname);
    const found = segments === undefined ? undefined : routes(segments);
    if (found === undefined) throw new SwitchyardError(ErrorCodes.ERR_NOT_FOUND, `no route ${url.pathname}`);
    const method = req.method === 'HEAD' ? 'GET' : (req.method ?? '');
    const handler = found.route[method as keyof Route];
    if (handler === undefined) {
      const allowed = Object.keys(found.route);
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
    const reply = await handler.run({ query: url.searchParams, body });
    send(res, reply);
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
    server.listen({ host, port }, () => {
      server.removeListener('error', failed);
      resolve();
    });
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
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}

function ok(body: unknown): Reply {
  return { status: 200, body };
}

function send(res: ServerResponse, reply: Reply): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = reply.contentType === undefined ? `${JSON.stringify(reply.body)}\n` : String(reply.body);
  res.statusCode = reply.status;
  res.setHeader('Content-Type', reply.contentType ?? 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.end(text);
}

/** Path segments, percent-decoded; undefined when an escape is malformed (answered as not found). */
function pathSegments(pathname: string): string[] | undefined {
  const raw = pathname.split('/').slice(1);
  if (raw.length > 0 && raw[raw.length - 1] === '') raw.pop();
  try {
    return raw.map((s) => decodeURIComponent(s));
  } catch {
    return undefined;
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Compares SHA-256 digests (always 32 bytes) in constant time, so neither content nor length leaks. */
function authorized(req: IncomingMessage, expected: Buffer): boolean {
  const header = req.headers.authorization;
  if (header === undefined) return false;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  if (match === null) return false;
  return timingSafeEqual(digest(match[1]), expected);
}

/**
 * A browser page on another origin must not change anything, token or not: refuses a write whose
 * `Origin` does not match the `Host` it was sent to. Command-line clients send no `Origin`.
 */
function checkOrigin(req: IncomingMessage): void {
  const origin = req.headers.origin;
  if (origin === undefined) return;
  let originHost: string | undefined;
  try {
    originHost = new URL(origin).host;
  } catch {
    originHost = undefined;
  }
  if (originHost === undefined || originHost !== req.headers.host) {
    throw new SwitchyardError(ErrorCodes.ERR_FORBIDDEN_ORIGIN, 'cross-origin changes are refused');
  }
}

/** Reads the body as one JSON object, at most `max` bytes; an empty body is `{}`. */
async function readJsonObject(req: IncomingMessage, max: number): Promise<Record<string, unknown>> {
  const text = (await readBody(req, max)).toString('utf8').trim();
  if (text === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new SwitchyardError(
      ErrorCodes.ERR_INVALID_JSON,
      `request body is not valid JSON: ${(err as Error).message}`,
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SwitchyardError(ErrorCodes.ERR_INVALID_JSON, 'request body must be a JSON object');
  }
  return value as Record<string, unknown>;
}

/**
 * Collects the body up to `max` bytes. Past that it rejects at once and keeps reading without
 * keeping, so the 413 reaches the client (closing with unread data would reset the connection
 * under it); the server's request timeout bounds a body that never ends.
 */
function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const tooLarge = () =>
      new SwitchyardError(ErrorCodes.ERR_PAYLOAD_TOO_LARGE, `request body is larger than ${max} bytes`);
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = Number(req.headers['content-length'] ?? 0) > max;
    if (refused) {
      req.resume();
      reject(tooLarge());
      return;
    }
    req.on('data', (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      if (size > max) {
        refused = true;
        chunks.length = 0;
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.once('end', () => {
      if (!refused) resolve(Buffer.concat(chunks));
    });
    req.once('error', reject);
  });
}

function invalid(message: string): SwitchyardError {
  return new SwitchyardError(ErrorCodes.ERR_INVALID_ARGUMENT, message);
}

/** Refuses keys other than `allowed`, so a typo (`"wieght"`) is an error rather than ignored. */
function onlyKeys(body: Record<string, unknown>, allowed: readonly string[]): void {
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key)) throw invalid(`unknown field "${key}"; expected ${allowed.join(', ')}`);
  }
}

function stringField(body: Record<string, unknown>, key: string, allowed: readonly string[]): string {
  onlyKeys(body, allowed);
  const v = body[key];
  if (typeof v !== 'string' || v === '') throw invalid(`"${key}" must be a non-empty string`);
  return v;
}

function numberField(body: Record<string, unknown>, key: string, allowed: readonly string[]): number {
  onlyKeys(body, allowed);
  const v = body[key];
  if (typeof v !== 'number') throw invalid(`"${key}" must be a number`);
  return v;
}

/** A state name or one of the verbs `drain`, `ready`, `maintenance`. */
function stateValue(text: string): UpstreamState {
  if (Object.hasOwn(STATE_VERBS, text)) return STATE_VERBS[text];
  if ((UPSTREAM_STATES as readonly string[]).includes(text)) return text as UpstreamState;
  throw invalid(
    `unknown state "${text}"; expected one of ${[...UPSTREAM_STATES, 'drain', 'ready'].join(', ')}`,
  );
}

const UPSTREAM_FIELDS = ['address', 'id', 'weight', 'maxConnections', 'state'] as const;

function newUpstream(body: Record<string, unknown>): NewUpstream {
  onlyKeys(body, UPSTREAM_FIELDS);
  const { address, id, weight, maxConnections, state } = body;
  if (typeof address !== 'string' || address === '') throw invalid('"address" must be a "host:port" string');
  const u: NewUpstream = { address };
  if (id !== undefined) {
    if (typeof id !== 'string' || id === '') throw invalid('"id" must be a non-empty string');
    u.id = id;
  }
  if (weight !== undefined) {
    if (typeof weight !== 'number') throw invalid('"weight" must be a number');
    u.weight = weight;
  }
  if (maxConnections !== undefined) {
    if (typeof maxConnections !== 'number') throw invalid('"maxConnections" must be a number');
    u.maxConnections = maxConnections;
  }
  if (state !== undefined) {
    if (typeof state !== 'string') throw invalid('"state" must be a string');
    u.state = stateValue(state);
  }
  return u;
}

/** The id an upstream added without one gets: its canonical address. */
function canonicalAddress(address: string): string {
  const hp = parseHostPort(address);
  return formatHostPort(hp.host, hp.port);
}

function intParam(query: URLSearchParams, name: string, fallback: number, min: number, max: number): number {
  const text = query.get(name);
  if (text === null || text === '') return fallback;
  if (!/^\d+$/.test(text)) throw invalid(`query parameter "${name}" must be a whole number`);
  const n = Number(text);
  if (n < min || n > max) throw invalid(`query parameter "${name}" must be between ${min} and ${max}`);
  return n;
}

/** `host:port` with port 0 allowed; IPv6 literals in brackets. */
function parseBind(bind: string): { host: string; port: number } {
  if (bind.endsWith(':0')) {
    const host = bind.slice(0, -2);
    const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
    if (bare === '' || (bare.includes(':') && isIP(bare) !== 6)) {
      throw new SwitchyardError(ErrorCodes.ERR_INVALID_ADDRESS, `invalid admin bind address "${bind}"`);
    }
    return { host: bare, port: 0 };
  }
  const hp = parseHostPort(bind);
  return { host: hp.host, port: hp.port };
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}
