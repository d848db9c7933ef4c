/**
 * CPU and memory of whole process trees: a proxy's master and workers, or a single process with
 * threads. Descendants are found by scanning every `/proc/<pid>/stat` for parent ids, so a worker
 * forked after the last look is still counted.
 */
import { readdir } from 'node:fs/promises';
import type { TreeUsage } from '../types.js';
import { type ProcStat, readProcStat, readRssBytes, ticksToMs } from './process-usage.js';

/** Every process alive now (thread-group leaders; threads are folded into them). */
export async function listProcesses(): Promise<ProcStat[]> {
  const names = await readdir('/proc');
  const pids = names.filter((name) => /^\d+$/.test(name)).map(Number);
  const stats = await Promise.all(pids.map((pid) => readProcStat(pid)));
  return stats.filter((s): s is ProcStat => s !== undefined);
}

/**
 * The live roots and all their descendants among `processes`, roots first then breadth first; roots
 * that are not in `processes` are left out, and a pid listed twice is counted once.
 */
export function treeMembers(rootPids: readonly number[], processes: readonly ProcStat[]): ProcStat[] {
  const byPid = new Map(processes.map((p) => [p.pid, p]));
  const children = new Map<number, ProcStat[]>();
  for (const p of processes) {
    const siblings = children.get(p.ppid);
    if (siblings === undefined) children.set(p.ppid, [p]);
    else siblings.push(p);
  }
  const seen = new Set<number>();
  const members: ProcStat[] = [];
  const queue = rootPids.map((pid) => byPid.get(pid)).filter((p): p is ProcStat => p !== undefined);
  for (let i = 0; i < queue.length; i++) {
    const p = queue[i];
    if (seen.has(p.pid)) continue;
    seen.add(p.pid);
    members.push(p);
    queue.push(...(children.get(p.pid) ?? []));
  }
  return members;
}

/** PIDs of the live roots and every descendant now. */
export async function findTreePids(rootPids: readonly number[]): Promise<number[]> {
  if (rootPids.length === 0) return [];
  return treeMembers(rootPids, await listProcesses()).map((p) => p.pid);
}

/**
 * Sums user + system CPU and VmRSS over the roots and all their descendants. Processes that exit
 * while being read are skipped; CPU of children that have already exited is not included (their
 * parent's cutime would hold it only once reaped), so read a tree while its members are alive.
 */
export async function readTreeUsage(rootPids: readonly number[]): Promise<TreeUsage> {
  if (rootPids.length === 0) return { cpuMs: 0, rssBytes: 0, pids: [] };
  const members = treeMembers(rootPids, await listProcesses());
  const rss = await Promise.all(members.map((p) => readRssBytes(p.pid)));
  let cpuTicks = 0;
  let rssBytes = 0;
  const pids: number[] = [];
  members.forEach((p, i) => {
    const bytes = rss[i];
    if (bytes === undefined) return;
    cpuTicks += p.cpuTicks;
    rssBytes += bytes;
    pids.push(p.pid);
  });
  return { cpuMs: ticksToMs(cpuTicks), rssBytes, pids };
}
