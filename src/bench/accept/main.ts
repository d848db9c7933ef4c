/**
 * `npm run bench:accept`: how connections should reach N worker processes (issue #14). Starts the
 * suite's HTTP upstream and one naive candidate proxy per mode, then, in each repetition, lets every
 * candidate take its turn at new connections and at keep-alive requests, and prints the medians as
 * Markdown. Everything listens on 127.0.0.1, every run ends at its duration, and every process it
 * started is stopped before it exits, on errors and Ctrl-C too.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeBenchCerts } from '../bench-certs.js';
import { detectWrk } from '../load/wrk.js';
import { readMachineInfo } from '../report/machine-info.js';
import type { BenchUpstreams } from '../types.js';
import { startBenchUpstreams } from '../upstream/bench-upstreams.js';
import { type CandidateProcess, startCandidate } from './candidate-process.js';
import { type GeneratorName, generateLoad, LOAD_CONNECTIONS, measureRun } from './measure-run.js';
import { type AcceptMode, MODE_DESCRIPTIONS } from './modes.js';
import { ACCEPT_USAGE, type AcceptBenchOptions, parseAcceptOptions } from './options.js';
import { formatResultTable, formatSampleTable, type ModeResult } from './report.js';
import { modeAvailability } from './reuse-port-probe.js';
import { type RunSample, summarize, turnOrder } from './summary.js';

const argv = process.argv.slice(2);
let options: AcceptBenchOptions;
try {
  options = parseAcceptOptions(argv);
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n${ACCEPT_USAGE}\n`);
  process.exit(2);
}
if (options.help) {
  process.stdout.write(`${ACCEPT_USAGE}\n`);
  process.exit(0);
}

// A signal ends the benchmark between two runs; the cleanup below still stops everything.
const abort = new AbortController();
for (const name of ['SIGINT', 'SIGTERM'] as const) {
  process.once(name, () => {
    process.stderr.write(`accept bench: ${name}, stopping after the current run\n`);
    abort.abort(new Error(`stopped by ${name}`));
  });
}

const candidates: CandidateProcess[] = [];
let upstreams: BenchUpstreams | undefined;
let workDir: string | undefined;
try {
  await run(options);
} catch (err) {
  process.stderr.write(`accept bench: ${(err as Error).message}\n`);
  process.exitCode = 1;
} finally {
  const stops = await Promise.allSettled([...candidates.map((c) => c.stop()), upstreams?.stop()]);
  for (const stop of stops) {
    if (stop.status === 'rejected') {
      process.stderr.write(`accept bench: cleanup: ${(stop.reason as Error).message}\n`);
      process.exitCode = 1;
    }
  }
  if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
}

async function run(opts: AcceptBenchOptions): Promise<void> {
  const startedAt = new Date();
  const machine = readMachineInfo();
  const wrkVersion = opts.wrk ? await detectWrk() : undefined;
  const generator: GeneratorName = wrkVersion === undefined ? 'switchyard' : 'wrk';
  workDir = await mkdtemp(join(tmpdir(), 'switchyard-accept-'));
  const certs = await writeBenchCerts(join(workDir, 'certs'));
  upstreams = await startBenchUpstreams(certs, { iperf3: false });
  const upstreamPort = upstreams.endpoints.http.port;

  const unavailable: Partial<Record<AcceptMode, string>> = {};
  for (const mode of opts.modes) {
    abort.signal.throwIfAborted();
    const availability = await modeAvailability(mode);
    if (!availability.available) {
      unavailable[mode] = availability.reason;
      continue;
    }
    const outcome = await startCandidate(mode, workersOf(mode, opts), upstreamPort);
    if ('unavailable' in outcome) unavailable[mode] = outcome.unavailable;
    else candidates.push(outcome.candidate);
  }
  for (const [mode, reason] of Object.entries(unavailable)) {
    process.stderr.write(`accept bench: ${mode} is unavailable here: ${reason}\n`);
  }
  if (candidates.length === 0) throw new Error('no mode can run here');

  if (opts.warmupMs > 0) {
    for (const candidate of candidates) {
      abort.signal.throwIfAborted();
      await generateLoad(generator, { host: '127.0.0.1', port: candidate.port }, false, opts.warmupMs);
    }
  }

  const samples = new Map<AcceptMode, { connect: RunSample[]; keepAlive: RunSample[] }>(
    candidates.map((c) => [c.mode, { connect: [], keepAlive: [] }]),
  );
  for (let repetition = 0; repetition < opts.repetitions; repetition++) {
    for (const candidate of turnOrder(candidates, repetition)) {
      const mine = samples.get(candidate.mode)!;
      for (const keepAlive of [false, true]) {
        abort.signal.throwIfAborted();
        const sample = await measureRun(candidate, generator, keepAlive, opts.durationMs);
        (keepAlive ? mine.keepAlive : mine.connect).push(sample);
        process.stderr.write(
          `${progressLine(repetition, opts.repetitions, candidate.mode, keepAlive, sample)}\n`,
        );
      }
    }
  }

  const results: ModeResult[] = candidates.map((c) => ({
    mode: c.mode,
    workers: c.workerPids.length,
    connect: summarize(samples.get(c.mode)!.connect),
    keepAlive: summarize(samples.get(c.mode)!.keepAlive),
  }));
  // Started by `npx node@22 …/main.js` (to test another Node) it was no npm script, so say what it was.
  const viaNpm = process.env.npm_lifecycle_event === 'bench:accept';
  const command = viaNpm
    ? `npm run bench:accept${argv.length > 0 ? ` -- ${argv.join(' ')}` : ''}`
    : ['node', 'dist/src/bench/accept/main.js', ...argv].join(' ');
  const lines = [
    `- Run: ${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC, \`${command}\`; ${opts.repetitions} repetition(s) of ${opts.durationMs} ms per mode and load, medians shown.`,
    `- Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, ${machine.os}, Node.js ${machine.node}.`,
    `- Load: ${generator === 'wrk' ? `wrk ${wrkVersion}` : "the suite's own generator"}, ${LOAD_CONNECTIONS} connections, 1 thread; new connections send \`Connection: close\`.`,
    '',
    formatResultTable(results),
    '',
    formatSampleTable(results),
  ];
  for (const [mode, reason] of Object.entries(unavailable))
    lines.push('', `- ${mode}: unavailable (${reason}).`);
  process.stdout.write(`${lines.join('\n')}\n`);

  if (opts.jsonPath !== undefined) {
    const document = {
      startedAt: startedAt.toISOString(),
      command,
      machine,
      generator: generator === 'wrk' ? `wrk ${wrkVersion}` : 'switchyard',
      options: { ...opts, jsonPath: undefined },
      modes: Object.fromEntries(candidates.map((c) => [c.mode, MODE_DESCRIPTIONS[c.mode]])),
      unavailable,
      results,
      samples: Object.fromEntries(samples),
    };
    await writeFile(opts.jsonPath, `${JSON.stringify(document, null, 2)}\n`);
  }
}

function workersOf(mode: AcceptMode, opts: AcceptBenchOptions): number {
  return mode === 'single' ? 1 : opts.workers;
}

function progressLine(
  repetition: number,
  repetitions: number,
  mode: AcceptMode,
  keepAlive: boolean,
  sample: RunSample,
): string {
  const rate = (sample.units * 1000) / sample.elapsedMs;
  const cpu = sample.units > 0 ? (sample.cpuMs * 1000) / sample.units : Number.NaN;
  const what = keepAlive ? 'keep-alive' : 'new conns ';
  return `[${repetition + 1}/${repetitions}] ${mode.padEnd(12)} ${what} ${rate.toFixed(0).padStart(7)}/s ${cpu.toFixed(1).padStart(7)} µs  accepted ${sample.accepted.join('/')}${sample.errors > 0 ? `  errors ${sample.errors}` : ''}`;
}
