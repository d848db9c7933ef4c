// Balancer micro-benchmarks: pick+release per second at several group sizes, with a steady number of
// live connections. Each balancer runs in its own worker thread so the measuring loop's call sites
// see one balancer class only, as they do in a proxy that uses one balancer: running them all
// through one loop would make those call sites polymorphic and slow down whichever came later.
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { Balancer } from '../../src/lib/balancers/balancer.js';
import { createBalancer } from '../../src/lib/balancers/registry.js';
import type { Upstream, UpstreamOptions } from '../../src/lib/upstreams/upstream.js';
import { UpstreamGroup } from '../../src/lib/upstreams/upstream-group.js';
import type { BenchRow } from './report.js';

const JOB = 'switchyard-balancer-bench';
const SIZES = [10, 1_000, 100_000];
/** Live connections per upstream in the steady state, and their cap overall. */
const LIVE_PER_UPSTREAM = 4;
const MAX_LIVE = 1 << 18;
/** Distinct client keys for consistent-hash (a power of two, for masking). */
const KEY_COUNT = 1 << 17;

/** What one worker measures: one balancer at every size. */
interface Case {
  /** Registry name, or `linear-scan` for the baseline. */
  balancer: string;
  /** Row name. */
  name: string;
  /** Upstream i weighs 1 + (i % weights): 1 means all equal. */
  weights: number;
}

const CASES: Case[] = [
  { balancer: 'least-connections', name: 'least-connections pick+release', weights: 1 },
  {
    balancer: 'least-connections',
    name: 'least-connections pick+release (weights 1-4: buckets per weight)',
    weights: 4,
  },
  {
    balancer: 'least-connections',
    name: 'least-connections pick+release (weights 1-16: buckets per weight)',
    weights: 16,
  },
  {
    balancer: 'least-connections',
    name: 'least-connections pick+release (weights 1-64: heap)',
    weights: 64,
  },
  { balancer: 'linear-scan', name: 'linear-scan baseline pick+release (least-connections)', weights: 1 },
  { balancer: 'round-robin', name: 'round-robin pick+release', weights: 1 },
  { balancer: 'weighted-round-robin', name: 'weighted-round-robin pick+release (weights 1-4)', weights: 4 },
  { balancer: 'random', name: 'random pick+release', weights: 1 },
  { balancer: 'power-of-two', name: 'power-of-two pick+release', weights: 1 },
  { balancer: 'consistent-hash', name: 'consistent-hash pick+release (boundedLoad 1.25)', weights: 1 },
];

interface Job {
  job: typeof JOB;
  case: Case;
  quick: boolean;
}

/** Measures every balancer at 10, 1 000 and 100 000 upstreams, one worker thread per balancer. */
export async function runBalancerBenchmarks(options: { quick: boolean }): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  // One at a time: the machine is small and shared, and parallel runs would measure each other.
  for (const c of CASES) rows.push(...(await inWorker({ job: JOB, case: c, quick: options.quick })));
  return rows;
}

function inWorker(job: Job): Promise<BenchRow[]> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: job });
    let rows: BenchRow[] | undefined;
    worker.once('message', (m: BenchRow[]) => {
      rows = m;
    });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (rows !== undefined) resolve(rows);
      else reject(new Error(`balancer benchmark worker for ${job.case.balancer} exited with ${code}`));
    });
  });
}

/** The obvious least-connections: look at every upstream on every pick. Here to compare against. */
class LinearScanBalancer implements Balancer {
  readonly name = 'linear-scan';
  #list: readonly Upstream[] = [];

  reset(upstreams: readonly Upstream[]): void {
    this.#list = upstreams;
  }

  update(_upstream: Upstream): void {}

  pick(_key?: string): Upstream | undefined {
    const list = this.#list;
    let best: Upstream | undefined;
    for (let i = 0; i < list.length; i++) {
      const u = list[i];
      if (!u.available()) continue;
      if (best === undefined || u.active * best.weight < best.active * u.weight) best = u;
    }
    return best;
  }

  acquired(_upstream: Upstream): void {}

  released(_upstream: Upstream): void {}
}

/** Where the steady-state loop is between batches. */
interface Cursor {
  slot: number;
  key: number;
}

// One op does what the group does around a connection's life, minus its bookkeeping of bytes:
// pick, count, tell the balancer; and the oldest live connection ends, uncount, tell the balancer.
function run(b: Balancer, ring: Upstream[], keys: string[], ops: number, at: Cursor): number {
  let slot = at.slot;
  let key = at.key;
  let misses = 0;
  for (let n = 0; n < ops; n++) {
    const u = b.pick(keys[key]);
    key = (key + 1) & (KEY_COUNT - 1);
    if (u === undefined) {
      misses++;
      continue;
    }
    u.active++;
    b.acquired(u);
    const old = ring[slot];
    ring[slot] = u;
    old.active--;
    b.released(old);
    slot = slot + 1 === ring.length ? 0 : slot + 1;
  }
  at.slot = slot;
  at.key = key;
  return misses;
}

function timed(b: Balancer, ring: Upstream[], keys: string[], ops: number, at: Cursor): number {
  const t0 = process.hrtime.bigint();
  if (run(b, ring, keys, ops, at) !== 0) throw new Error(`${b.name}: pick found no upstream`);
  return Number(process.hrtime.bigint() - t0);
}

function measureSize(c: Case, size: number, quick: boolean, keys: string[]): BenchRow {
  const balancer: Balancer =
    c.balancer === 'linear-scan'
      ? new LinearScanBalancer()
      : createBalancer(c.balancer, { boundedLoad: 1.25 });
  const options: UpstreamOptions[] = [];
  for (let i = 0; i < size; i++) {
    options.push({
      address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:8080`,
      weight: 1 + (i % c.weights),
    });
  }
  const group = new UpstreamGroup('bench', { balancer, upstreams: options });
  const ups = group.upstreams;
  // Start in the steady state directly (filling through picks would take minutes for the linear
  // scan at 100 000): spread the live connections evenly, then let reset read the counters.
  const ring: Upstream[] = new Array(Math.min(size * LIVE_PER_UPSTREAM, MAX_LIVE));
  for (let s = 0; s < ring.length; s++) {
    const u = ups[s % size];
    u.active++;
    ring[s] = u;
  }
  balancer.reset(ups);

  const batchNs = quick ? 15e6 : 100e6;
  const warmNs = quick ? 60e6 : 500e6;
  const rounds = quick ? 5 : 15;
  const at: Cursor = { slot: 0, key: 0 };
  let ops = 1;
  let spent = 0;
  for (;;) {
    const t = timed(balancer, ring, keys, ops, at);
    spent += t;
    if (t >= batchNs / 4) {
      ops = Math.max(1, Math.round((ops * batchNs) / t));
      break;
    }
    ops *= 2;
  }
  while (spent < warmNs) spent += timed(balancer, ring, keys, ops, at);
  const rates: number[] = [];
  for (let r = 0; r < rounds; r++) rates.push((ops * 1e9) / timed(balancer, ring, keys, ops, at));
  rates.sort((a, b) => a - b);
  const median = rates[rates.length >> 1];
  return {
    suite: 'balancer',
    name: c.name,
    size,
    opsPerSec: median,
    extra: {
      live: ring.length,
      nsPerOp: 1e9 / median,
      minMops: rates[0] / 1e6,
      maxMops: rates[rates.length - 1] / 1e6,
    },
  };
}

function measureCase(job: Job): BenchRow[] {
  const keys: string[] = [];
  for (let i = 0; i < KEY_COUNT; i++) {
    // Through a Buffer so each key is a flat string, as a socket's address is; a template literal
    // gives a rope that every hash would walk through an extra indirection.
    const key = `${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}.7:${40000 + (i % 20000)}`;
    keys.push(Buffer.from(key, 'latin1').toString('latin1'));
  }
  return SIZES.map((size) => measureSize(job.case, size, job.quick, keys));
}

if (!isMainThread && (workerData as Job | undefined)?.job === JOB) {
  parentPort?.postMessage(measureCase(workerData as Job));
}
