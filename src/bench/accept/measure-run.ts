/**
 * One measured load run through a candidate: HTTP requests from wrk or the suite's own generator,
 * 50 connections at a time, either one request per new connection (`Connection: close`) or
 * back to back on persistent ones; around it the CPU of the candidate's process tree and of its root
 * alone, and each worker's accepted count.
 */
import { runRequests } from '../load/request-loop.js';
import { runWrk } from '../load/wrk.js';
import { readTreeUsage } from '../measure/process-tree.js';
import { readProcessUsage } from '../measure/process-usage.js';
import type { Endpoint, LoadResult } from '../types.js';
import { CANDIDATE_HOST } from './candidate-args.js';
import type { CandidateProcess } from './candidate-process.js';
import { countsBetween, type RunSample } from './summary.js';

/** Connections the generator keeps open at once, as in the proxy suite's HTTP rows. */
export const LOAD_CONNECTIONS = 50;
// The duration ends every run; this count only guarantees that a runaway loop stops.
const MAX_REQUESTS = 50_000_000;

/** Which generator drives the load. */
export type GeneratorName = 'wrk' | 'switchyard';

/** Runs `durationMs` of HTTP load at `endpoint` with `generator`. */
export function generateLoad(
  generator: GeneratorName,
  endpoint: Endpoint,
  keepAlive: boolean,
  durationMs: number,
): Promise<LoadResult> {
  if (generator === 'wrk') {
    return runWrk({ endpoint, connections: LOAD_CONNECTIONS, threads: 1, durationMs, keepAlive });
  }
  return runRequests({
    endpoint,
    connections: LOAD_CONNECTIONS,
    durationMs,
    maxRequests: MAX_REQUESTS,
    keepAlive,
  });
}

/** Measures one run of load through `candidate`. */
export async function measureRun(
  candidate: CandidateProcess,
  generator: GeneratorName,
  keepAlive: boolean,
  durationMs: number,
): Promise<RunSample> {
  // Counts are asked outside the CPU window, so the question's own IPC is not billed to the load.
  const countsBefore = await candidate.counts();
  const hasPrimary = candidate.workerPids[0] !== candidate.pid;
  const primaryBefore = hasPrimary ? await readProcessUsage(candidate.pid) : undefined;
  const treeBefore = await readTreeUsage([candidate.pid]);
  const load = await generateLoad(
    generator,
    { host: CANDIDATE_HOST, port: candidate.port },
    keepAlive,
    durationMs,
  );
  const treeAfter = await readTreeUsage([candidate.pid]);
  const primaryAfter = hasPrimary ? await readProcessUsage(candidate.pid) : undefined;
  const countsAfter = await candidate.counts();
  if (treeAfter.pids.length !== treeBefore.pids.length) {
    throw new Error(`candidate ${candidate.mode} lost or gained processes during a run`);
  }
  return {
    units: load.units,
    errors: load.errors,
    elapsedMs: load.elapsedMs,
    cpuMs: treeAfter.cpuMs - treeBefore.cpuMs,
    primaryCpuMs:
      primaryBefore === undefined || primaryAfter === undefined
        ? undefined
        : primaryAfter.cpuMs - primaryBefore.cpuMs,
    accepted: countsBetween(countsBefore, countsAfter),
  };
}
