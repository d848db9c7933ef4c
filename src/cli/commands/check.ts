import type { Command } from 'commander';
import { redactConfig } from '../../config/secrets.js';
import { formatSummary } from '../check/summary.js';
import { type ConfigFlags, loadConfiguration } from '../config-source.js';

/** Options of `switchyard check`. */
export interface CheckOptions extends ConfigFlags {
  /** Print the validated configuration as JSON (secrets redacted) instead of the summary. */
  json?: boolean;
  /** `--no-files` sets this false: skip reading the TLS files. */
  files: boolean;
}

/**
 * Validates the configuration as `run` would load it, without starting anything: prints a one-screen
 * summary (or the configuration as JSON) and returns; invalid configurations throw (exit 1).
 */
export async function checkCommand(command: Command, options: CheckOptions): Promise<void> {
  const loaded = await loadConfiguration(command, options, { checkFiles: options.files });
  if (options.json) {
    // Secrets show as "<redacted>": the output is pasted into tickets and kept in CI logs.
    process.stdout.write(`${JSON.stringify(redactConfig(loaded.config), null, 2)}\n`);
    return;
  }
  process.stdout.write(formatSummary(loaded, { filesChecked: options.files, cwd: process.cwd() }));
}
