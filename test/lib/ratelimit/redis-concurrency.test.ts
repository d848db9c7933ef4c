import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCodes, hasCode } from '../../../src/lib/errors.js';
import { createRedisClient } from '../../../src/lib/ratelimit/redis-client.js';
import {
  RedisConcurrencyLimiter,
  type RedisConcurrencyOptions,
} from '../../../src/lib/ratelimit/redis-concurrency.js';
import type { LimitStoreFailure } from '../../../src/lib/ratelimit/redis-limit-options.js';
import { startRedis, type TestRedis } from '../../helpers/redis-server.js';
import { describeWith, installed, REDIS_SERVER } from '../../helpers/system-tools.js';

const HAVE_REDIS = await installed(REDIS_SERVER);

type Client = ReturnType<typeof createRedisClient>;

/** Polls `check` until it returns true; fails after `ms`. A functional deadline, not a timing assertion. */
async function eventually(what: string, check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`never happened within ${ms} ms: ${what}`);
    await sleep(20);
  }
}

/** Replicas on one Redis, each with its own client; everything made is undone by `close()`. */
function replicas(redis: TestRedis, keyPrefix: string) {
  const clients: Client[] = [];
  const limiters: RedisConcurrencyLimiter[] = [];
  return {
    async make(
      limit: number,
      options: Omit<RedisConcurrencyOptions, 'client'> = {},
    ): Promise<{ limiter: RedisConcurrencyLimiter; client: Client; failures: LimitStoreFailure[] }> {
      const client = createRedisClient({ url: redis.url });
      await client.connect();
      clients.push(client);
      const failures: LimitStoreFailure[] = [];
      const limiter = new RedisConcurrencyLimiter(limit, {
        client,
        keyPrefix,
        onFailure: (f) => failures.push(f),
        ...options,
      });
      limiter.start();
      limiters.push(limiter);
      return { limiter, client, failures };
    },
    async close(): Promise<void> {
      await Promise.all(limiters.map((l) => l.stop()));
      for (const client of clients) if (client.isOpen) client.destroy();
    },
  };
}

describeWith(REDIS_SERVER, HAVE_REDIS, 'RedisConcurrencyLimiter', {}, () => {
  let redis: TestRedis;
  const made: ReturnType<typeof replicas>[] = [];
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    for (const m of made) await m.close();
    await redis?.stop();
  });
  const group = (prefix: string) => {
    const m = replicas(redis, prefix);
    made.push(m);
    return m;
  };

  it('shares one cap per key between replicas', async () => {
    const g = group('shared:');
    const { limiter: a, failures: fa } = await g.make(3, { replicaId: 'a' });
    const { limiter: b, failures: fb } = await g.make(3, { replicaId: 'b' });
    assert.equal(await a.tryAcquire('k'), true);
    assert.equal(await a.tryAcquire('k'), true);
    assert.equal(await b.tryAcquire('k'), true);
    assert.equal(await a.tryAcquire('k'), false);
    assert.equal(await b.tryAcquire('k'), false);
    // another key has its own cap
    assert.equal(await b.tryAcquire('other'), true);
    assert.equal(await a.count('k'), 3);
    assert.equal(await b.count('k'), 3);
    assert.deepEqual([a.held('k'), b.held('k')], [2, 1]);
    a.release('k');
    assert.equal(a.held('k'), 1);
    await eventually('b acquires the slot a released', () => b.tryAcquire('k'));
    assert.equal(await a.tryAcquire('k'), false);
    assert.equal(await a.count('k'), 3);
    assert.deepEqual(fa, []);
    assert.deepEqual(fb, []);
  });

  it("frees a dead replica's slots once its lease runs out", async () => {
    const g = group('dead:');
    const { limiter: live } = await g.make(3, { replicaId: 'live' });
    const { limiter: doomed, client: doomedClient } = await g.make(3, { replicaId: 'doomed', leaseMs: 300 });
    for (let i = 0; i < 3; i++) assert.equal(await doomed.tryAcquire('k'), true);
    assert.equal(await live.tryAcquire('k'), false);
    // dies: no stop(), its connection just goes
    doomedClient.destroy();
    await eventually('the live replica takes a slot the dead one held', () => live.tryAcquire('k'));
    assert.equal(await live.count('k'), 1);
  });

  it('gives every slot back at once on stop()', async () => {
    const g = group('graceful:');
    const { limiter: stays } = await g.make(2, { replicaId: 'stays' });
    const { limiter: leaves } = await g.make(2, { replicaId: 'leaves' });
    assert.equal(await leaves.tryAcquire('k'), true);
    assert.equal(await leaves.tryAcquire('k'), true);
    assert.equal(await stays.tryAcquire('k'), false);
    await leaves.stop();
    assert.equal(await stays.tryAcquire('k'), true);
    assert.equal(await stays.tryAcquire('k'), true);
    assert.equal(await stays.tryAcquire('k'), false);
    assert.equal(await stays.count('k'), 2);
  });

  it('rejects bad arguments', async () => {
    const client = createRedisClient({ url: redis.url });
    assert.throws(
      () => new RedisConcurrencyLimiter(0, { client }),
      (err: unknown) => hasCode(err, ErrorCodes.ERR_INVALID_ARGUMENT),
    );
    const limiter = new RedisConcurrencyLimiter(2, { client });
    assert.throws(
      () => {
        limiter.limit = 1.5;
      },
      (err: unknown) => hasCode(err, ErrorCodes.ERR_INVALID_ARGUMENT),
    );
    limiter.limit = 5;
    assert.equal(limiter.limit, 5);
  });
});

describeWith(REDIS_SERVER, HAVE_REDIS, 'RedisConcurrencyLimiter when Redis fails', {}, () => {
  let redis: TestRedis;
  let made: ReturnType<typeof replicas> | undefined;
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await made?.close();
    await redis?.stop();
  });

  it('lets the policy decide, keeps local counts, and brings Redis back to them', async () => {
    made = replicas(redis, 'outage:');
    const options = { commandTimeout: 100, leaseMs: 1000 };
    const { limiter: a, failures: fa } = await made.make(3, { ...options, replicaId: 'a' });
    const { limiter: b } = await made.make(3, { ...options, replicaId: 'b' });
    const { limiter: c, failures: fc } = await made.make(3, {
      ...options,
      replicaId: 'c',
      failurePolicy: 'closed',
    });
    assert.equal(await a.tryAcquire('k'), true);
    assert.equal(await a.tryAcquire('k'), true);
    assert.equal(await b.tryAcquire('k'), true);
    assert.equal(await b.tryAcquire('k'), false);

    await redis.kill('SIGKILL');
    a.release('k');
    a.release('k');
    assert.equal(a.held('k'), 0);
    // open: admitted and counted here; closed: refused
    assert.equal(await a.tryAcquire('k'), true);
    assert.equal(await a.tryAcquire('j'), true);
    assert.equal(await c.tryAcquire('k'), false);
    assert.deepEqual([a.held('k'), a.held('j'), b.held('k'), c.held('k')], [1, 1, 1, 0]);
    await eventually('the failed releases are reported', async () =>
      fa.some((f) => f.operation === 'release'),
    );
    const acquires = fa.filter((f) => f.operation === 'acquire');
    assert.deepEqual(
      acquires.map((f) => f.decision),
      ['admitted', 'admitted'],
    );
    assert.ok(
      acquires.every(
        (f) =>
          hasCode(f.error, ErrorCodes.ERR_STORE_UNAVAILABLE) ||
          hasCode(f.error, ErrorCodes.ERR_STORE_TIMEOUT),
      ),
    );
    assert.deepEqual(
      fc.filter((f) => f.operation === 'acquire').map((f) => f.decision),
      ['refused'],
    );

    // back, and empty: the replicas write their own counts again
    await redis.restart();
    await eventually('Redis counts what the replicas hold', async () => {
      try {
        return (await c.count('k')) === 2 && (await c.count('j')) === 1;
      } catch {
        return false;
      }
    });
    assert.equal(await c.tryAcquire('k'), true);
    assert.equal(await b.tryAcquire('k'), false);
    assert.equal(await c.count('k'), 3);
  });
});
