import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { createRedisClient } from '../../../src/lib/ratelimit/redis-client.js';
import { RedisConcurrencyLimiter } from '../../../src/lib/ratelimit/redis-concurrency.js';
import { RedisStore } from '../../../src/lib/ratelimit/redis-store.js';
import { createRateLimitAlgorithm } from '../../../src/lib/ratelimit/registry.js';
import { startRedis, type TestRedis } from '../../helpers/redis-server.js';
import { describeWith, installed, REDIS_SERVER } from '../../helpers/system-tools.js';

const HAVE_REDIS = await installed(REDIS_SERVER);

// The rate decision and the concurrency slot in one script (tryAcquireAfter) decide exactly as the
// two asked one after the other: the same verdicts, the same counts left in Redis.

type Step = { op: 'admit'; key: string; at: number } | { op: 'release'; key: string };

describeWith(
  REDIS_SERVER,
  HAVE_REDIS,
  'RedisConcurrencyLimiter.tryAcquireAfter: rate and slot in one round trip',
  {},
  () => {
    let redis: TestRedis;
    let client: ReturnType<typeof createRedisClient>;
    const stops: (() => Promise<void>)[] = [];

    before(async () => {
      redis = await startRedis();
      client = createRedisClient({ url: redis.url });
      await client.connect();
    });

    after(async () => {
      for (const stop of stops) await stop();
      client.destroy();
      await redis.stop();
    });

    function gates(prefix: string, algorithm: string) {
      const store = new RedisStore(createRateLimitAlgorithm({ algorithm, limit: 4, window: 1000 }), {
        client,
        keyPrefix: prefix,
        clock: 'caller',
      });
      const slots = new RedisConcurrencyLimiter(2, { client, keyPrefix: prefix });
      slots.start();
      stops.push(() => slots.stop());
      return { store, slots };
    }

    // admissions of two clients over two windows, with releases in between
    const steps: Step[] = [];
    const clients = [
      'a',
      'a',
      'b',
      'a',
      'a',
      'b',
      'b',
      'a',
      'a',
      'b',
      'a',
      'a',
      'a',
      'a',
      'b',
      'a',
      'a',
      'a',
    ];
    for (const [i, key] of clients.entries()) {
      // a burst in the first window, then a slower tail through the next ones
      steps.push({ op: 'admit', key, at: 10_000 + (i < 12 ? i * 40 : 480 + (i - 11) * 300) });
      if (i % 2 === 1) steps.push({ op: 'release', key });
    }

    for (const algorithm of ['fixed-window', 'token-bucket', 'sliding-window', 'gcra']) {
      it(`${algorithm}: the same verdicts and slots as the two gates asked in turn`, async () => {
        const separate = gates(`sep-${algorithm}:`, algorithm);
        const combined = gates(`one-${algorithm}:`, algorithm);
        const one: number[] = [];
        const two: number[] = [];
        for (const step of steps) {
          if (step.op === 'release') {
            separate.slots.release(step.key);
            combined.slots.release(step.key);
            continue;
          }
          const retry = await separate.store.take(step.key, step.at);
          two.push(retry > 0 ? retry : (await separate.slots.tryAcquire(step.key)) ? 0 : -1);
          one.push(
            await combined.slots.tryAcquireAfter(step.key, combined.store.decisionCall(step.key, step.at)),
          );
        }
        assert.deepEqual(one, two);
        assert.ok(one.includes(-1) && one.some((v) => v > 0), `both refusals occur: ${one.join(' ')}`);
        for (const key of ['a', 'b']) {
          assert.equal(combined.slots.held(key), separate.slots.held(key));
          assert.equal(await combined.slots.count(key), await separate.slots.count(key));
        }
      });
    }

    it('Redis down: the failure policy answers for both, and nothing hangs', async () => {
      const algorithm = createRateLimitAlgorithm({ algorithm: 'gcra', limit: 100, window: 1000 });
      const local = createRedisClient({ url: redis.url });
      await local.connect();
      const open = {
        store: new RedisStore(algorithm, { client: local, keyPrefix: 'down-open:', commandTimeout: 100 }),
        slots: new RedisConcurrencyLimiter(1, {
          client: local,
          keyPrefix: 'down-open:',
          commandTimeout: 100,
        }),
      };
      const closed = {
        store: new RedisStore(algorithm, {
          client: local,
          keyPrefix: 'down-closed:',
          commandTimeout: 100,
          failurePolicy: 'closed',
        }),
        slots: new RedisConcurrencyLimiter(1, {
          client: local,
          keyPrefix: 'down-closed:',
          commandTimeout: 100,
          failurePolicy: 'closed',
        }),
      };
      redis.pause();
      try {
        // open: admitted while this replica holds less than the cap, then the cap refuses
        assert.equal(await open.slots.tryAcquireAfter('k', open.store.decisionCall('k', 0)), 0);
        assert.equal(await open.slots.tryAcquireAfter('k', open.store.decisionCall('k', 0)), -1);
        assert.ok((await closed.slots.tryAcquireAfter('k', closed.store.decisionCall('k', 0))) > 0);
      } finally {
        redis.resume();
        local.destroy();
      }
    });
  },
);
