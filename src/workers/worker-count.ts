import { availableParallelism } from 'node:os';
import type { WorkersSetting } from '../config/types.js';

/** How many data-plane processes `workers` asks for: the count, or one per available core for `auto`. */
export function workerCount(setting: WorkersSetting, cores: number = availableParallelism()): number {
  return setting === 'auto' ? Math.max(1, cores) : setting;
}
