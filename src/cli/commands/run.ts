import type { Command } from 'commander';
import { createLogger, type ProcessLogger } from '../../control/logger.js';
import { reloadOnHangup, reopenLogsOnUsr1, stopOnSignals } from '../../server/process-signals.js';
import { startServer } from '../../server/start-server.js';
import { Predecessor } from '../../workers/predecessor.js';
import { startPrimary } from '../../workers/primary.js';
import { workerCount } from '../../workers/worker-count.js';
import { type ConfigFlags, loadConfiguration } from '../config-source.js';

/** Options of `switchyard run`. */
export interface RunOptions extends ConfigFlags {
  /** Started by a running balancer for an upgrade: take its sockets over the IPC channel. */
  takeover?: boolean;
}

/**
 * Loads the configuration (file, then `SWITCHYARD_*`, then flags; TLS files read and checked),
 * starts the balancer and runs until a signal: the first SIGINT/SIGTERM drains gracefully and exits
 * 0, a second one exits 1 at once. With `workers` above 1 this process is the primary and the
 * connections are served by that many worker processes.
 */
export async function runCommand(command: Command, options: RunOptions): Promise<void> {
  const { path, config, overrides } = await loadConfiguration(command, options, { checkFiles: true });
  const logger = createLogger(config.log.level, config.log.format);
  const reloadSource = async () => (await loadConfiguration(command, options, { checkFiles: true })).config;
  const workers = workerCount(config.workers);
  // A process started by a running balancer for an upgrade takes its sockets over, as a primary
  // (even with one worker: one process binds its own sockets, and those are the predecessor's).
  const predecessor = options.takeover === true ? Predecessor.connect() : undefined;
  if (workers > 1 || predecessor !== undefined) {
    await runPrimary(config, logger, { reloadSource, configPath: path, workers, overrides, predecessor });
    return;
  }
  const server = await startServer(config, { logger, reloadSource, configPath: path });
  logger.info({ config: path, listeners: config.listeners.length, overrides }, 'switchyard started');
  reloadOnHangup(server.manager);
  reopenLogsOnUsr1(server, logger);
  // SIGUSR2 restarts workers; one process has none, and must not die of the signal's default action.
  process.on('SIGUSR2', () =>
    logger.warn({ signal: 'SIGUSR2' }, 'one process (workers: 1): nothing to restart; ignoring SIGUSR2'),
  );
  stopOnSignals({ logger, graceMs: () => server.manager.config.timeouts.shutdownGrace, stop: server.stop });
}

async function runPrimary(
  config: Awaited<ReturnType<typeof loadConfiguration>>['config'],
  logger: ProcessLogger,
  options: {
    reloadSource: () => Promise<typeof config>;
    configPath: string | undefined;
    workers: number;
    overrides: unknown;
    predecessor: Predecessor | undefined;
  },
): Promise<void> {
  let stopNow = () => {};
  const primary = await startPrimary(config, { logger, ...options, onHandedOver: () => stopNow() });
  logger.info(
    {
      config: options.configPath,
      listeners: config.listeners.length,
      workers: options.workers,
      overrides: options.overrides,
      ...(options.predecessor === undefined ? {} : { takeover: true }),
    },
    'switchyard started',
  );
  process.on('SIGHUP', () => void primary.reload());
  // A failed restart is logged by the primary; the workers it did not replace keep serving.
  process.on('SIGUSR2', () => void primary.restart().catch(() => {}));
  process.on('SIGUSR1', () => {
    primary.reopenLogs();
    logger.info({ signal: 'SIGUSR1' }, 'access log reopened');
  });
  stopNow = stopOnSignals({
    logger,
    graceMs: () => primary.config.timeouts.shutdownGrace,
    stop: primary.stop,
  });
}
