import { readFile } from 'node:fs/promises';
import { dirname, extname, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { ErrorCodes } from '../lib/errors.js';
import { findBindConflicts } from './bind-conflicts.js';
import { ConfigError, type ConfigIssue } from './config-error.js';
import { recordOrigins } from './config-origin.js';
import { HEALTH_TLS_FILE_KEYS, healthTlsBlocks } from './health-check.js';
import { type SourceMap, toConfigIssues } from './issues.js';
import { mapListenerFiles } from './listener-files.js';
import {
  type AppliedOverride,
  applyOverrides,
  type ConfigOverride,
  invalidConfig,
  overrideFor,
  overrideLabel,
} from './overrides.js';
import { configSchema } from './schema.js';
import { UPSTREAM_TLS_FILE_KEYS } from './schema-upstream-tls.js';
import type { SwitchyardConfig } from './types.js';

/** Options of {@link parseConfigText}. */
export interface ParseConfigOptions {
  /**
   * Environment and flag settings applied over the file before validation, in order (the caller
   * puts environment ones first so flags win). A problem with one is reported naming the variable
   * or flag instead of a line and column.
   */
  overrides?: readonly ConfigOverride[];
}

/** Options of {@link loadConfigFile}. */
export interface LoadConfigOptions extends ParseConfigOptions {
  /**
   * Also reads the files the configuration names and reports what is wrong with them, with the
   * line and column of the key that names each file. The runtime layer has the reader
   * (`configFileProblems`): what makes a usable certificate context is the data plane's business.
   */
  checkFiles?: FileChecker;
}

/** A problem with a file the configuration names, at the key path that names it. */
export interface FileProblem {
  path: (string | number)[];
  message: string;
}

/** Reads the files a valid configuration names and lists their problems. */
export type FileChecker = (config: SwitchyardConfig) => Promise<FileProblem[]>;

/**
 * Reads and validates a configuration file (`.json` as JSON, anything else as YAML). Throws
 * {@link ConfigError}: `ERR_CONFIG_READ` when the file cannot be read, `ERR_CONFIG_INVALID` otherwise.
 */
export async function loadConfigFile(
  path: string,
  options: LoadConfigOptions = {},
): Promise<SwitchyardConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new ConfigError(ErrorCodes.ERR_CONFIG_READ, `cannot read configuration file ${path}: ${why}`, [], {
      cause: err,
    });
  }
  const parsed = parseConfig(text, path, options);
  if (options.checkFiles !== undefined) {
    const problems: z.core.$ZodIssue[] = (await options.checkFiles(parsed.config)).map((p) => ({
      code: 'custom',
      path: p.path,
      message: p.message,
      input: undefined,
      params: { at: 'value' },
    }));
    if (problems.length > 0) {
      throw invalidConfig(path, toIssues(new z.ZodError(problems), path, parsed.source, parsed.applied));
    }
  }
  return parsed.config;
}

/**
 * Validates configuration text; `fileName` picks the format by extension, names the file in
 * issues and anchors relative TLS paths (resolved against its directory, returned absolute).
 * Throws {@link ConfigError} (`ERR_CONFIG_INVALID`) listing every problem with its line and column.
 */
export function parseConfigText(
  text: string,
  fileName: string,
  options: ParseConfigOptions = {},
): SwitchyardConfig {
  return parseConfig(text, fileName, options).config;
}

interface ParsedConfig {
  readonly config: SwitchyardConfig;
  readonly source: ParsedSource;
  readonly applied: readonly AppliedOverride[];
}

function parseConfig(text: string, fileName: string, options: ParseConfigOptions): ParsedConfig {
  const source = parseSource(text.replace(/^\uFEFF/, ''), fileName);
  let value = source.value;
  let applied: readonly AppliedOverride[] = [];
  if (options.overrides !== undefined && options.overrides.length > 0) {
    ({ document: value, applied } = applyOverrides(value, options.overrides, fileName));
  }
  const result = configSchema.safeParse(value, { reportInput: true });
  if (!result.success) {
    if (applied.length === 0) {
      throw ConfigError.invalid(fileName, toConfigIssues(result.error, configSchema, fileName, source));
    }
    throw invalidConfig(fileName, toIssues(result.error, fileName, source, applied));
  }
  const config = resolvePaths(result.data, dirname(resolve(fileName)));
  recordOrigins(config, fileName, source, applied);
  // Across listeners and the admin API, so checked once each bind is a valid address: a clash found
  // here names both lines, where binding would only say EADDRINUSE for one of them.
  const clashes = findBindConflicts(config).map(
    (c): z.core.$ZodIssue => ({
      code: 'custom',
      path: c.path,
      message: c.message,
      input: undefined,
      params: { at: 'value' },
    }),
  );
  if (clashes.length > 0)
    throw invalidConfig(fileName, toIssues(new z.ZodError(clashes), fileName, source, applied));
  return { config, source, applied };
}

/**
 * Zod's issues as {@link ConfigIssue}s: those about a key an override set (or a mapping it created)
 * name the override, the rest point into the file. File issues come first, in file order.
 */
function toIssues(
  error: z.ZodError,
  file: string,
  source: ParsedSource,
  applied: readonly AppliedOverride[],
): ConfigIssue[] {
  const fromFile: z.core.$ZodIssue[] = [];
  const fromOverrides = new Map<AppliedOverride, z.core.$ZodIssue[]>();
  for (const issue of error.issues) {
    const path = issue.path.filter((k): k is string | number => typeof k !== 'symbol');
    const owner = overrideFor(applied, path);
    if (owner === undefined) fromFile.push(issue);
    else fromOverrides.set(owner, [...(fromOverrides.get(owner) ?? []), issue]);
  }
  const out = fromFile.length > 0 ? toConfigIssues(new z.ZodError(fromFile), configSchema, file, source) : [];
  for (const a of applied) {
    const issues = fromOverrides.get(a);
    if (issues === undefined) continue;
    // No source map: the messages are the same, the position is replaced by the override's name.
    for (const i of toConfigIssues(new z.ZodError(issues), configSchema, file, {})) {
      out.push({ ...i, file: overrideLabel(a.override), line: 0, column: 0 });
    }
  }
  return out;
}

interface ParsedSource extends SourceMap {
  readonly value: unknown;
}

function parseSource(text: string, file: string): ParsedSource {
  const lineCounter = new LineCounter();
  // JSON is read by JSON.parse (the authority on what JSON is) and by `yaml` for positions.
  if (extname(file).toLowerCase() === '.json') {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw syntaxError(file, text, 'invalid JSON', err);
    }
    const doc = parseDocument(text, { lineCounter, prettyErrors: false });
    return doc.errors.length === 0 ? { value, doc, lineCounter } : { value };
  }
  // `<<` merge keys let many listeners share one block of settings.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, merge: true });
  if (doc.errors.length > 0) {
    const issues: ConfigIssue[] = [];
    for (const [n, e] of doc.errors.entries()) {
      // After one syntax error the parser's later complaints are mostly echoes of it, so only the
      // first is reported, plus duplicate keys, which stand on their own.
      if (n > 0 && e.code !== 'DUPLICATE_KEY') continue;
      const { line, col } = lineCounter.linePos(e.pos[0]);
      const why =
        e.code === 'MULTIPLE_DOCS'
          ? 'a configuration file holds one document; remove the "---" separator'
          : e.message;
      issues.push({ file, line, column: col, path: '', message: `invalid YAML: ${why}` });
    }
    throw ConfigError.invalid(file, issues);
  }
  try {
    return { value: doc.toJS(), doc, lineCounter };
  } catch (err) {
    // e.g. an alias bomb past yaml's maxAliasCount
    const why = err instanceof Error ? err.message : String(err);
    throw ConfigError.invalid(file, [
      { file, line: 1, column: 1, path: '', message: `invalid YAML: ${why}` },
    ]);
  }
}

/** A JSON.parse failure with the position Node reports turned into line and column. */
function syntaxError(file: string, text: string, what: string, err: unknown): ConfigError {
  const message = err instanceof Error ? err.message : String(err);
  const at = /at position (\d+)/.exec(message);
  const offset = at !== null ? Number(at[1]) : /end of JSON input/.test(message) ? text.length : undefined;
  let line = 1;
  let column = 1;
  if (offset !== undefined) {
    const before = text.slice(0, offset);
    const lines = before.split('\n');
    line = lines.length;
    column = lines[lines.length - 1].length + 1;
  }
  const why = message.replace(/\s*(?:in JSON )?at position \d+.*$/, '');
  return ConfigError.invalid(file, [{ file, line, column, path: '', message: `${what}: ${why}` }]);
}

/** File paths (TLS files, the access log file) made absolute against the configuration file's directory. */
function resolvePaths(config: SwitchyardConfig, baseDir: string): SwitchyardConfig {
  const access = config.log.accessLog;
  if (access !== 'stdout' && access !== 'off') config.log.accessLog = resolve(baseDir, access);
  for (const listener of config.listeners) mapListenerFiles(listener, (path) => resolve(baseDir, path));
  if (config.limitStore.type === 'redis' && config.limitStore.tls !== undefined) {
    const tls = config.limitStore.tls;
    for (const key of ['ca', 'cert', 'key'] as const) {
      const path = tls[key];
      if (path !== undefined) tls[key] = resolve(baseDir, path);
    }
  }
  for (const g of Object.values(config.groups)) {
    const tls = g.upstreamTls;
    if (tls === undefined) continue;
    for (const key of UPSTREAM_TLS_FILE_KEYS) {
      const path = tls[key];
      if (path !== undefined) tls[key] = resolve(baseDir, path);
    }
  }
  for (const { tls } of healthTlsBlocks(config)) {
    for (const key of HEALTH_TLS_FILE_KEYS) {
      const path = tls[key];
      if (path !== undefined) tls[key] = resolve(baseDir, path);
    }
  }
  return config;
}
