/**
 * Tells systemd which process is the service's main one after an upgrade, with `systemd-notify`
 * (Node has no sd_notify of its own). Without it, systemd would take the old primary's exit for
 * the end of the service and stop the new one. Needs `NotifyAccess=all` in the unit; does nothing
 * outside systemd (no NOTIFY_SOCKET) or when `systemd-notify` is missing.
 */
import { spawnSync } from 'node:child_process';
import type { Logger } from '../lib/logger.js';

/** Makes this process the service's main process, when systemd supervises it. */
export function becomeMainProcess(logger: Logger): void {
  if (process.env.NOTIFY_SOCKET === undefined) return;
  const result = spawnSync('systemd-notify', [`MAINPID=${process.pid}`], { stdio: 'ignore', timeout: 5000 });
  if (result.error !== undefined || result.status !== 0) {
    logger.warn(
      { error: result.error?.message ?? `exit code ${result.status}` },
      'could not tell systemd the new main process (systemd-notify); the unit needs NotifyAccess=all',
    );
  }
}
