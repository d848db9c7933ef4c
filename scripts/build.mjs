// Compiles the TypeScript into dist/ with tsc in incremental mode. `npm run build` runs it; with
// --if-stale (`npm run demo`) it first compares a digest of every compiler input with the one the
// last successful build recorded and skips tsc when they are equal, so a second start of the demo
// does not pay for the compiler at all.
//
// Why each part is here:
// - The incremental state (.tsbuildinfo) and the digest live inside dist/, so deleting dist/ gives
//   a full build: tsc would otherwise trust a build info file that describes outputs no longer there.
// - tsc never deletes the output of a deleted source file; those outputs are removed after every
//   build, so a removed test or module cannot keep running from dist/.
// - Builds in one tree take turns (a lock directory in dist/): two tsc runs writing the same outputs
//   and build info at once could leave one's outputs under the other's build info.
// - The dashboard page's files (plain HTML, CSS and ES modules, no compile step) are copied into
//   dist/ beside the module that serves them, on every build: the package ships dist/src only.
// - The digest is recorded only when tsc succeeded and no input changed while it ran, so a file
//   saved mid-build is compiled again next time.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TSCONFIG = 'tsconfig.json';
// What decides the output besides the sources: compiler options, module type, compiler version.
const EXTRA_INPUTS = [TSCONFIG, 'package.json', 'package-lock.json'];
const SOURCE = /\.(ts|tsx|mts|cts|json)$/;
// tsc's outputs for one source file, by the suffix that replaces the source's `.ts`.
const OUTPUT_SUFFIXES = ['.d.ts.map', '.d.ts', '.js.map', '.js'];
const LOCK_WAIT_MS = 10 * 60 * 1000;
const LOCK_POLL_MS = 200;
// Folders of files served as they are, copied to the same place under dist/.
const ASSET_DIRS = ['src/control/dashboard/assets'];

const ifStale = process.argv.includes('--if-stale');
const config = JSON.parse(readFileSync(join(ROOT, TSCONFIG), 'utf8'));
const outDir = join(ROOT, config.compilerOptions?.outDir ?? 'dist');
const sourceDirs = (config.include ?? ['src']).filter((d) => existsSync(join(ROOT, d)));
const buildInfo = join(outDir, '.tsbuildinfo');
const stamp = join(outDir, '.build-inputs');
const lock = join(outDir, '.build-lock');

/** Every file below `dir` (relative to the root), sorted so the digest does not depend on readdir. */
function filesBelow(dir) {
  const out = [];
  for (const name of readdirSync(join(ROOT, dir)).sort()) {
    const path = join(dir, name);
    if (statSync(join(ROOT, path)).isDirectory()) out.push(...filesBelow(path));
    else out.push(path);
  }
  return out;
}

/** SHA-256 over the names and contents of every compiler input and the compiler's version. */
function inputsDigest() {
  const hash = createHash('sha256');
  const typescript = createRequire(join(ROOT, 'package.json'))('typescript/package.json');
  hash.update(`typescript ${typescript.version}\0`);
  const sources = sourceDirs.flatMap(filesBelow).filter((f) => SOURCE.test(f));
  for (const file of [...EXTRA_INPUTS, ...sources]) {
    hash.update(`${file}\0`);
    hash.update(existsSync(join(ROOT, file)) ? readFileSync(join(ROOT, file)) : '(missing)');
    hash.update('\0');
  }
  return hash.digest('hex');
}

function readText(path) {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** True while `pid` is a running process (a lock left by a crashed build is taken over). */
function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

async function acquireLock() {
  mkdirSync(outDir, { recursive: true });
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (let announced = false; Date.now() < deadline; ) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      return;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
    }
    const holder = Number(readText(join(lock, 'pid')));
    // No pid yet means the holder is between its mkdir and its write: wait for it.
    if (holder > 0 && !alive(holder)) {
      rmSync(lock, { recursive: true, force: true });
      continue;
    }
    if (!announced) {
      console.error(`build: waiting for the build running as process ${holder || '?'} in this tree`);
      announced = true;
    }
    await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
  }
  throw new Error(`build: ${relative(ROOT, lock)} is still held after ${LOCK_WAIT_MS / 1000} s`);
}

function releaseLock() {
  rmSync(lock, { recursive: true, force: true });
}

/** Removes outputs in dist/ whose source file no longer exists; returns how many. */
function removeOrphans() {
  let removed = 0;
  for (const dir of sourceDirs) {
    if (!existsSync(join(outDir, dir))) continue;
    for (const output of filesBelow(join(relative(ROOT, outDir), dir))) {
      const suffix = OUTPUT_SUFFIXES.find((s) => output.endsWith(s));
      if (suffix === undefined) continue;
      if (ASSET_DIRS.some((d) => output.startsWith(join(relative(ROOT, outDir), d)))) continue;
      const base = relative(relative(ROOT, outDir), output).slice(0, -suffix.length);
      const sources = ['.ts', '.tsx', '.mts', '.cts'].map((ext) => join(ROOT, base + ext));
      if (!sources.some((s) => existsSync(s))) {
        rmSync(join(ROOT, output));
        removed++;
      }
    }
  }
  return removed;
}

/** Copies each asset folder to dist/, after removing the copy of the last build (a deleted file goes too). */
function copyAssets() {
  // a project without the folder (the build script's own tests) has nothing to copy
  for (const dir of ASSET_DIRS.filter((d) => existsSync(join(ROOT, d)))) {
    rmSync(join(outDir, dir), { recursive: true, force: true });
    cpSync(join(ROOT, dir), join(outDir, dir), { recursive: true });
  }
}

await acquireLock();
let status = 1;
try {
  const before = inputsDigest();
  if (ifStale && readText(stamp) === before) {
    // the page's files are no compiler input: copied even when tsc is skipped
    copyAssets();
    status = 0;
  } else {
    rmSync(stamp, { force: true });
    const tsc = createRequire(join(ROOT, 'package.json')).resolve('typescript/bin/tsc');
    const result = spawnSync(
      process.execPath,
      [tsc, '-p', TSCONFIG, '--incremental', '--tsBuildInfoFile', buildInfo],
      { cwd: ROOT, stdio: 'inherit' },
    );
    status = result.status ?? 1;
    const removed = removeOrphans();
    if (removed > 0) console.error(`build: removed ${removed} outputs of deleted sources from dist/`);
    copyAssets();
    if (status === 0 && inputsDigest() === before) writeFileSync(stamp, before);
  }
} finally {
  releaseLock();
}
process.exit(status);
