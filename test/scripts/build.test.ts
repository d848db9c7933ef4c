/**
 * scripts/build.mjs, run for real on a small project in a temporary directory: the compiler is the
 * repository's TypeScript behind a wrapper that records each run, so the test sees when tsc ran
 * without timing anything.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

// Compiled to dist/test/scripts, so the repository root is three levels up.
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const REAL_TSC = createRequire(join(ROOT, 'package.json')).resolve('typescript/lib/tsc.js');

describe('scripts/build.mjs', { timeout: 120_000 }, () => {
  let project: string;
  const at = (path: string) => join(project, path);
  const write = (path: string, text: string) => {
    mkdirSync(dirname(at(path)), { recursive: true });
    writeFileSync(at(path), text);
  };
  /** How many times tsc has run in the project so far. */
  const tscRuns = () =>
    existsSync(at('tsc-runs.log')) ? readFileSync(at('tsc-runs.log'), 'utf8').length : 0;
  const build = (...args: string[]) => {
    const r = spawnSync(process.execPath, [at('scripts/build.mjs'), ...args], {
      cwd: project,
      encoding: 'utf8',
    });
    return { code: r.status, output: `${r.stdout}${r.stderr}` };
  };

  before(() => {
    project = mkdtempSync(join(tmpdir(), 'switchyard-build-'));
    write('scripts/build.mjs', readFileSync(join(ROOT, 'scripts/build.mjs'), 'utf8'));
    write('package.json', '{ "name": "build-test", "type": "module" }\n');
    write('package-lock.json', '{}\n');
    write(
      'tsconfig.json',
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          lib: ['ES2023'],
          types: [],
          strict: true,
          declaration: true,
          sourceMap: true,
          outDir: 'dist',
          rootDir: '.',
        },
        include: ['src', 'test'],
      }),
    );
    // The project's "typescript": the real compiler, behind a launcher that counts its runs.
    write('node_modules/typescript/package.json', '{ "name": "typescript", "version": "0.0.0-test" }\n');
    write(
      'node_modules/typescript/bin/tsc',
      `require('node:fs').appendFileSync(${JSON.stringify(at('tsc-runs.log'))}, 'x');\nrequire(${JSON.stringify(REAL_TSC)});\n`,
    );
    write('src/greeting.ts', "export const greeting = 'hello';\n");
    write(
      'src/main.ts',
      "import { greeting } from './greeting.js';\nexport const shout = greeting.toUpperCase();\n",
    );
    write('test/main.test.ts', "import { shout } from '../src/main.js';\nexport const checked = shout;\n");
  });
  after(() => rmSync(project, { recursive: true, force: true }));

  it('compiles on the first run, and --if-stale skips tsc while no input changed', () => {
    assert.equal(build('--if-stale').code, 0);
    assert.equal(tscRuns(), 1);
    for (const out of ['src/main.js', 'src/main.d.ts', 'src/main.js.map', 'test/main.test.js']) {
      assert.ok(existsSync(at(`dist/${out}`)), `dist/${out}`);
    }
    assert.equal(build('--if-stale').code, 0);
    assert.equal(tscRuns(), 1, 'no second tsc run');
    assert.ok(!existsSync(at('dist/.build-lock')), 'the lock is released');
  });

  it('always runs tsc without --if-stale', () => {
    const runs = tscRuns();
    assert.equal(build().code, 0);
    assert.equal(tscRuns(), runs + 1);
  });

  it('compiles again after a source, tsconfig.json or package.json change', () => {
    for (const [file, text] of [
      ['src/greeting.ts', "export const greeting = 'hello again';\n"],
      ['package.json', '{ "name": "build-test", "type": "module", "version": "1.0.0" }\n'],
      [
        'tsconfig.json',
        readFileSync(at('tsconfig.json'), 'utf8').replace(
          '"strict":true',
          '"strict":true,"removeComments":true',
        ),
      ],
    ]) {
      const runs = tscRuns();
      write(file, text);
      assert.equal(build('--if-stale').code, 0);
      assert.equal(tscRuns(), runs + 1, `${file} changed`);
    }
    assert.match(readFileSync(at('dist/src/greeting.js'), 'utf8'), /hello again/);
  });

  it('removes the outputs of a deleted source file', () => {
    write('src/extra.ts', 'export const extra = 1;\n');
    assert.equal(build('--if-stale').code, 0);
    assert.ok(existsSync(at('dist/src/extra.js')));
    rmSync(at('src/extra.ts'));
    const r = build('--if-stale');
    assert.equal(r.code, 0);
    for (const out of ['extra.js', 'extra.d.ts', 'extra.js.map']) {
      assert.ok(!existsSync(at(`dist/src/${out}`)), `dist/src/${out} is gone`);
    }
    assert.ok(existsSync(at('dist/src/main.js')), 'outputs of existing sources stay');
    assert.match(r.output, /removed 3 outputs of deleted sources/);
  });

  it('fails on a deleted import and keeps failing until it is fixed', () => {
    const greeting = readFileSync(at('src/greeting.ts'), 'utf8');
    rmSync(at('src/greeting.ts'));
    const first = build('--if-stale');
    assert.notEqual(first.code, 0);
    assert.match(first.output, /Cannot find module '\.\/greeting\.js'/);
    const runs = tscRuns();
    assert.notEqual(build('--if-stale').code, 0, 'a failed build is not recorded as up to date');
    assert.equal(tscRuns(), runs + 1);
    write('src/greeting.ts', greeting);
    assert.equal(build('--if-stale').code, 0);
    assert.ok(existsSync(at('dist/src/greeting.js')));
  });

  it('builds everything again after dist/ is deleted', () => {
    rmSync(at('dist'), { recursive: true });
    const runs = tscRuns();
    assert.equal(build('--if-stale').code, 0);
    assert.equal(tscRuns(), runs + 1);
    for (const out of ['src/main.js', 'src/greeting.js', 'test/main.test.js']) {
      assert.ok(existsSync(at(`dist/${out}`)), `dist/${out}`);
    }
  });

  it('takes over a lock left by a build that died', () => {
    mkdirSync(at('dist/.build-lock'));
    // A pid far above any pid_max in use: no such process.
    writeFileSync(at('dist/.build-lock/pid'), '2147483646');
    appendFileSync(at('src/main.ts'), '// changed\n');
    assert.equal(build('--if-stale').code, 0);
    assert.ok(!existsSync(at('dist/.build-lock')));
  });

  it('is what `npm run build` runs and what `npm run demo` runs before the demo', () => {
    const scripts = (
      JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
    ).scripts;
    assert.equal(scripts.build, 'node scripts/build.mjs');
    assert.match(scripts.demo, /^node scripts\/build\.mjs --if-stale && node bin\/switchyard\.js demo$/);
  });
});
