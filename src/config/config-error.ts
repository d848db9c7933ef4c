import { ErrorCodes, SwitchyardError } from '../lib/errors.js';

/** One problem found in a configuration file, with where it is. Line and column count from 1. */
export interface ConfigIssue {
  /** The file name as given to the loader. */
  readonly file: string;
  /** 1-based line of the offending key or value (of the enclosing mapping for a missing key). */
  readonly line: number;
  /** 1-based column on that line. */
  readonly column: number;
  /** Key path like `listeners[0].tls.cert`; empty for the document as a whole. */
  readonly path: string;
  /** What was expected, e.g. `required` or `expected a duration like "5m", got "5 minutes"`. */
  readonly message: string;
}

/**
 * A configuration that cannot be used: `ERR_CONFIG_INVALID` with every issue found, or
 * `ERR_CONFIG_READ` (no issues, `cause` set) when the file cannot be read at all.
 */
export class ConfigError extends SwitchyardError {
  /** Every problem found, in file order. */
  readonly issues: readonly ConfigIssue[];

  constructor(
    code: typeof ErrorCodes.ERR_CONFIG_INVALID | typeof ErrorCodes.ERR_CONFIG_READ,
    message: string,
    issues: readonly ConfigIssue[],
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
    this.name = 'ConfigError';
    this.issues = issues;
  }

  /** An `ERR_CONFIG_INVALID` error whose message lists each issue on its own line. */
  static invalid(file: string, issues: readonly ConfigIssue[]): ConfigError {
    const count = issues.length === 1 ? '1 problem' : `${issues.length} problems`;
    const lines = issues.map((i) => `  ${formatConfigIssue(i)}`);
    return new ConfigError(
      ErrorCodes.ERR_CONFIG_INVALID,
      [`invalid configuration ${file} (${count}):`, ...lines].join('\n'),
      issues,
    );
  }
}

/** `FILE:LINE:COLUMN key.path: message`, the key path left out for document-wide problems. */
export function formatConfigIssue(issue: ConfigIssue): string {
  const where = `${issue.file}:${issue.line}:${issue.column}`;
  return issue.path === '' ? `${where} ${issue.message}` : `${where} ${issue.path}: ${issue.message}`;
}

/** A zod-style path as people write it: `listeners[0].tls.cert`, `groups["a.b"]`. */
export function formatKeyPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z0-9_-]+$/.test(String(seg))) out += out === '' ? String(seg) : `.${String(seg)}`;
    else out += `[${JSON.stringify(String(seg))}]`;
  }
  return out;
}
