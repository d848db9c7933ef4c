/**
 * What `npm pack` would publish, checked without a registry (`npm pack --dry-run --json`): the
 * license text is in it, every source map shipped can find its sources in it, both export targets
 * are in it, and the description promises only what ships.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

// Compiled to dist/test/package, so the repository root is three levels up.
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

interface PackEntry {
  /** Path inside the package, with forward slashes. */
  path: string;
}

interface PackReport {
  files: PackEntry[];
}

interface ExportTarget {
  types: string;
  import: string;
}

interface PackageJson {
  description: string;
  license: string;
  exports: Record<string, ExportTarget>;
}

function packedFiles(): Set<string> {
  const result = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  assert.equal(result.status, 0, result.stderr);
  const [report] = JSON.parse(result.stdout) as PackReport[];
  return new Set(report.files.map((f) => f.path));
}

describe('the published package', () => {
  let files: Set<string>;
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as PackageJson;

  before(() => {
    files = packedFiles();
  });

  it('ships the MIT license text its package.json names', () => {
    assert.equal(pkg.license, 'MIT');
    assert.ok(files.has('LICENSE'), 'LICENSE is not in the package');
    const text = readFileSync(join(ROOT, 'LICENSE'), 'utf8');
    assert.match(text, /^MIT License\n\nCopyright \(c\) 2026 The Switchyard authors\n/);
  });

  it('ships no source map whose sources are missing from it', () => {
    const dangling: string[] = [];
    for (const file of files) {
      if (!file.endsWith('.map')) continue;
      const map = JSON.parse(readFileSync(join(ROOT, file), 'utf8')) as {
        sourceRoot?: string;
        sources: string[];
      };
      for (const source of map.sources) {
        const path = posix.normalize(posix.join(posix.dirname(file), map.sourceRoot ?? '', source));
        if (!files.has(path)) dangling.push(`${file} -> ${path}`);
      }
    }
    assert.deepEqual(dangling, []);
  });

  it('ships the files both entry points map to, `switchyard/lib` among them', () => {
    assert.ok(pkg.exports['./lib'] !== undefined, 'no "./lib" export');
    for (const [entry, target] of Object.entries(pkg.exports)) {
      for (const path of [target.types, target.import]) {
        assert.ok(files.has(posix.normalize(path)), `${entry}: ${path} is not in the package`);
      }
    }
  });

  it('describes only the listener kinds that ship (TCP and TLS, no UDP yet)', () => {
    assert.doesNotMatch(pkg.description, /udp/i);
    assert.match(pkg.description, /TCP, TLS/);
  });
});
