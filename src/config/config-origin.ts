import { locate, type SourceMap } from './issues.js';
import { type AppliedOverride, overrideFor, overrideLabel } from './overrides.js';
import type { SwitchyardConfig } from './types.js';

/** Names where the key at a path of a loaded configuration was written: `FILE:LINE`, or the override that set it. */
export type OriginOf = (path: readonly (string | number)[]) => string;

// Kept beside the configuration rather than in it: `check --json` prints the configuration and
// reloads compare parts of it as JSON, neither of which should see where it came from.
const origins = new WeakMap<SwitchyardConfig, OriginOf>();

/**
 * Remembers where the keys of `config` were written, so that problems found long after loading (a
 * port in use at start or on a reload) can point at the line to change. Returns the lookup.
 */
export function recordOrigins(
  config: SwitchyardConfig,
  file: string,
  source: SourceMap,
  applied: readonly AppliedOverride[],
): OriginOf {
  const originOf: OriginOf = (path) => {
    const override = overrideFor(applied, path);
    if (override !== undefined) return overrideLabel(override.override);
    return `${file}:${locate(source, path, 'key').line}`;
  };
  origins.set(config, originOf);
  return originOf;
}

/**
 * `listeners[0] "edge" (switchyard.yaml:12)`: a listener as messages name it, at the line of its
 * `bind`; without the place for a configuration built in code.
 */
export function listenerLabel(config: SwitchyardConfig, index: number): string {
  const where = origins.get(config)?.(['listeners', index, 'bind']);
  const name = `listeners[${index}] "${config.listeners[index].name}"`;
  return where === undefined ? name : `${name} (${where})`;
}

/** `admin API (admin.bind, switchyard.yaml:30)`: the admin API as messages name it. */
export function adminLabel(config: SwitchyardConfig): string {
  const where = origins.get(config)?.(['admin', 'bind']);
  return where === undefined ? 'admin API (admin.bind)' : `admin API (admin.bind, ${where})`;
}
