// The library example in README.md, kept runnable: if this breaks, the README is wrong too.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import {
  ConcurrencyLimiter,
  ManualClock,
  RateLimiter,
  RedisConcurrencyLimiter,
  RedisStore,
  UpstreamGroup,
} from '../../src/lib/index.js';
import { createRedisClient } from '../../src/lib/ratelimit/redis-client.js';
import { startRedis } from '../helpers/redis-server.js';
import { installed, itWith, REDIS_SERVER } from '../helpers/system-tools.js';
import { AsyncStore } from './ratelimit/async-store.js';

const HAVE_REDIS = await installed(REDIS_SERVER);

// Stands for the README's store that answers with a promise.
const MyAsyncStore = AsyncStore;

it('README library example works as written', async () => {
  const clock = new ManualClock(0);
  // --- README example start ---
  const web = new UpstreamGroup('web', {
    balancer: 'least-connections',
    upstreams: [
      { address: '10.0.0.1:8080' },
      { address: '10.0.0.2:8080', weight: 2 },
      { address: '[fd00::3]:8080' },
    ],
  });
  const limiter = new RateLimiter(
    { algorithm: 'gcra', limit: 100, window: 1000 },
    { now: () => clock.now() },
  );
  const perClient = new ConcurrencyLimiter(10);

  const client = 'client-a';
  if (limiter.take(client) === 0 && perClient.tryAcquire(client)) {
    const upstream = web.pick(); // throws ERR_NO_HEALTHY_UPSTREAM when nothing can take it
    // ...connect to upstream.host:upstream.port, then:
    web.connected(upstream);
    // ...relay; when the connection ends:
    web.release(upstream, 1200, 800);
    perClient.release(client);
  }
  web.setState('10.0.0.1:8080', 'draining'); // no new connections, live ones finish
  web.setBalancer('power-of-two'); // counters survive the swap

  // Over a store that answers with a promise (an AsyncRateLimitStore, such as one on Redis), take()
  // returns Promise<number>: await it. Without the await, `=== 0` does not compile.
  const shared = new RateLimiter(
    { algorithm: 'gcra', limit: 100, window: 1000 },
    { store: (algorithm) => new MyAsyncStore(algorithm) },
  );
  let admitted = 0;
  if ((await shared.take(client)) === 0) {
    // ...admitted, as above
    admitted++;
  }
  // --- README example end ---
  assert.equal(admitted, 1);
  assert.equal(
    web.upstreams.reduce((n, u) => n + u.total, 0),
    1,
  );
  assert.equal(web.balancer.name, 'power-of-two');
  assert.equal(perClient.count(client), 0);
});

itWith(
  REDIS_SERVER,
  HAVE_REDIS,
  'README Redis example works as written, against a real redis-server',
  {},
  async () => {
    const server = await startRedis();
    try {
      let served = 0;
      // --- README Redis example start (the URL is the test server's) ---
      const redis = createRedisClient({ url: server.url });
      await redis.connect();
      const options = { client: redis, keyPrefix: 'myapp:', failurePolicy: 'open' } as const;
      const perMinute = new RateLimiter(
        { algorithm: 'sliding-window', limit: 100, window: 60_000 },
        { store: (algorithm) => new RedisStore(algorithm, options) },
      );
      const slots = new RedisConcurrencyLimiter(10, options);
      slots.start(); // renews this process's lease
      if ((await perMinute.take('client-a')) === 0 && (await slots.tryAcquire('client-a'))) {
        // ...serve, then:
        served++;
        assert.equal(await slots.count('client-a'), 1);
        slots.release('client-a');
      }
      await slots.stop(); // gives this process's slots back
      // --- README Redis example end ---
      assert.equal(served, 1);
      assert.ok(
        (await redis.sendCommand(['KEYS', 'myapp:*']))!
          .toString()
          .includes('myapp:rl:sliding-window:client-a'),
      );
      redis.destroy();
    } finally {
      await server.stop();
    }
  },
);
