import { MemoryStore } from '../../src/lib/ratelimit/memory-store.js';
import { createRedisClient } from '../../src/lib/ratelimit/redis-client.js';
import { RedisConcurrencyLimiter } from '../../src/lib/ratelimit/redis-concurrency.js';
import { RedisStore } from '../../src/lib/ratelimit/redis-store.js';
import { createRateLimitAlgorithm } from '../../src/lib/ratelimit/registry.js';
import { startRedis } from '../../test/helpers/redis-server.js';
import type { BenchRow } from './report.js';

// Rate-limit decisions and concurrency slots through a real redis-server on loopback, against the
// in-memory store in the same run: what a balancer with `limitStore.type: redis` pays per admitted
// connection. One decision at a time gives the latency a connection waits; many in flight show
// what node-redis's pipelining (every command of one event-loop turn in one write) gets out of
// one connection.

const ALGORITHMS = ['fixed-window', 'token-bucket', 'sliding-window', 'gcra'] as const;
const CLIENTS = 10_000;
const IN_FLIGHT = 64;

/** Runs the Redis rows; none when redis-server is not installed (said on stderr). */
export async function runRedisStoreBenchmarks(options: { quick: boolean }): Promise<BenchRow[]> {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  try {
    redis = await startRedis();
  } catch (err) {
    console.error(`redis-store rows skipped: ${(err as Error).message} (install redis-server)`);
    return [];
  }
  const client = createRedisClient({ url: redis.url });
  await client.connect();
  const decisions = options.quick ? 2_000 : 20_000;
  const rows: BenchRow[] = [];
  try {
    for (const name of ALGORITHMS) {
      // a limit no client reaches: every decision is an admitted connection's
      const algorithm = createRateLimitAlgorithm({ algorithm: name, limit: 1_000_000, window: 60_000 });
      const memory = new MemoryStore(algorithm);
      const start = performance.now();
      for (let i = 0; i < decisions; i++)
        memory.take(`client-${i % CLIENTS}`, performance.timeOrigin + performance.now());
      const memorySeconds = (performance.now() - start) / 1000;
      const store = new RedisStore(algorithm, { client, keyPrefix: `bench-${name}:`, commandTimeout: 1000 });
      const seqCpu0 = process.cpuUsage();
      const latencies = await oneAtATime(decisions, (i) => store.take(`client-${i % CLIENTS}`, 0));
      const seqCpu = process.cpuUsage(seqCpu0);
      const cpu0 = process.cpuUsage();
      const pipelinedSeconds = await inFlight(decisions, (i) => store.take(`client-${i % CLIENTS}`, 0));
      const cpu = process.cpuUsage(cpu0);
      const sequentialRate = decisions / (latencies.reduce((a, b) => a + b, 0) / 1000);
      rows.push({
        suite: 'redis-store',
        name: `${name} take, memory store`,
        size: CLIENTS,
        opsPerSec: decisions / memorySeconds,
        extra: { perSec: Math.round(decisions / memorySeconds) },
      });
      rows.push({
        suite: 'redis-store',
        name: `${name} take, Redis, 1 at a time`,
        size: CLIENTS,
        opsPerSec: sequentialRate,
        extra: {
          perSec: Math.round(sequentialRate),
          cpuUs: (seqCpu.user + seqCpu.system) / decisions,
          p50us: percentile(latencies, 0.5) * 1000,
          p99us: percentile(latencies, 0.99) * 1000,
        },
      });
      rows.push({
        suite: 'redis-store',
        name: `${name} take, Redis, ${IN_FLIGHT} in flight`,
        size: CLIENTS,
        opsPerSec: decisions / pipelinedSeconds,
        // the balancer's own CPU per decision (node-redis and the store), Redis's not counted
        extra: {
          perSec: Math.round(decisions / pipelinedSeconds),
          cpuUs: (cpu.user + cpu.system) / decisions,
        },
      });
    }
    const limiter = new RedisConcurrencyLimiter(1_000_000, {
      client,
      keyPrefix: 'bench-cc:',
      commandTimeout: 1000,
    });
    limiter.start();
    const latencies = await oneAtATime(decisions, async (i) => {
      const key = `client-${i % CLIENTS}`;
      await limiter.tryAcquire(key);
      limiter.release(key);
    });
    rows.push({
      suite: 'redis-store',
      name: 'concurrency acquire (+ release), Redis, 1 at a time',
      size: CLIENTS,
      opsPerSec: decisions / (latencies.reduce((a, b) => a + b, 0) / 1000),
      extra: {
        perSec: Math.round(decisions / (latencies.reduce((a, b) => a + b, 0) / 1000)),
        p50us: percentile(latencies, 0.5) * 1000,
        p99us: percentile(latencies, 0.99) * 1000,
      },
    });
    await limiter.stop();
  } finally {
    client.destroy();
    await redis.stop();
  }
  return rows;
}

/** Runs `op` `count` times one after the other; each one's ms. */
async function oneAtATime(count: number, op: (i: number) => Promise<unknown>): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    await op(i);
    ms.push(performance.now() - t0);
  }
  return ms;
}

/** Runs `op` `count` times with up to IN_FLIGHT at once; the seconds it took. */
async function inFlight(count: number, op: (i: number) => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  let next = 0;
  const lane = async () => {
    while (next < count) await op(next++);
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
  return (performance.now() - t0) / 1000;
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}
