import type { Command } from 'commander';
import { createLogger } from '../../control/logger.js';
import { type ConfigFlags, loadConfiguration } from '../config-source.js';
import { reloadOnHangup, reopenLogsOnUsr1, startServer, stopOnSignals } from '../server.js';

/** Options of `switchyard run`. */
export interface RunOptions extends ConfigFlags {}

/**
 * Loads the configuration (file, then `SWITCHYARD_*`, then flags; TLS files read and checked),
 * starts the balancer and runs until a signal: the first SIGINT/SIGTERM drains gracefully and exits
 * 0, a second one exits 1 at once.
 */
export async function runCommand(command: Command, options: RunOptions): Promise<void> {
  const { path, config, overrides } = await loadConfiguration(command, options, { checkFiles: true });
  const logger = createLogger(config.log.level, config.log.format);
  const reloadSource = async () => (await loadConfiguration(command, options, { checkFiles: true })).config;
  const server = await startServer(config, { logger, reloadSource, configPath: path });
  logger.info({ config: path, listeners: config.listeners.length, overrides }, 'switchyard started');
  reloadOnHangup(server.manager);
  reopenLogsOnUsr1(server, logger);
  stopOnSignals({ logger, graceMs: () => server.manager.config.timeouts.shutdownGrace, stop: server.stop });
}
