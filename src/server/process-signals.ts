/**
 * What a balancer process does on signals: SIGINT/SIGTERM stop it gracefully (a second one at once),
 * SIGHUP reloads, SIGUSR1 reopens the access log file.
 */

import type { ProcessLogger } from '../control/logger.js';
import { ErrorCodes } from '../lib/errors.js';
import type { RuntimeManager } from '../runtime/runtime-manager.js';
import type { RunningServer } from './start-server.js';

/** What {@link stopOnSignals} stops. */
export interface SignalOptions {
  /** Where the shutdown lines go; flushed before exiting. */
  logger: ProcessLogger;
  /** Logged with "shutting down": how long live sessions may take, ms (a function: the latest reload's). */
  graceMs: number | (() => number);
  /** Stops everything; the process exits 0 when it resolves, 1 when it rejects. */
  stop(): Promise<void>;
  /** Signals to handle. Default SIGINT and SIGTERM. */
  signals?: NodeJS.Signals[];
}

/**
 * The first SIGINT/SIGTERM stops gracefully ("shutting down", then "shutdown complete") and exits 0;
 * a second one while that runs exits 1 at once ("second signal: exiting now"). Returns the same
 * graceful stop, for the program to start itself.
 */
export function stopOnSignals(options: SignalOptions): () => void {
  const { logger } = options;
  let stopping = false;
  const exit = (code: number) => {
    // The log lines first, but a reader of stdout that stopped reading must not keep the process.
    setTimeout(() => process.exit(code), EXIT_FLUSH_LIMIT_MS).unref();
    logger.flush(() => process.exit(code));
  };
  const onSignal = (signal: NodeJS.Signals | undefined) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      exit(1);
      return;
    }
    stopping = true;
    const graceMs = typeof options.graceMs === 'function' ? options.graceMs() : options.graceMs;
    logger.info(signal === undefined ? { graceMs } : { signal, graceMs }, 'shutting down');
    options.stop().then(
      () => {
        logger.info({}, 'shutdown complete');
        exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        exit(1);
      },
    );
  };
  for (const signal of options.signals ?? ['SIGINT', 'SIGTERM']) process.on(signal, onSignal);
  // A process without a reload source must not die of SIGHUP (its default action).
  if (process.listenerCount('SIGHUP') === 0) {
    process.on('SIGHUP', () =>
      logger.warn({ signal: 'SIGHUP' }, 'this command does not reload; ignoring SIGHUP'),
    );
  }
  // The same graceful stop, asked for by the program itself (an upgrade that handed over).
  return () => onSignal(undefined);
}

/** How long an exiting process waits for its log lines to be written. */
const EXIT_FLUSH_LIMIT_MS = 2000;

/**
 * SIGUSR1 reopens the access log file, for logrotate's `postrotate` (as NGINX does). Node would
 * otherwise start its inspector on SIGUSR1; a balancer in production wants the reopen instead.
 */
export function reopenLogsOnUsr1(server: RunningServer, logger: ProcessLogger): void {
  process.on('SIGUSR1', () => logReopen(server.reopenLogs(), logger));
}

/** The log line of a SIGUSR1 reopen: done, or why not (the lines keep going to the old file). */
export function logReopen(failure: Error | undefined, logger: ProcessLogger): void {
  if (failure === undefined) logger.info({ signal: 'SIGUSR1' }, 'access log reopened');
  else
    logger.warn(
      { signal: 'SIGUSR1', code: ErrorCodes.ERR_LOG_REOPEN, reason: failure.message },
      'access log not reopened; still writing to the old file',
    );
}

/** SIGHUP re-reads the configuration and applies it; a bad one is logged and changes nothing. */
export function reloadOnHangup(manager: RuntimeManager): void {
  process.on('SIGHUP', () => {
    void manager.reloadFromSource();
  });
}
