import type { SwitchyardConfig } from '../config/types.js';
import type { Logger } from '../lib/logger.js';
import type { LimitStoreConnection } from './limit-store.js';

/**
 * The shared limit store `config` asks for, or undefined for the in-memory one. The Redis client
 * is loaded only here, when a configuration names a Redis: a balancer without one never pays for
 * loading it.
 */
export async function openLimitStore(
  config: SwitchyardConfig,
  logger: Logger,
): Promise<LimitStoreConnection | undefined> {
  if (config.limitStore.type !== 'redis') return undefined;
  const { LimitStoreConnection } = await import('./limit-store.js');
  const store = LimitStoreConnection.open(config, logger);
  if (store !== undefined && !(await store.ready())) {
    logger.warn(
      { failurePolicy: config.limitStore.failurePolicy },
      'limit store not reachable at start; starting anyway: its failure policy decides until it answers',
    );
  }
  return store;
}
