/** Where `run` and `check` get their configuration: a file, `SWITCHYARD_*` variables and flags. */
import type { Command } from 'commander';
import { loadConfigFile } from '../config/load-config.js';
import {
  CONFIG_ENV,
  type ConfigOverride,
  flagOverride,
  overrideLabel,
  overridesFromEnv,
  overridesFromFlags,
} from '../config/overrides.js';
import type { SwitchyardConfig } from '../config/types.js';
import { configFileProblems } from '../runtime/file-problems.js';
import { ExitCodes } from './exit-codes.js';

/** The configuration options `run` and `check` share. */
export interface ConfigFlags {
  /** `--config FILE`. */
  config?: string;
  /** `--set key.path=value`, in order. */
  set?: string[];
  /** `--log-level LEVEL`. */
  logLevel?: string;
}

/** A loaded configuration and where it came from. */
export interface LoadedConfig {
  /** The file, as given. */
  path: string;
  /** The validated configuration, with every override applied. */
  config: SwitchyardConfig;
  /** `SWITCHYARD_TIMEOUTS__IDLE (environment)`, ... for every override that was applied. */
  overrides: string[];
}

/**
 * The configuration file named by `--config` or `SWITCHYARD_CONFIG`; a usage error (exit 2) when
 * neither is given.
 */
export function configPath(command: Command, flags: ConfigFlags, env: NodeJS.ProcessEnv): string {
  const path = flags.config ?? (env[CONFIG_ENV] === '' ? undefined : env[CONFIG_ENV]);
  if (path === undefined) {
    command.error(`error: no configuration file: give --config <file> or set ${CONFIG_ENV}`, {
      exitCode: ExitCodes.usage,
      code: 'switchyard.missingConfig',
    });
  }
  return path;
}

/** Environment overrides first, then `--set` flags in order, then `--log-level`: the later wins. */
export function collectOverrides(flags: ConfigFlags, env: NodeJS.ProcessEnv): ConfigOverride[] {
  const overrides = [...overridesFromEnv(env), ...overridesFromFlags(flags.set ?? [])];
  if (flags.logLevel !== undefined) overrides.push(flagOverride('--log-level', 'log.level', flags.logLevel));
  return overrides;
}

/**
 * Loads and validates the configuration with every override applied; `checkFiles` also reads the
 * TLS files. Throws ConfigError (exit 1) listing every problem.
 */
export async function loadConfiguration(
  command: Command,
  flags: ConfigFlags,
  options: { checkFiles: boolean; env?: NodeJS.ProcessEnv },
): Promise<LoadedConfig> {
  const env = options.env ?? process.env;
  const path = configPath(command, flags, env);
  const overrides = collectOverrides(flags, env);
  const checkFiles = options.checkFiles ? configFileProblems : undefined;
  const config = await loadConfigFile(path, { overrides, checkFiles });
  return { path, config, overrides: overrides.map(overrideLabel) };
}
