// `npm run bench:lib`: the library micro-benchmarks (balancers, rate limiters, the proxy's events) as
// a table, or with --json as one JSON document. --quick shortens every run; --only
// balancer|ratelimit|events|redis picks a suite.
import { cpus, totalmem } from 'node:os';
import { runBalancerBenchmarks } from './balancers.js';
import { runEventBenchmarks } from './events.js';
import { runRateLimitBenchmarks } from './ratelimit.js';
import { runRedisStoreBenchmarks } from './redis-store.js';
import { type BenchRow, printTable } from './report.js';
import { checkTargets, printTargets } from './targets.js';

const args = process.argv.slice(2);
const json = args.includes('--json');
const quick = args.includes('--quick');
const onlyIndex = args.indexOf('--only');
const only = onlyIndex >= 0 ? args[onlyIndex + 1] : undefined;

const rows: BenchRow[] = [];
if (only === undefined || only === 'balancer') rows.push(...(await runBalancerBenchmarks({ quick })));
if (only === undefined || only === 'ratelimit') rows.push(...(await runRateLimitBenchmarks({ quick })));
if (only === undefined || only === 'events') rows.push(...runEventBenchmarks({ quick }));
if (only === undefined || only === 'redis') rows.push(...(await runRedisStoreBenchmarks({ quick })));

const machine = {
  node: process.version,
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  date: new Date().toISOString(),
  command: `npm run bench:lib -- ${args.join(' ')}`.trim(),
};

if (json) {
  console.log(JSON.stringify({ machine, rows, targets: checkTargets(rows) }, null, 2));
} else {
  console.log(`Node ${machine.node} on ${machine.cpu} (${machine.cores} cores, ${machine.memoryGiB} GiB)`);
  printTable(rows);
  printTargets(checkTargets(rows));
}
