import { readFile } from 'node:fs/promises';
import { dirname, extname, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { ErrorCodes } from '../lib/errors.js';
import { ConfigError, type ConfigIssue } from './config-error.js';
import { type SourceMap, toConfigIssues } from './issues.js';
import { configSchema } from './schema.js';
import type { SwitchyardConfig } from './types.js';

/**
 * Reads and validates a configuration file (`.json` as JSON, anything else as YAML). Throws
 * {@link ConfigError}: `ERR_CONFIG_READ` when the file cannot be read, `ERR_CONFIG_INVALID` otherwise.
 */
export async function loadConfigFile(path: string): Promise<SwitchyardConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new ConfigError(ErrorCodes.ERR_CONFIG_READ, `cannot read configuration file ${path}: ${why}`, [], {
      cause: err,
    });
  }
  return parseConfigText(text, path);
}

/**
 * Validates configuration text; `fileName` picks the format by extension, names the file in
 * issues and anchors relative TLS paths (resolved against its directory, returned absolute).
 * Throws {@link ConfigError} (`ERR_CONFIG_INVALID`) listing every problem with its line and column.
 */
export function parseConfigText(text: string, fileName: string): SwitchyardConfig {
  const source = parseSource(text.replace(/^\uFEFF/, ''), fileName);
  const result = configSchema.safeParse(source.value, { reportInput: true });
  if (!result.success) {
    throw ConfigError.invalid(fileName, toConfigIssues(result.error, configSchema, fileName, source));
  }
  return resolvePaths(result.data, dirname(resolve(fileName)));
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

/** TLS file paths made absolute against the configuration file's directory. */
function resolvePaths(config: SwitchyardConfig, baseDir: string): SwitchyardConfig {
  for (const listener of config.listeners) {
    if (listener.kind !== 'tls') continue;
    const tls = listener.tls;
    tls.cert = resolve(baseDir, tls.cert);
    tls.key = resolve(baseDir, tls.key);
    tls.clientCa = resolve(baseDir, tls.clientCa);
    if (tls.crl !== undefined) tls.crl = resolve(baseDir, tls.crl);
  }
  return config;
}
