import { createClient } from 'redis';
import { ErrorCodes, SwitchyardError } from '../errors.js';

export type { RedisLimitClient } from './redis-limit-options.js';

// The one file of the library that imports a third-party package (node-redis). The library's entry
// point (src/lib/index.ts) does not export it, so `switchyard/lib` stays free of dependencies;
// it is reachable as `switchyard/redis`. The stores only need a client's shape (RedisLimitClient).

/** How {@link createRedisClient} builds a client for the Redis limit stores. */
export interface RedisClientOptions {
  /** `redis://host:port[/db]` or `rediss://` for TLS; user and password may be given in the URL. */
  url: string;
  /** TLS material for `rediss://`: the CA to trust and, for servers that ask, a client certificate. */
  tls?: {
    ca?: string | Buffer;
    cert?: string | Buffer;
    key?: string | Buffer;
  };
  /** Ms a connection attempt may take. Default 2000. */
  connectTimeout?: number;
  /** Commands that may wait for their answer at once; more fail at once. Default 10000. */
  maxQueuedCommands?: number;
}

const BACKOFF_FIRST_MS = 50;
const BACKOFF_MAX_MS = 2000;
const lastErrors = new WeakMap<object, Error>();

/**
 * Ms before reconnect attempt `retries` (0-based): doubling from 50 ms to at most 2 s, with the
 * upper half jittered so replicas that lost Redis together do not reconnect in lockstep. Never
 * gives up: a limit store outlives any Redis outage.
 */
export function redisReconnectDelay(retries: number): number {
  const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** Math.min(retries, 16));
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}

/**
 * Builds (does not connect) a node-redis client set up for rate and concurrency limits: commands
 * fail at once while disconnected instead of queueing (a limit decision that waits for a
 * reconnect is worse than the failure policy), the number of commands awaiting answers is capped,
 * reconnects back off with jitter forever, and `'error'` events are recorded rather than left
 * unhandled (node-redis would crash the process). Call `await client.connect()` before use, and
 * `client.destroy()` (or `close()`) when done; the stores never close a client they did not make.
 *
 * Throws `ERR_INVALID_ARGUMENT` for a URL that is not `redis://` or `rediss://`.
 */
export function createRedisClient(options: RedisClientOptions) {
  let protocol: string;
  try {
    protocol = new URL(options.url).protocol;
  } catch {
    throw new SwitchyardError(ErrorCodes.ERR_INVALID_ARGUMENT, `invalid Redis URL "${options.url}"`);
  }
  if (protocol !== 'redis:' && protocol !== 'rediss:') {
    throw new SwitchyardError(
      ErrorCodes.ERR_INVALID_ARGUMENT,
      `Redis URL must start with redis:// or rediss://, got "${options.url}"`,
    );
  }
  const connectTimeout = options.connectTimeout ?? 2000;
  const maxQueued = options.maxQueuedCommands ?? 10_000;
  checkPositive('connectTimeout', connectTimeout);
  checkPositive('maxQueuedCommands', maxQueued);
  const reconnectStrategy = (retries: number): number => redisReconnectDelay(retries);
  const tls = options.tls ?? {};
  const socket =
    protocol === 'rediss:'
      ? {
          tls: true as const,
          connectTimeout,
          reconnectStrategy,
          ...(tls.ca !== undefined && { ca: tls.ca }),
          ...(tls.cert !== undefined && { cert: tls.cert }),
          ...(tls.key !== undefined && { key: tls.key }),
        }
      : { connectTimeout, reconnectStrategy };
  const client = createClient({
    url: options.url,
    socket,
    disableOfflineQueue: true,
    commandsQueueMaxLength: maxQueued,
  });
  client.on('error', (err: unknown) => {
    lastErrors.set(client, err instanceof Error ? err : new Error(String(err)));
  });
  return client;
}

/** The last `'error'` a client made by {@link createRedisClient} emitted, for logs and health output. */
export function redisClientLastError(client: object): Error | undefined {
  return lastErrors.get(client);
}

function checkPositive(what: string, value: number): void {
  if (!(Number.isFinite(value) && value > 0)) {
    throw new SwitchyardError(
      ErrorCodes.ERR_INVALID_ARGUMENT,
      `${what} must be a positive number, got ${value}`,
    );
  }
}
