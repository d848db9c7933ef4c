import { spawn } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { windowStart } from '../../src/lib/ratelimit/fixed-window.js';
import { MemoryStore } from '../../src/lib/ratelimit/memory-store.js';
import { RateLimiter } from '../../src/lib/ratelimit/rate-limiter.js';
import { createRateLimitAlgorithm } from '../../src/lib/ratelimit/registry.js';
import { systemClock } from '../../src/lib/time/clock.js';
import type { BenchRow } from './report.js';

// Rate-limit decisions at a million tracked clients, and the bytes each client costs. Every case
// runs in its own child process with --expose-gc: memory is measured from a clean heap, and one
// case's garbage or JIT feedback never slows the next.

const CLIENTS = 1_000_000;
const LIMIT = 100;
const WINDOW = 60_000;
// the clock is read once per batch, as one event-loop turn shares one time; read per decision it
// costs about as much as the lookup itself on some VMs (see the RateLimiter row)
const BATCH = 1024;
const CHILD_FLAG = '--ratelimit-bench-child';
const CASES = ['naive', 'fixed-window', 'token-bucket', 'sliding-window', 'gcra'] as const;

type Case = (typeof CASES)[number];

/**
 * Runs every rate-limit case, each in a fresh child process, and returns one row per measurement;
 * `vsNaive` is the median ratio to the naive baseline timed round for round in the same process.
 */
export async function runRateLimitBenchmarks(options: { quick: boolean }): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const c of CASES) rows.push(...(await runChild(c, options.quick)));
  return rows;
}

function runChild(c: Case, quick: boolean): Promise<BenchRow[]> {
  const args = ['--expose-gc', fileURLToPath(import.meta.url), CHILD_FLAG, c, quick ? 'quick' : 'full'];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`rate-limit bench case ${c} exited with ${code}`));
      else resolve(JSON.parse(out.trim().split('\n').at(-1) ?? '[]') as BenchRow[]);
    });
  });
}

/** `client-000123` for 0..n-1, as flat strings like the ids a server reads off a socket. */
function makeKeys(n: number): string[] {
  const keys = new Array<string>(n);
  // a template literal makes a rope of two strings (24 extra bytes) that a server never holds
  for (let i = 0; i < n; i++)
    keys[i] = Buffer.from(`client-${String(i).padStart(6, '0')}`, 'latin1').toString('latin1');
  return keys;
}

/**
 * How decisions visit the clients: `random` is a fixed pseudo-random sequence (every decision a
 * cold key, the worst case for caches), `sweep` takes each client in turn (the baseline the issue
 * quotes its naive figure for). Both pass the very strings the clients were first seen with, which
 * V8 compares by identity. A server builds a new string per connection, so `equal strings` visits in
 * the random order with a second set of equal but distinct strings, compared by their text. (A Map
 * still finds each one's hash cached in it after its first lookup; a server's would not be.) Every
 * case sees the same sequences.
 */
const PATTERNS = ['random', 'sweep', 'equal strings'] as const;

type Pattern = (typeof PATTERNS)[number];

function makeOrder(pattern: Pattern, length: number, n: number): Int32Array {
  const order = new Int32Array(length);
  let x = 0x9e3779b9;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    order[i] = pattern === 'sweep' ? i % n : (x >>> 0) % n;
  }
  return order;
}

function heapBytes(gc: () => void): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1];
}

/** What the issue calls naive: a Map of one window object per client. */
interface NaiveWindow {
  start: number;
  count: number;
}

function naiveTake(map: Map<string, NaiveWindow>, key: string, now: number): number {
  // the same window arithmetic as the library's, so the comparison is about data layout alone
  const start = windowStart(now, WINDOW);
  let w = map.get(key);
  if (w === undefined) {
    w = { start, count: 0 };
    map.set(key, w);
  } else if (w.start !== start) {
    w.start = start;
    w.count = 0;
  }
  if (w.count < LIMIT) {
    w.count++;
    return 0;
  }
  return Math.ceil(start + WINDOW - now);
}

// separate loops per kind keep each call site monomorphic, as in a server running one limiter
function roundNaive(
  map: Map<string, NaiveWindow>,
  keys: string[],
  order: Int32Array,
  from: number,
  to: number,
) {
  let allowed = 0;
  for (let b = from; b < to; b += BATCH) {
    const now = systemClock();
    const end = Math.min(to, b + BATCH);
    for (let i = b; i < end; i++) if (naiveTake(map, keys[order[i]], now) === 0) allowed++;
  }
  return allowed;
}

function roundStore(store: MemoryStore, keys: string[], order: Int32Array, from: number, to: number) {
  let allowed = 0;
  for (let b = from; b < to; b += BATCH) {
    const now = systemClock();
    const end = Math.min(to, b + BATCH);
    for (let i = b; i < end; i++) if (store.take(keys[order[i]], now) === 0) allowed++;
  }
  return allowed;
}

function roundLimiter(limiter: RateLimiter, keys: string[], order: Int32Array, from: number, to: number) {
  let allowed = 0;
  for (let i = from; i < to; i++) if (limiter.take(keys[order[i]]) === 0) allowed++;
  return allowed;
}

type Round = (from: number, to: number) => number;

/** Median ops/s of each round in `measured`, timed in turn round by round, so load drift hits all alike. */
function interleaved(measured: Round[], rounds: number, perRound: number): number[][] {
  const rates: number[][] = measured.map(() => []);
  for (let r = 0; r < rounds; r++) {
    const from = r * perRound;
    measured.forEach((round, i) => {
      const start = performance.now();
      round(from, from + perRound);
      rates[i].push(perRound / ((performance.now() - start) / 1000));
    });
  }
  return rates;
}

async function childMain(c: Case, quick: boolean): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('the rate-limit bench child needs --expose-gc');
  const rounds = quick ? 5 : 11;
  const perRound = quick ? 300_000 : 1_000_000;
  const rows: BenchRow[] = [];

  const before = heapBytes(gc);
  // the key strings and the array holding them count as per-client memory, which is conservative
  const keys = makeKeys(CLIENTS);
  const t0 = systemClock();
  // made after the memory figure is taken below, so they never count as per-client memory
  let equal: string[] | undefined;
  const lookupKeys = (pattern: Pattern): string[] => {
    if (pattern !== 'equal strings') return keys;
    if (equal === undefined) {
      equal = makeKeys(CLIENTS);
      // settle the garbage of making them now, not during the timed rounds
      heapBytes(gc);
    }
    return equal;
  };
  const naive = new Map<string, NaiveWindow>();
  if (c === 'naive') {
    for (let i = 0; i < CLIENTS; i++) naiveTake(naive, keys[i], t0);
    const bytesPerClient = (heapBytes(gc) - before) / CLIENTS;
    for (const pattern of PATTERNS) {
      const order = makeOrder(pattern, rounds * perRound, CLIENTS);
      const look = lookupKeys(pattern);
      const [rates] = interleaved([(f, t) => roundNaive(naive, look, order, f, t)], rounds, perRound);
      rows.push(row(`naive Map of window objects (baseline), ${pattern}`, median(rates), bytesPerClient, 1));
    }
  } else {
    const config = { algorithm: c, limit: LIMIT, window: WINDOW };
    const store = new MemoryStore(createRateLimitAlgorithm(config));
    for (let i = 0; i < CLIENTS; i++) store.take(keys[i], t0);
    const bytesPerClient = (heapBytes(gc) - before) / CLIENTS;
    // the baseline runs again here, after the measurement of memory, round for round with the
    // store: on a shared machine only such pairs compare fairly
    for (let i = 0; i < CLIENTS; i++) naiveTake(naive, keys[i], t0);
    const limiter = new RateLimiter(config, { store: () => store });
    for (const pattern of PATTERNS) {
      const order = makeOrder(pattern, rounds * perRound, CLIENTS);
      const look = lookupKeys(pattern);
      const measured: Round[] = [
        (f, t) => roundNaive(naive, look, order, f, t),
        (f, t) => roundStore(store, look, order, f, t),
      ];
      if (c === 'gcra') measured.push((f, t) => roundLimiter(limiter, look, order, f, t));
      const [base, ...rates] = interleaved(measured, rounds, perRound);
      const vs = (r: number[]) => median(r.map((x, i) => x / base[i]));
      rows.push(row(`${c} MemoryStore.take, ${pattern}`, median(rates[0]), bytesPerClient, vs(rates[0])));
      if (c === 'gcra') {
        const name = `gcra RateLimiter.take (clock read per decision), ${pattern}`;
        rows.push(row(name, median(rates[1]), bytesPerClient, vs(rates[1])));
      }
    }
  }
  process.stdout.write(`${JSON.stringify(rows)}\n`);
}

function row(name: string, opsPerSec: number, bytesPerClient: number, vsNaive: number): BenchRow {
  return {
    suite: 'ratelimit',
    name,
    size: CLIENTS,
    opsPerSec: Math.round(opsPerSec),
    extra: { bytesPerClient: Math.round(bytesPerClient * 10) / 10, vsNaive: Math.round(vsNaive * 100) / 100 },
  };
}

if (process.argv[2] === CHILD_FLAG && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await childMain(process.argv[3] as Case, process.argv[4] === 'quick');
}
