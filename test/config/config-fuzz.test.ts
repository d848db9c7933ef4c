import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { parse, stringify } from 'yaml';
import { ConfigError } from '../../src/config/config-error.js';
import { parseConfigText } from '../../src/config/load-config.js';
import { ErrorCodes } from '../../src/lib/errors.js';

// Fuzzing the loader with bounded runs: whatever an operator (or a broken template) writes, the
// loader answers with a config or a ConfigError that says where, and never with a crash.
const RUNS = 300;

const EXAMPLES = ['mtls-by-org.yaml', 'plain-tcp.yaml', 'seed-three-groups.yaml'].map((name) =>
  readFileSync(fileURLToPath(new URL(`../../../examples/${name}`, import.meta.url)), 'utf8'),
);

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Every path to a value inside `doc`, the root excluded. */
function pathsOf(doc: Json, prefix: (string | number)[] = []): (string | number)[][] {
  if (doc === null || typeof doc !== 'object') return [];
  const keys: (string | number)[] = Array.isArray(doc) ? doc.map((_, i) => i) : Object.keys(doc);
  return keys.flatMap((k) => {
    const child = (doc as Record<string | number, Json>)[k];
    return [[...prefix, k], ...pathsOf(child, [...prefix, k])];
  });
}

type Mutation =
  | { kind: 'delete'; at: number }
  | { kind: 'replace'; at: number; value: Json }
  | { kind: 'add'; at: number; key: string; value: Json };

const valueArb = fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>;
const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), value: valueArb }),
  fc.record({
    kind: fc.constant('add' as const),
    at: fc.nat(),
    key: fc.string({ maxLength: 12 }),
    value: valueArb,
  }),
);

/** Applies one mutation to a copy of `doc` at the path picked by `at` (modulo the number of paths). */
function mutate(doc: Json, m: Mutation): Json {
  const copy = structuredClone(doc);
  const paths = pathsOf(copy);
  const path = paths[m.at % paths.length];
  let parent = copy as Record<string | number, Json>;
  for (const seg of path.slice(0, -1)) parent = parent[seg] as Record<string | number, Json>;
  const last = path[path.length - 1];
  if (m.kind === 'delete') {
    if (Array.isArray(parent)) parent.splice(last as number, 1);
    else delete parent[last];
  } else if (m.kind === 'replace') {
    parent[last] = m.value;
  } else {
    const target = parent[last];
    if (target !== null && typeof target === 'object' && !Array.isArray(target)) target[m.key] = m.value;
    else parent[last] = { [m.key]: m.value };
  }
  return copy;
}

/** Parses and returns the ConfigError, or undefined when the text is a valid config; anything else fails the test. */
function loadOrConfigError(text: string, file: string): ConfigError | undefined {
  try {
    parseConfigText(text, file);
    return undefined;
  } catch (err) {
    if (!(err instanceof ConfigError))
      throw new Error(`not a ConfigError: ${String(err)}\n--- input ---\n${text}`);
    return err;
  }
}

describe('config loader under fuzzing', { timeout: 120_000 }, () => {
  it('a mutated example (YAML or JSON) is either valid or refused with a key path, line and column for every problem', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...EXAMPLES),
        fc.array(mutationArb, { minLength: 1, maxLength: 4 }),
        fc.boolean(),
        (example, mutations, asJson) => {
          let doc = parse(example) as Json;
          for (const m of mutations) doc = mutate(doc, m);
          const file = asJson ? 'fuzz.json' : 'fuzz.yaml';
          const text = asJson ? JSON.stringify(doc, null, 2) : stringify(doc);
          const err = loadOrConfigError(text, file);
          if (err === undefined) return;
          assert.equal(err.code, ErrorCodes.ERR_CONFIG_INVALID);
          assert.ok(err.issues.length > 0, 'at least one issue');
          for (const issue of err.issues) {
            assert.equal(issue.file, file);
            assert.ok(issue.line >= 1 && issue.column >= 1, `line and column for ${issue.path}`);
            assert.ok(issue.message.length > 0);
            // The root is still a mapping with its sections, so every problem sits under a key.
            assert.ok(issue.path !== '', `a key path in: ${err.message}`);
            assert.ok(err.message.includes(issue.path), 'the message names the key path');
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('random edits to the text never crash it: a config, or a ConfigError with a line and column', () => {
    const edit = fc.record({
      at: fc.nat(),
      cut: fc.integer({ min: 0, max: 8 }),
      insert: fc.string({
        maxLength: 8,
        unit: fc.constantFrom(...': -[]{}"\'#&*!|>%@`\n\t\\,?0aZ'.split('')),
      }),
    });
    fc.assert(
      fc.property(
        fc.constantFrom(...EXAMPLES),
        fc.array(edit, { minLength: 1, maxLength: 5 }),
        (example, edits) => {
          let text = example;
          for (const e of edits) {
            const at = e.at % (text.length + 1);
            text = text.slice(0, at) + e.insert + text.slice(at + e.cut);
          }
          const err = loadOrConfigError(text, 'fuzz.yaml');
          if (err === undefined) return;
          assert.equal(err.code, ErrorCodes.ERR_CONFIG_INVALID);
          for (const issue of err.issues) {
            assert.equal(issue.file, 'fuzz.yaml');
            assert.ok(issue.line >= 1 && issue.column >= 1);
            assert.ok(issue.message.length > 0);
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('arbitrary documents, even a bare value at the root, are refused with a ConfigError', () => {
    fc.assert(
      fc.property(valueArb, fc.boolean(), (doc, asJson) => {
        const file = asJson ? 'fuzz.json' : 'fuzz.yaml';
        const err = loadOrConfigError(asJson ? JSON.stringify(doc) : stringify(doc), file);
        assert.ok(err !== undefined, 'an arbitrary value is not a configuration');
        assert.equal(err.code, ErrorCodes.ERR_CONFIG_INVALID);
      }),
      { numRuns: RUNS },
    );
  });
});
