/**
 * Settings from outside the configuration file: `SWITCHYARD_*` environment variables and `--set`
 * flags, applied to the parsed document before validation so they are checked exactly like the file.
 * Precedence is flags > environment > file > defaults: overrides are applied in that order, the
 * later one winning.
 */
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { ErrorCodes } from '../lib/errors.js';
import { ConfigError, type ConfigIssue, formatConfigIssue, formatKeyPath } from './config-error.js';
import { configSchema } from './schema.js';
import { defOf, type SchemaDef, unwrap } from './schema-walk.js';
import { closestMatch } from './suggest.js';

/** Where an override came from. */
export type OverrideSource = 'environment' | 'flag';

/** One setting from outside the file, before its key path is checked against the schema. */
export interface ConfigOverride {
  /** Environment variable or command-line flag. */
  readonly source: OverrideSource;
  /** What the user wrote to name it: `SWITCHYARD_TIMEOUTS__IDLE`, `--set timeouts.idle`, `--log-level`. */
  readonly name: string;
  /** Key path segments as written: SCREAMING_SNAKE for the environment, camelCase for flags. */
  readonly segments: readonly string[];
  /** The value as typed, before YAML reads it. */
  readonly raw: string;
}

/** An override after its path was resolved against the schema: the real keys and the typed value. */
export interface AppliedOverride {
  /** The override. */
  readonly override: ConfigOverride;
  /** Resolved key path, e.g. `['listeners', 0, 'bind']`. */
  readonly path: readonly (string | number)[];
  /** Mappings or list items the override had to create on the way, outermost first. */
  readonly created: readonly (readonly (string | number)[])[];
}

/** Prefix of every configuration environment variable. */
export const ENV_PREFIX = 'SWITCHYARD_';
/** Environment variable naming the configuration file when `--config` is absent. */
export const CONFIG_ENV = 'SWITCHYARD_CONFIG';
/** Environment variables with the prefix that are not configuration keys. */
const RESERVED_ENV = new Set([CONFIG_ENV]);
/** Separator of key path segments in an environment variable name. */
const ENV_SEPARATOR = '__';

/** `SWITCHYARD_TIMEOUTS__IDLE (environment)` or `--set timeouts.idle (flag)`: how issues name an override. */
export function overrideLabel(o: ConfigOverride): string {
  return `${o.name} (${o.source})`;
}

/** `rateLimit` → `RATE_LIMIT`, `perClient` → `PER_CLIENT`: a camelCase key as an environment segment. */
export function screamingSnake(key: string): string {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .toUpperCase();
}

/**
 * Every `SWITCHYARD_*` variable of `env` except `SWITCHYARD_CONFIG`, sorted by name so the result does
 * not depend on the environment's order. Empty values are skipped, so `FOO=` in a compose file means
 * "not set".
 */
export function overridesFromEnv(env: NodeJS.ProcessEnv): ConfigOverride[] {
  const out: ConfigOverride[] = [];
  for (const name of Object.keys(env).sort()) {
    if (!name.startsWith(ENV_PREFIX) || RESERVED_ENV.has(name)) continue;
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    out.push({
      source: 'environment',
      name,
      segments: name.slice(ENV_PREFIX.length).split(ENV_SEPARATOR),
      raw,
    });
  }
  return out;
}

/**
 * `--set key.path=value` flags, in the order given (a later one wins). Throws {@link ConfigError}
 * when one has no `=` or an empty key path.
 */
export function overridesFromFlags(sets: readonly string[]): ConfigOverride[] {
  const issues: ConfigIssue[] = [];
  const out: ConfigOverride[] = [];
  for (const set of sets) {
    const eq = set.indexOf('=');
    const key = eq < 0 ? set : set.slice(0, eq);
    const segments = key.split('.');
    if (eq < 0 || segments.some((s) => s === '')) {
      issues.push(sourceIssue(`--set ${set} (flag)`, '', 'expected key.path=value, e.g. timeouts.idle=10m'));
      continue;
    }
    out.push({ source: 'flag', name: `--set ${key}`, segments, raw: set.slice(eq + 1) });
  }
  if (issues.length > 0) throw invalidConfig('from the command line', issues);
  return out;
}

/** A convenience flag such as `--log-level debug`, as the override of one dotted key path. */
export function flagOverride(flag: string, keyPath: string, raw: string): ConfigOverride {
  return { source: 'flag', name: flag, segments: keyPath.split('.'), raw };
}

/**
 * An override's value: what YAML reads as a number, boolean or null becomes that, a quoted string
 * loses its quotes, and anything else is the text exactly as typed (so `[::]:8443`, `{org}` and a
 * token holding ` #` stay what they are).
 */
export function overrideValue(raw: string): unknown {
  const doc = parseDocument(raw);
  if (doc.errors.length > 0) return raw;
  const value: unknown = doc.toJS();
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return value;
  if (typeof value === 'string' && /^\s*["']/.test(raw)) return value;
  return raw;
}

/**
 * Applies `overrides` in order to `document` (the plain value parsed from the file, changed in
 * place; `undefined` or a non-mapping becomes a new mapping) and returns the document with what
 * each override touched. Throws {@link ConfigError} naming every override whose key path is not a
 * configuration key, with a "did you mean" hint where one is close.
 */
export function applyOverrides(
  document: unknown,
  overrides: readonly ConfigOverride[],
  file: string,
): { document: Record<string, unknown>; applied: AppliedOverride[] } {
  const root: Record<string, unknown> = isRecord(document) ? document : {};
  const applied: AppliedOverride[] = [];
  const issues: ConfigIssue[] = [];
  for (const o of overrides) {
    const resolved = resolvePath(o, root);
    if ('problem' in resolved) {
      issues.push(sourceIssue(overrideLabel(o), '', resolved.problem));
      continue;
    }
    applied.push({ override: o, path: resolved.path, created: setIn(root, resolved.path) });
    assignLast(root, resolved.path, overrideValue(o.raw));
  }
  if (issues.length > 0) throw invalidConfig(file, issues);
  return { document: root, applied };
}

/**
 * The override responsible for the problem at `path`: the last one that set that key or one of its
 * ancestors, or that created an ancestor of it (a missing `rateLimit.window` when only
 * `SWITCHYARD_RATE_LIMIT__LIMIT` made `rateLimit`). Undefined when the file is responsible.
 */
export function overrideFor(
  applied: readonly AppliedOverride[],
  path: readonly (string | number)[],
): AppliedOverride | undefined {
  for (let i = applied.length - 1; i >= 0; i--) {
    const a = applied[i];
    if (isPrefix(a.path, path) || a.created.some((c) => isPrefix(c, path))) return a;
  }
  return undefined;
}

/** An issue that belongs to an override, not to a place in the file: line and column are 0. */
export function sourceIssue(label: string, path: string, message: string): ConfigIssue {
  return { file: label, line: 0, column: 0, path, message };
}

// ---------------------------------------------------------------------------------------------
// Resolving key paths against the schema

type Key = string | number;

/** The real key path of an override, walking the schema and (for group names) the document. */
function resolvePath(
  o: ConfigOverride,
  root: Record<string, unknown>,
): { path: Key[] } | { problem: string } {
  const env = o.source === 'environment';
  const path: Key[] = [];
  let schema: z.core.$ZodType | undefined = unwrap(configSchema);
  let value: unknown = root;
  for (let i = 0; i < o.segments.length; i++) {
    const seg = o.segments[i];
    const def: SchemaDef = defOf(schema);
    const here = path.length === 0 ? 'the configuration' : formatKeyPath(path);
    let key: Key;
    if (def.type === 'object' && def.shape !== undefined) {
      const keys = Object.keys(def.shape);
      const found = env ? keys.find((k) => screamingSnake(k) === seg) : keys.find((k) => k === seg);
      if (found === undefined) return { problem: unknownKey(o, i, keys, here) };
      key = found;
      schema = def.shape[found];
    } else if (def.type === 'record') {
      // Group names are the user's own: the environment matches them ignoring case and punctuation,
      // since variable names cannot hold "-" or "." and are upper case by convention.
      const existing = isRecord(value) ? Object.keys(value) : [];
      key = env ? (existing.find((k) => loose(k) === loose(seg)) ?? seg) : seg;
      schema = def.valueType;
    } else if (def.type === 'array') {
      if (!/^\d+$/.test(seg))
        return { problem: `${here} is a list: expected an index (0, 1, ...), got "${seg}"` };
      const index = Number(seg);
      const length = Array.isArray(value) ? value.length : 0;
      if (index > length) {
        return {
          problem: `index ${index} is past the end of ${here} (${length} ${length === 1 ? 'item' : 'items'}; the next new one is ${length})`,
        };
      }
      key = index;
      schema = def.element;
    } else {
      return { problem: `${here} is a single value and has no key "${seg}"` };
    }
    path.push(key);
    value = isRecord(value) || Array.isArray(value) ? (value as Record<Key, unknown>)[key] : undefined;
    if (schema === undefined) return { problem: `${formatKeyPath(path)} is not a configuration key` };
    schema = unwrap(schema);
  }
  return { path };
}

/** Message for a segment that names no key, with the corrected variable or path when one is close. */
function unknownKey(o: ConfigOverride, index: number, keys: string[], here: string): string {
  const seg = o.segments[index];
  const known = o.source === 'environment' ? keys.map(screamingSnake) : keys;
  const match = closestMatch(seg, known);
  const where = index === 0 ? '' : ` in ${here}`;
  if (match === undefined) {
    return `unknown configuration key "${seg}"${where}; known keys: ${known.join(', ')}`;
  }
  const fixed = [...o.segments];
  fixed[index] = match;
  const suggestion =
    o.source === 'environment' ? `${ENV_PREFIX}${fixed.join(ENV_SEPARATOR)}` : `--set ${fixed.join('.')}`;
  return `unknown configuration key "${seg}"${where} (did you mean "${suggestion}"?)`;
}

function loose(name: string): string {
  return name.replace(/[^A-Za-z0-9]/g, '').toUpperCase();
}

/** Creates every missing container on the way to the last key; returns the paths it created. */
function setIn(root: Record<string, unknown>, path: readonly Key[]): Key[][] {
  const created: Key[][] = [];
  let node: Record<Key, unknown> = root;
  for (let i = 0; i < path.length - 1; i++) {
    const key = path[i];
    let next = node[key];
    if (!isRecord(next) && !Array.isArray(next)) {
      next = typeof path[i + 1] === 'number' ? [] : {};
      node[key] = next;
      created.push(path.slice(0, i + 1));
    }
    node = next as Record<Key, unknown>;
  }
  return created;
}

function assignLast(root: Record<string, unknown>, path: readonly Key[], value: unknown): void {
  let node: Record<Key, unknown> = root;
  for (let i = 0; i < path.length - 1; i++) node = node[path[i]] as Record<Key, unknown>;
  node[path[path.length - 1]] = value;
}

function isPrefix(prefix: readonly Key[], path: readonly Key[]): boolean {
  if (prefix.length > path.length) return false;
  return prefix.every((k, i) => String(k) === String(path[i]));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Like `formatConfigIssue`, but an override's issue (line 0) is named by its source instead of a
 * position: `SWITCHYARD_TIMEOUTS__IDLE (environment) timeouts.idle: expected ...`.
 */
export function formatIssue(issue: ConfigIssue): string {
  if (issue.line !== 0) return formatConfigIssue(issue);
  return issue.path === ''
    ? `${issue.file}: ${issue.message}`
    : `${issue.file} ${issue.path}: ${issue.message}`;
}

/** `ConfigError.invalid`, with issues formatted by {@link formatIssue}. */
export function invalidConfig(file: string, issues: readonly ConfigIssue[]): ConfigError {
  const count = issues.length === 1 ? '1 problem' : `${issues.length} problems`;
  const lines = issues.map((i) => `  ${formatIssue(i)}`);
  return new ConfigError(
    ErrorCodes.ERR_CONFIG_INVALID,
    [`invalid configuration ${file} (${count}):`, ...lines].join('\n'),
    issues,
  );
}
