/**
 * The proxy benchmark suite: starts the upstreams and every requested target once, runs each
 * scenario on each target in turn (targets interleaved within a repetition, so load drift on a
 * shared machine hits all of them alike), and reduces the runs to medians and ratios.
 */
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCodes, SwitchyardError } from '../lib/errors.js';
import { writeBenchCerts } from './bench-certs.js';
import { runHandshakes } from './load/handshakes.js';
import { detectIperf3 } from './load/iperf3.js';
import { runRequests } from './load/request-loop.js';
import { runUdpEchoLoop } from './load/udp-echo-loop.js';
import { detectWrk } from './load/wrk.js';
import { refusalsBetween } from './measure/refusals.js';
import { readMachineInfo } from './report/machine-info.js';
import { nginxInsteadOfHaproxy } from './report/nginx-ratios.js';
import type { Progress } from './report/progress.js';
import type { RunReport, ToolVersions } from './report/run-report.js';
import { benchWarnings } from './report/warnings.js';
import {
  AGREEMENT_PAIRS,
  type RowSpec,
  SCENARIOS,
  type Scenario,
  type ScenarioContext,
  type ScenarioMeasurement,
  UDP_SCENARIO_ID,
} from './scenarios.js';
import { TARGETS } from './targets/registry.js';
import type { BenchResult, Latency, RunningTarget, Target, TargetName } from './types.js';
import { startBenchUpstreams } from './upstream/bench-upstreams.js';

/** How to run the suite. */
export interface SuiteOptions {
  /** Targets to run, in report order; those not installed are left out and named in the notes. */
  targets: TargetName[];
  /** Scenario ids to run (see {@link SCENARIOS}); all when empty. */
  scenarios: string[];
  repetitions: number;
  durationMs: number;
  idleConnections: number;
  /** Warm-up load per target before the first measurement, ms. */
  warmupMs: number;
  /** Use wrk for the HTTP scenarios when it is installed. */
  wrk: boolean;
  /** Run the iperf3 scenarios when iperf3 is installed; false leaves them out. */
  iperf3: boolean;
  quick: boolean;
  /** The command line, for the report. */
  command: string;
  /** Told before every measured run; undefined for none. */
  progress?: (total: number) => Progress;
  /** Stops the suite before its next run; every process it started is stopped before it rejects. */
  signal?: AbortSignal;
}

/** Presets: `--quick` finishes in under two minutes on two cores, the full run in about eight. */
export const QUICK_DEFAULTS = { repetitions: 1, durationMs: 1500, idleConnections: 1000, warmupMs: 300 };
export const FULL_DEFAULTS = { repetitions: 3, durationMs: 5000, idleConnections: 5000, warmupMs: 1000 };

/** Runs the suite and returns everything the table, the JSON and the docs show. */
export async function runSuite(options: SuiteOptions): Promise<RunReport> {
  const startedAt = new Date().toISOString();
  let scenarios = selectScenarios(options.scenarios);
  const notes: string[] = [];
  const versions: ToolVersions = {};
  const available: Target[] = [];
  for (const name of options.targets) {
    const target = TARGETS.find((t) => t.name === name)!;
    const version = await target.detect();
    if (version === undefined) notes.push(`${name} is not installed here and was left out.`);
    else {
      versions[name] = version;
      available.push(target);
    }
  }
  const wrkVersion = options.wrk ? await detectWrk() : undefined;
  if (wrkVersion !== undefined) versions.wrk = wrkVersion;
  const wantsIperf3 = options.iperf3 && scenarios.some((s) => s.needs === 'iperf3');
  const iperf3Version = wantsIperf3 ? await detectIperf3() : undefined;

  const workDir = await mkdtemp(join(tmpdir(), 'switchyard-bench-'));
  const running: RunningTarget[] = [];
  let upstreams: Awaited<ReturnType<typeof startBenchUpstreams>> | undefined;
  try {
    const certs = await writeBenchCerts(join(workDir, 'certs'));
    upstreams = await startBenchUpstreams(certs, { iperf3: iperf3Version !== undefined });
    if (upstreams.iperf3) versions.iperf3 = iperf3Version;
    else if (scenarios.some((s) => s.needs === 'iperf3')) {
      notes.push(
        options.iperf3
          ? 'iperf3 is not installed here; its rows were left out.'
          : 'The iperf3 rows were left out (--no-iperf3).',
      );
      scenarios = scenarios.filter((s) => s.needs !== 'iperf3');
    }
    let starts = 0;
    const start = async (target: Target): Promise<RunningTarget> => {
      const dir = join(workDir, `${target.name}-${++starts}`);
      await mkdir(dir, { recursive: true });
      return target.start({ upstreams: upstreams!, certs, workDir: dir });
    };
    for (const target of available) running.push(await start(target));
    const context: ScenarioContext = {
      durationMs: options.durationMs,
      idleConnections: options.idleConnections,
      tls: {
        ca: await readFile(certs.caCert),
        cert: await readFile(certs.clientCert),
        key: await readFile(certs.clientKey),
        servername: 'localhost',
      },
      useWrk: wrkVersion !== undefined,
    };
    const udp = scenarios.some((s) => s.id === UDP_SCENARIO_ID);
    for (const target of running) {
      options.signal?.throwIfAborted();
      await warmUp(target, context, options.warmupMs, udp);
    }

    const measured = new Map<string, ScenarioMeasurement[]>();
    const runs = scenarios.reduce((n, s) => n + running.filter((t) => applies(s, t)).length, 0);
    const progress = options.progress?.(options.repetitions * runs);
    for (let rep = 0; rep < options.repetitions; rep++) {
      for (const scenario of scenarios) {
        for (const [i, target] of running.entries()) {
          if (!applies(scenario, target)) continue;
          options.signal?.throwIfAborted();
          progress?.step(`${scenario.id} via ${target.name} (run ${rep + 1}/${options.repetitions})`);
          const key = `${scenario.id}/${target.name}`;
          const runs = measured.get(key) ?? [];
          if (scenario.freshTarget === true) {
            const fresh = await start(available[i]);
            try {
              runs.push(await runCounted(scenario, fresh, context));
            } finally {
              await fresh.stop();
            }
          } else {
            runs.push(await runCounted(scenario, target, context));
          }
          measured.set(key, runs);
        }
      }
    }
    progress?.done();

    notes.push(...describe(scenarios, context, options));
    const results = summarize(scenarios, running, measured);
    notes.push(...nginxInsteadOfHaproxy(results));
    return {
      startedAt,
      command: options.command,
      machine: readMachineInfo(),
      versions,
      options: { quick: options.quick, repetitions: options.repetitions, durationMs: options.durationMs },
      results,
      notes,
      warnings: benchWarnings(results, AGREEMENT_PAIRS),
    };
  } finally {
    for (const target of running.reverse()) await target.stop().catch(() => {});
    await upstreams?.stop().catch(() => {});
    await rm(workDir, { recursive: true, force: true });
  }
}

/** The scenarios called `ids`, in suite order; every one when `ids` is empty. */
export function selectScenarios(ids: string[]): Scenario[] {
  if (ids.length === 0) return [...SCENARIOS];
  const unknown = ids.filter((id) => !SCENARIOS.some((s) => s.id === id));
  if (unknown.length > 0) {
    throw new SwitchyardError(
      ErrorCodes.ERR_INTERNAL,
      `unknown scenario ${unknown.join(', ')}; known: ${SCENARIOS.map((s) => s.id).join(', ')}`,
    );
  }
  return SCENARIOS.filter((s) => ids.includes(s.id));
}

/**
 * One run of `scenario` on `target`, with the refusals of the target's guards counted around it
 * (outside the span the scenario measures, so reading them costs the target nothing it is charged for).
 */
async function runCounted(
  scenario: Scenario,
  target: RunningTarget,
  context: ScenarioContext,
): Promise<ScenarioMeasurement> {
  if (target.refusals === undefined) return scenario.run(target, context);
  const before = await target.refusals();
  const measurement = await scenario.run(target, context);
  const refused = refusalsBetween(before, await target.refusals());
  return Object.keys(refused).length === 0 ? measurement : { ...measurement, refused };
}

/** Whether `scenario` runs through `target`. */
function applies(scenario: Scenario, target: RunningTarget): boolean {
  return scenario.appliesTo?.(target) ?? true;
}

/**
 * Gets JIT, TLS session caches and connection pools past their first moments; with `udp`, the UDP
 * path too, where the target has one.
 */
async function warmUp(
  target: RunningTarget,
  context: ScenarioContext,
  ms: number,
  udp: boolean,
): Promise<void> {
  if (ms <= 0) return;
  if (udp && target.udp !== undefined) {
    await runUdpEchoLoop({
      endpoint: target.udp,
      clients: 8,
      payloadBytes: 64,
      durationMs: ms,
      maxExchanges: 1_000_000,
    });
  }
  await runRequests({
    endpoint: target.plain.http,
    connections: 8,
    durationMs: ms,
    maxRequests: 100_000,
    keepAlive: false,
  });
  await runHandshakes({
    endpoint: target.mtls,
    concurrency: 4,
    durationMs: ms,
    maxHandshakes: 10_000,
    tls: context.tls,
    resume: false,
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function medianLatency(runs: ScenarioMeasurement[]): Latency | undefined {
  const all = runs.map((r) => r.load.latency).filter((l): l is Latency => l !== undefined);
  if (all.length === 0) return undefined;
  return {
    p50: median(all.map((l) => l.p50)),
    p90: median(all.map((l) => l.p90)),
    p99: median(all.map((l) => l.p99)),
    max: median(all.map((l) => l.max)),
  };
}

/** One result per row and target, with ratios to HAProxy, direct, naive and NGINX oriented so > 1 is better. */
export function summarize(
  scenarios: Scenario[],
  targets: RunningTarget[],
  measured: Map<string, ScenarioMeasurement[]>,
): BenchResult[] {
  const results: BenchResult[] = [];
  for (const scenario of scenarios) {
    for (const row of scenario.rows) {
      const cells = new Map<TargetName, BenchResult>();
      for (const target of targets) {
        const runs = measured.get(`${scenario.id}/${target.name}`) ?? [];
        const cell = resultFor(row, target.name, runs);
        if (cell !== undefined) cells.set(target.name, cell);
      }
      const haproxy = cells.get('haproxy');
      const direct = cells.get('direct');
      const naive = cells.get('naive');
      const nginx = cells.get('nginx');
      for (const cell of cells.values()) {
        if (haproxy !== undefined) cell.vsHaproxy = ratio(cell, haproxy);
        if (direct !== undefined) cell.vsDirect = ratio(cell, direct);
        if (naive !== undefined) cell.vsNaive = ratio(cell, naive);
        if (nginx !== undefined) cell.vsNginx = ratio(cell, nginx);
        results.push(cell);
      }
    }
  }
  return results;
}

function resultFor(row: RowSpec, target: TargetName, runs: ScenarioMeasurement[]): BenchResult | undefined {
  const samples = runs
    .map((r) => row.value(r))
    .filter((v): v is number => v !== undefined && Number.isFinite(v));
  if (samples.length === 0) return undefined;
  const loads = runs.map((r) => r.load.generatorCpuMs / r.load.elapsedMs);
  const refused: Record<string, number> = {};
  for (const run of runs) {
    for (const [reason, n] of Object.entries(run.refused ?? {})) refused[reason] = (refused[reason] ?? 0) + n;
  }
  return {
    scenario: row.name,
    target,
    value: median(samples),
    samples,
    unit: row.unit,
    higherIsBetter: row.higherIsBetter,
    generatorLoad: median(loads),
    latency: medianLatency(runs),
    errors: runs.reduce((n, r) => n + r.load.errors, 0),
    ...(Object.keys(refused).length > 0 ? { refused } : {}),
  };
}

function ratio(cell: BenchResult, base: BenchResult): number {
  return cell.higherIsBetter ? cell.value / base.value : base.value / cell.value;
}

function describe(scenarios: Scenario[], context: ScenarioContext, options: SuiteOptions): string[] {
  const generator = context.useWrk
    ? "HTTP scenarios are driven by wrk (1 thread); the rest by the suite's own generator."
    : "Every scenario is driven by the suite's own generator (wrk not used).";
  return [
    ...scenarios.map((s) => s.describe(context)),
    generator,
    `Each figure is the median of ${options.repetitions} run(s) of ${options.durationMs} ms; targets take turns within each repetition.`,
    "Proxy CPU is user + system time of the proxy's whole process tree, read from /proc before and after each run, divided by the units of work; it does not depend on how the cores were shared.",
    'Load generator, upstreams and proxy share the same cores, so rates are lower than on separate machines; the CPU-per-unit rows are the stable ones.',
    'Switchyard runs fully featured: mTLS with authorization, rate and concurrency limits, the admin API with /metrics, and one JSON access-log line per session (per flow on UDP); `switchyard` with the per-source guards opened wide, `switchyard-defaults` with them at their defaults, `switchyard-workers` as `switchyard` with `workers: 2` (a primary and two worker processes; CPU counts all three).',
    '`naive` is a plain Node.js proxy (`net.connect()` and `pipe` both ways, least-connections, TLS by `tls.createServer()`, a socket per client address and port for UDP), the floor every Switchyard row must reach.',
  ];
}
