import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { WorkersSetting } from '../config/types.js';

/** How many data-plane processes `workers` asks for: the count, or one per available core for `auto`. */
export function workerCount(setting: WorkersSetting, cores: number = availableCores()): number {
  return setting === 'auto' ? Math.max(1, cores) : setting;
}

/**
 * The cores this process may use: the CPUs it may run on, or fewer when its cgroup has a CPU quota
 * (a container's CPU limit), rounded up. In a container Node counts the machine's CPUs, so a pod
 * limited to 2 CPUs on a 64-core node would otherwise start 64 workers.
 */
export function availableCores(): number {
  const quota = cgroupCpuLimit();
  return Math.max(1, quota === undefined ? availableParallelism() : Math.min(availableParallelism(), quota));
}

/** The CPU limit of cgroup v2's `cpu.max` text ("200000 100000" is 2; "max 100000" is none). */
export function cpuLimitOf(cpuMax: string): number | undefined {
  const [quota, period] = cpuMax.trim().split(/\s+/);
  const q = Number(quota);
  const p = Number(period ?? 100_000);
  if (quota === 'max' || !Number.isFinite(q) || q <= 0 || !Number.isFinite(p) || p <= 0) return undefined;
  return Math.ceil(q / p);
}

function cgroupCpuLimit(): number | undefined {
  try {
    return cpuLimitOf(readFileSync('/sys/fs/cgroup/cpu.max', 'utf8'));
  } catch {
    // not cgroup v2 (or not Linux): cgroup v1's pair of files
  }
  try {
    const quota = readFileSync('/sys/fs/cgroup/cpu/cpu.cfs_quota_us', 'utf8').trim();
    const period = readFileSync('/sys/fs/cgroup/cpu/cpu.cfs_period_us', 'utf8').trim();
    return cpuLimitOf(quota === '-1' ? 'max' : `${quota} ${period}`);
  } catch {
    return undefined;
  }
}
