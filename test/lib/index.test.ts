/**
 * `switchyard/lib` (src/lib/index.ts) must be importable without the CLI's dependencies: its
 * compiled import graph is walked file by file, parsed by TypeScript's own scanner, and every
 * specifier must be relative (followed) or a `node:` builtin.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

// Compiled to dist/test/lib, so dist/src/lib is two levels up and across.
const DIST_SRC = fileURLToPath(new URL('../../src/', import.meta.url));
const LIB_ENTRY = resolve(DIST_SRC, 'lib/index.js');
// Far more than the library has files; the walk stops there rather than run away.
const MAX_FILES = 2000;

interface ImportGraph {
  /** Files reached, relative to dist/src. */
  files: string[];
  /** `file: specifier` for every import that is neither relative nor `node:`. */
  foreign: string[];
}

function walkImports(entry: string): ImportGraph {
  const seen = new Set<string>([entry]);
  const queue = [entry];
  const foreign: string[] = [];
  for (let i = 0; i < queue.length && i < MAX_FILES; i++) {
    const file = queue[i];
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    for (const { fileName: specifier } of importedFiles) {
      if (specifier.startsWith('node:')) continue;
      if (!specifier.startsWith('./') && !specifier.startsWith('../')) {
        foreign.push(`${relative(DIST_SRC, file)}: ${specifier}`);
        continue;
      }
      const target = resolve(dirname(file), specifier);
      assert.ok(existsSync(target), `${relative(DIST_SRC, file)} imports ${specifier}, which is not built`);
      if (!seen.has(target)) {
        seen.add(target);
        queue.push(target);
      }
    }
  }
  assert.ok(queue.length < MAX_FILES, 'the import graph is larger than any library should be');
  return { files: queue.map((f) => relative(DIST_SRC, f)), foreign };
}

describe('switchyard/lib', () => {
  it('reaches only its own files and node: builtins, never a third-party package', () => {
    const graph = walkImports(LIB_ENTRY);
    assert.deepEqual(graph.foreign, []);
    // The walk did follow the graph: balancers, limiters and health checking are all in it.
    for (const file of [
      'lib/balancers/round-robin.js',
      'lib/ratelimit/rate-limiter.js',
      'lib/ratelimit/redis-store.js',
      'lib/ratelimit/redis-concurrency.js',
      'lib/health/tcp-probe.js',
    ]) {
      assert.ok(graph.files.includes(file), `${file} is not reached`);
    }
    assert.ok(
      graph.files.every((f) => f.startsWith('lib/')),
      'the library imports from outside src/lib',
    );
  });

  it('exports what the package main entry point exports', async () => {
    const main = await import('../../src/index.js');
    const lib = await import('../../src/lib/index.js');
    assert.deepEqual(Object.keys(lib).sort(), Object.keys(main).sort());
    for (const name of [
      'UpstreamGroup',
      'RateLimiter',
      'ConcurrencyLimiter',
      'HealthChecker',
      'SwitchyardError',
    ]) {
      assert.ok(name in lib, `${name} is missing`);
    }
  });
});
