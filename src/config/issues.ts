import { type Document, isAlias, isMap, isScalar, isSeq, type LineCounter, type Node, type Pair } from 'yaml';
import type { z } from 'zod';
import { type ConfigIssue, formatKeyPath } from './config-error.js';
import { defOf, unwrap } from './schema-walk.js';
import { isSecretPath, REDACTED, redactValue } from './secrets.js';
import { showValue } from './show-value.js';
import { didYouMean } from './suggest.js';

/** The parsed YAML document a value came from, for turning key paths into line and column. */
export interface SourceMap {
  /** The document, when the text could be parsed by `yaml`. */
  readonly doc?: Document;
  /** Offsets to lines, filled while parsing `doc`. */
  readonly lineCounter?: LineCounter;
}

type Key = string | number;

/**
 * Zod's issues as {@link ConfigIssue}s in file order: one per unknown key, each message saying what
 * was expected, each position that of the offending node (the enclosing mapping for a missing key).
 */
export function toConfigIssues(
  error: z.ZodError,
  schema: z.core.$ZodType,
  file: string,
  source: SourceMap,
): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  const add = (path: Key[], message: string, at: 'key' | 'value') => {
    const { line, column } = locate(source, path, at);
    out.push({ file, line, column, path: formatKeyPath(path), message });
  };
  for (const issue of error.issues) {
    const path = issue.path.filter((k): k is Key => typeof k !== 'symbol');
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeys(schema, path);
      for (const key of issue.keys)
        add([...path, key], `unknown key "${key}"${didYouMean(key, known)}`, 'key');
    } else {
      const at = issue.code === 'custom' && issue.params?.at === 'key' ? 'key' : 'value';
      add(path, describe(issue, isSecretPath(path)), at);
    }
  }
  // Stable, so issues at one spot keep zod's order.
  return out.sort((a, b) => a.line - b.line || a.column - b.column);
}

const TYPE_NAMES: Readonly<Record<string, string>> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'a mapping',
  record: 'a mapping',
  array: 'a list',
};

/**
 * What was expected, in words; zod's own wording only for issue kinds the schema does not produce.
 * A `secret` value (the admin token) is never repeated: an error message is printed and logged.
 */
function describe(issue: z.core.$ZodIssue, secret: boolean): string {
  const got = secret ? REDACTED : showValue(issue.input);
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'required';
      return `expected ${TYPE_NAMES[issue.expected] ?? issue.expected}, got ${got}`;
    case 'invalid_value': {
      const values = issue.values.map((v) => JSON.stringify(v));
      const hint =
        typeof issue.input === 'string' && !secret ? didYouMean(issue.input, issue.values.map(String)) : '';
      const expected = values.length === 1 ? values[0] : `one of ${values.join(', ')}`;
      return `expected ${expected}, got ${got}${hint}`;
    }
    case 'too_small':
      if (issue.origin === 'array')
        return `expected at least ${issue.minimum} ${plural(issue.minimum, 'item')}`;
      if (issue.origin === 'string') {
        return issue.minimum === 1 ? 'must not be empty' : `expected at least ${issue.minimum} characters`;
      }
      return `expected a number ${issue.inclusive ? '>=' : '>'} ${issue.minimum}, got ${got}`;
    case 'too_big':
      if (issue.origin === 'array')
        return `expected at most ${issue.maximum} ${plural(issue.maximum, 'item')}`;
      if (issue.origin === 'string') return `expected at most ${issue.maximum} characters`;
      return `expected a number ${issue.inclusive ? '<=' : '<'} ${issue.maximum}, got ${got}`;
    default:
      return secret ? redactValue(issue.message, issue.input) : issue.message;
  }
}

function plural(n: number | bigint, word: string): string {
  return Number(n) === 1 ? word : `${word}s`;
}

/** The keys the object schema at `path` knows, for "did you mean" hints. */
function knownKeys(schema: z.core.$ZodType, path: readonly Key[]): string[] {
  let s: z.core.$ZodType | undefined = unwrap(schema);
  for (const key of path) {
    const def = defOf(s);
    if (def.type === 'object') s = def.shape?.[String(key)];
    else if (def.type === 'array') s = def.element;
    else if (def.type === 'record') s = def.valueType;
    else s = undefined;
    if (s === undefined) return [];
    s = unwrap(s);
  }
  const def = defOf(s);
  return def.type === 'object' && def.shape !== undefined ? Object.keys(def.shape) : [];
}

/** Line and column of the node at `path` (or of its key), else of its nearest existing ancestor. */
export function locate(
  source: SourceMap,
  path: readonly Key[],
  at: 'key' | 'value',
): { line: number; column: number } {
  const { doc, lineCounter } = source;
  if (doc === undefined || lineCounter === undefined) return { line: 1, column: 1 };
  const position = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  let node: unknown = doc.contents;
  let best = rangeStart(node) ?? 0;
  for (let i = 0; i < path.length; i++) {
    if (isAlias(node)) node = node.resolve(doc);
    let pair: Pair | undefined;
    if (isMap(node)) {
      pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(path[i]));
      node = pair?.value;
    } else if (isSeq(node) && typeof path[i] === 'number') {
      node = node.items[path[i] as number];
    } else {
      node = undefined;
    }
    const last = i === path.length - 1;
    const keyStart = rangeStart(pair?.key);
    // An empty value (`cert:`) has no text of its own, so its key is the better place to point.
    const valueStart = rangeStart(node);
    if (last && keyStart !== undefined && (at === 'key' || valueStart === undefined || isEmpty(node))) {
      return position(keyStart);
    }
    if (valueStart === undefined) break;
    best = valueStart;
  }
  return position(best);
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as Node | null | undefined)?.range;
  return range === undefined || range === null ? undefined : range[0];
}

function isEmpty(node: unknown): boolean {
  const range = (node as Node | null | undefined)?.range;
  return (
    isScalar(node) && node.value === null && range !== undefined && range !== null && range[0] === range[1]
  );
}
