import { buildRuntime } from '../../config/build-runtime.js';
import { loadConfigFile } from '../../config/load-config.js';
import { accessLogObserver } from '../../control/access-log.js';
import { createLogger } from '../../control/logger.js';
import { ProxyServer } from '../../proxy/proxy.js';

/** Options of `switchyard run`. */
export interface RunOptions {
  /** Path of the YAML or JSON configuration. */
  config: string;
  /** Overrides the configured log level. */
  logLevel?: string;
}

/**
 * Starts the balancer and runs until a signal: the first SIGINT/SIGTERM drains gracefully and exits
 * 0, a second one exits at once with status 1.
 */
export async function runCommand(options: RunOptions): Promise<void> {
  const config = await loadConfigFile(options.config);
  const logger = createLogger(options.logLevel ?? config.log.level);
  const built = await buildRuntime(config);
  const proxy = new ProxyServer(built.runtime, { logger, observer: accessLogObserver(logger) });
  built.start();
  await proxy.start();
  logger.info({ config: options.config, listeners: config.listeners.length }, 'switchyard started');

  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      logger.flush(() => process.exit(1));
      return;
    }
    stopping = true;
    logger.info({ signal, graceMs: config.timeouts.shutdownGrace }, 'shutting down');
    proxy
      .shutdown({ graceMs: config.timeouts.shutdownGrace, jitterMs: config.timeouts.shutdownJitter })
      .then(() => {
        built.stop();
        logger.info({}, 'shutdown complete');
        logger.flush(() => process.exit(0));
      });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
