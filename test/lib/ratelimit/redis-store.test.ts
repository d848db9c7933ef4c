import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCodes, hasCode } from '../../../src/lib/errors.js';
import type { RateLimitAlgorithm } from '../../../src/lib/ratelimit/algorithm.js';
import { MemoryStore } from '../../../src/lib/ratelimit/memory-store.js';
import type { RateLimitConfig } from '../../../src/lib/ratelimit/rate-limit-config.js';
import { createRedisClient } from '../../../src/lib/ratelimit/redis-client.js';
import type { LimitStoreFailure } from '../../../src/lib/ratelimit/redis-limit-options.js';
import { RedisStore, type RedisStoreOptions } from '../../../src/lib/ratelimit/redis-store.js';
import { createRateLimitAlgorithm } from '../../../src/lib/ratelimit/registry.js';
import { seededRandom } from '../../helpers/random.js';
import { startRedis, startTlsRedis, type TestRedis } from '../../helpers/redis-server.js';
import { describeWith, installed, REDIS_SERVER } from '../../helpers/system-tools.js';

const HAVE_REDIS = await installed(REDIS_SERVER);

type Client = ReturnType<typeof createRedisClient>;

async function connected(redis: TestRedis): Promise<Client> {
  const client = createRedisClient({ url: redis.url, ...(redis.tls && { tls: redis.tls }) });
  await client.connect();
  return client;
}

/** Polls `check` until it returns true; fails after `ms`. A functional deadline, not a timing assertion. */
async function eventually(what: string, check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`never happened within ${ms} ms: ${what}`);
    await sleep(20);
  }
}

const configs: RateLimitConfig[] = [
  { algorithm: 'fixed-window', limit: 3, window: 1000 },
  { algorithm: 'sliding-window', limit: 3, window: 1000 },
  { algorithm: 'sliding-window', limit: 5, window: 300 },
  { algorithm: 'token-bucket', limit: 3, window: 1000 },
  { algorithm: 'token-bucket', limit: 3, window: 1000, burst: 5 },
  { algorithm: 'token-bucket', limit: 3, window: 1000, burst: 1 },
  { algorithm: 'gcra', limit: 3, window: 1000 },
  { algorithm: 'gcra', limit: 3, window: 1000, burst: 5 },
  { algorithm: 'gcra', limit: 7, window: 1000, burst: 1 },
];

const label = (c: RateLimitConfig): string =>
  `${c.algorithm} ${c.limit}/${c.window}${c.burst === undefined ? '' : ` burst ${c.burst}`}`;

// hand-picked: fractional times, both sides of window edges, a long idle gap, several keys
const handPicked: [string, number][] = [
  ['a', 0],
  ['a', 0.5],
  ['b', 0.5],
  ['a', 1],
  ['a', 100.25],
  ['a', 333.3333333333333],
  ['b', 666.6666666666666],
  ['a', 999],
  ['a', 999.999],
  ['a', 1000],
  ['a', 1000],
  ['a', 1000.001],
  ['c', 1000.001],
  ['a', 1001.5],
  ['a', 1333.4],
  ['b', 1499.9999999],
  ['a', 1999.5],
  ['a', 2000],
  ['a', 2000.25],
  ['a', 2000.5],
  ['a', 2000.75],
  ['c', 2999.999999],
  ['a', 12_000],
  ['a', 12_000.1],
  ['a', 12_000.2],
  ['a', 12_000.3],
  ['b', 12_000.3],
  ['a', 13_000],
  ['a', 60_000.0001],
];

// a drained bucket refilled by a fraction that rounds just short of one token (needs the slack)
const roundingEdge: [string, number][] = [
  ...Array.from({ length: 6 }, (): [string, number] => ['d', 0]),
  ['d', 333.3333333333333],
  ['d', 666.6666666666666],
  ['d', 999.9999999999999],
  ['d', 1000],
];

/** A seeded walk over three keys: bursts, small steps, window edges, sometimes a long gap. */
function randomWalk(seed: number, length: number): [string, number][] {
  const random = seededRandom(seed);
  const calls: [string, number][] = [];
  let now = random() * 1000;
  for (let i = 0; i < length; i++) {
    const r = random();
    if (r < 0.3) now += random() * 5;
    else if (r < 0.6) now += random() * 120;
    else if (r < 0.8) now = Math.ceil(now / 100) * 100 - (random() < 0.5 ? 0 : 0.001);
    else if (r < 0.95) now += random() * 900;
    else now += 3000 + random() * 5000;
    calls.push([['k1', 'k2', 'k3'][Math.floor(random() * 3)], now]);
  }
  return calls;
}

describeWith(REDIS_SERVER, HAVE_REDIS, 'RedisStore', {}, () => {
  let redis: TestRedis;
  let client: Client;
  before(async () => {
    redis = await startRedis();
    client = await connected(redis);
  });
  after(async () => {
    client?.destroy();
    await redis?.stop();
  });

  describe('decides exactly like MemoryStore (caller clock)', () => {
    configs.forEach((config, n) => {
      it(label(config), async () => {
        const sequences = [handPicked, roundingEdge, randomWalk(n + 1, 150), randomWalk(100 + n, 150)];
        const all: number[] = [];
        for (const [s, calls] of sequences.entries()) {
          const algorithm = createRateLimitAlgorithm(config);
          const memory = new MemoryStore(algorithm);
          const failures: LimitStoreFailure[] = [];
          const store = new RedisStore(algorithm, {
            client,
            clock: 'caller',
            keyPrefix: `same-${n}-${s}:`,
            onFailure: (f) => failures.push(f),
          });
          const fromMemory: number[] = [];
          const fromRedis: number[] = [];
          for (const [key, now] of calls) {
            fromMemory.push(memory.take(key, now));
            fromRedis.push(await store.take(key, now));
          }
          assert.deepEqual(failures, []);
          assert.deepEqual(fromRedis, fromMemory, `sequence ${s}`);
          all.push(...fromMemory);
        }
        // the sequences exercise both answers
        assert.ok(all.includes(0) && all.some((r) => r > 0));
      });
    });
  });

  it('gives keys an expiry no longer than idleTtl, and they disappear by themselves', async () => {
    for (const config of [
      { algorithm: 'fixed-window', limit: 3, window: 300 },
      { algorithm: 'sliding-window', limit: 3, window: 150 },
      { algorithm: 'token-bucket', limit: 3, window: 300, burst: 2 },
      { algorithm: 'gcra', limit: 3, window: 300 },
    ]) {
      const algorithm = createRateLimitAlgorithm(config);
      const store = new RedisStore(algorithm, { client, keyPrefix: 'ttl:' });
      assert.equal(await store.take('k', 0), 0);
      assert.equal(await store.take('k', 0), 0);
      const ttl = Number(await client.sendCommand(['PTTL', store.redisKey('k')]));
      assert.ok(ttl > 0 && ttl <= algorithm.idleTtl, `${config.algorithm}: PTTL ${ttl}`);
      await eventually(
        `${config.algorithm} key expires`,
        async () => Number(await client.sendCommand(['EXISTS', store.redisKey('k')])) === 0,
      );
      // and the next request is a fresh key's
      assert.equal(await store.take('k', 0), 0);
    }
  });

  it('reset deletes the key', async () => {
    const store = new RedisStore(createRateLimitAlgorithm({ algorithm: 'gcra', limit: 1, window: 60_000 }), {
      client,
      keyPrefix: 'reset:',
    });
    assert.equal(await store.take('k', 0), 0);
    assert.ok((await store.take('k', 0)) > 0);
    await store.reset('k');
    assert.equal(Number(await client.sendCommand(['EXISTS', store.redisKey('k')])), 0);
    assert.equal(await store.take('k', 0), 0);
  });

  it('loads its script again after SCRIPT FLUSH', async () => {
    const failures: LimitStoreFailure[] = [];
    const store = new RedisStore(
      createRateLimitAlgorithm({ algorithm: 'fixed-window', limit: 1, window: 60_000 }),
      { client, keyPrefix: 'flush:', onFailure: (f) => failures.push(f) },
    );
    assert.equal(await store.take('k', 0), 0);
    await client.sendCommand(['SCRIPT', 'FLUSH']);
    // a real decision (refused), not the open policy's 0
    assert.ok((await store.take('k', 0)) > 0);
    assert.deepEqual(failures, []);
  });

  it("with Redis's clock allows exactly limit of a burst", async () => {
    for (const algorithm of ['fixed-window', 'sliding-window', 'token-bucket', 'gcra']) {
      const store = new RedisStore(createRateLimitAlgorithm({ algorithm, limit: 3, window: 60_000 }), {
        client,
        keyPrefix: 'burst:',
      });
      // `now` is ignored on this clock, so nonsense times change nothing
      const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => store.take('k', i * 1e9)));
      assert.equal(answers.filter((r) => r === 0).length, 3, algorithm);
      // a full sliding window waits into the next one, so up to two windows
      assert.ok(
        answers.every((r) => r === 0 || (r > 0 && r <= 120_000)),
        `${algorithm}: ${answers}`,
      );
    }
  });

  it('peeks like MemoryStore, reading the stored state and counting nothing (caller clock)', async () => {
    for (const [n, config] of configs.entries()) {
      const algorithm = createRateLimitAlgorithm(config);
      const memory = new MemoryStore(algorithm);
      const store = new RedisStore(algorithm, { client, clock: 'caller', keyPrefix: `peek-${n}:` });
      for (const [key, now] of randomWalk(200 + n, 60)) {
        assert.deepEqual(
          await store.peek(key, now),
          memory.peek(key, now),
          `${label(config)} ${key} at ${now}`,
        );
        assert.equal(await store.take(key, now), memory.take(key, now));
      }
    }
  });

  it("peeks on Redis's clock", async () => {
    for (const algorithm of ['fixed-window', 'sliding-window', 'token-bucket', 'gcra']) {
      const store = new RedisStore(createRateLimitAlgorithm({ algorithm, limit: 3, window: 60_000 }), {
        client,
        keyPrefix: 'peek-clock:',
      });
      assert.equal((await store.peek('k', 0)).remaining, 3, algorithm);
      await store.take('k', 0);
      await store.take('k', 0);
      assert.equal((await store.peek('k', 0)).remaining, 1, algorithm);
      assert.equal((await store.peek('k', 0)).remaining, 1, `${algorithm}: a peek takes nothing`);
    }
  });

  it('refuses an algorithm it has no script for', () => {
    const custom: RateLimitAlgorithm = {
      ...createRateLimitAlgorithm({ algorithm: 'gcra', limit: 1, window: 1000 }),
      name: 'custom',
    };
    assert.throws(
      () => new RedisStore(custom, { client }),
      (err: unknown) => hasCode(err, ErrorCodes.ERR_UNKNOWN_RATE_LIMIT_ALGORITHM),
    );
  });
});

describeWith(REDIS_SERVER, HAVE_REDIS, 'RedisStore when Redis fails', {}, () => {
  let redis: TestRedis;
  let client: Client;
  before(async () => {
    redis = await startRedis();
    client = await connected(redis);
  });
  after(async () => {
    client?.destroy();
    await redis?.stop();
  });

  const limitOne = () => createRateLimitAlgorithm({ algorithm: 'fixed-window', limit: 1, window: 60_000 });
  const stores = (prefix: string) => {
    const failures: LimitStoreFailure[] = [];
    const options = (failurePolicy: 'open' | 'closed'): RedisStoreOptions => ({
      client,
      keyPrefix: `${prefix}-${failurePolicy}:`,
      commandTimeout: 100,
      failurePolicy,
      onFailure: (f) => failures.push(f),
    });
    return {
      failures,
      open: new RedisStore(limitOne(), options('open')),
      closed: new RedisStore(limitOne(), options('closed')),
    };
  };

  it('answers by its policy within the timeout while Redis is paused', async () => {
    const { failures, open, closed } = stores('paused');
    assert.equal(await open.take('k', 0), 0);
    assert.ok((await open.take('k', 0)) > 0);
    redis.pause();
    try {
      // a real decision would refuse the open store's key and admit the closed store's fresh one
      assert.equal(await open.take('k', 0), 0);
      assert.equal(await closed.take('k', 0), 1000);
    } finally {
      redis.resume();
    }
    assert.deepEqual(
      failures.map((f) => [f.operation, f.decision, hasCode(f.error, ErrorCodes.ERR_STORE_TIMEOUT)]),
      [
        ['rate', 'admitted', true],
        ['rate', 'refused', true],
      ],
    );
    await open.stop();
    await closed.stop();
  });

  it('answers by its policy while Redis is down, and decides again once it is back', async () => {
    const { failures, open, closed } = stores('down');
    await redis.kill('SIGKILL');
    assert.equal(await open.take('k', 0), 0);
    assert.equal(await closed.take('k', 0), 1000);
    assert.equal(failures.length, 2);
    assert.deepEqual(
      failures.map((f) => f.decision),
      ['admitted', 'refused'],
    );
    assert.ok(
      failures.every(
        (f) =>
          hasCode(f.error, ErrorCodes.ERR_STORE_UNAVAILABLE) ||
          hasCode(f.error, ErrorCodes.ERR_STORE_TIMEOUT),
      ),
    );
    await redis.restart();
    // the same store, the same client: a fresh key is admitted for real (the closed policy would refuse)
    await eventually('a real decision after the restart', async () => (await closed.take('k', 0)) === 0);
    const before = failures.length;
    assert.ok((await closed.take('k', 0)) > 0);
    assert.equal(await closed.take('other', 0), 0);
    assert.equal(failures.length, before);
  });
});

describeWith(REDIS_SERVER, HAVE_REDIS, 'RedisStore over TLS', {}, () => {
  let redis: TestRedis;
  let client: Client;
  before(async () => {
    redis = await startTlsRedis();
    client = await connected(redis);
  });
  after(async () => {
    client?.destroy();
    await redis?.stop();
  });

  it('decides over rediss:// with a client certificate', async () => {
    assert.match(redis.url, /^rediss:\/\//);
    const failures: LimitStoreFailure[] = [];
    const store = new RedisStore(createRateLimitAlgorithm({ algorithm: 'gcra', limit: 2, window: 60_000 }), {
      client,
      onFailure: (f) => failures.push(f),
    });
    assert.deepEqual([await store.take('k', 0), await store.take('k', 0)], [0, 0]);
    assert.ok((await store.take('k', 0)) > 0);
    assert.deepEqual(failures, []);
  });
});
