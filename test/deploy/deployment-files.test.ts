/**
 * The container and cluster files checked without a Docker engine or a cluster: they are parsed, and
 * everything they promise about the repository and about each other is verified (files that COPY and
 * mounts name exist, ports and paths agree with the configurations they ship, the image runs
 * `switchyard`, the configurations pass the real validator).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { basename, dirname, join, posix } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { parseDuration } from '../../src/config/duration.js';
import { parseConfigText } from '../../src/config/load-config.js';
import type { SwitchyardConfig, TlsListenerConfig } from '../../src/config/types.js';
import { parseHostPort } from '../../src/lib/upstreams/address.js';
import { buildRuntime } from '../../src/runtime/build-runtime.js';
import { writeTestPki } from '../helpers/certs.js';
import { BIN, type CliProcess, runCli, startCli } from '../helpers/cli.js';
import { connectTcp } from '../helpers/clients.js';
import { startRedis } from '../helpers/redis-server.js';
import { installed, itWith, REDIS_SERVER } from '../helpers/system-tools.js';
import { startNamedHttpUpstream } from '../helpers/upstreams.js';

const HAVE_REDIS = await installed(REDIS_SERVER);

// Compiled to dist/test/deploy, so the repository root is three levels up.
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

function repoPath(relative: string): string {
  return join(ROOT, relative);
}

function readRepoFile(relative: string): string {
  return readFileSync(repoPath(relative), 'utf8');
}

type Yaml = Record<string, unknown>;

function asRecord(value: unknown, what: string): Yaml {
  assert.ok(typeof value === 'object' && value !== null && !Array.isArray(value), `${what} is a mapping`);
  return value as Yaml;
}

function asArray(value: unknown, what: string): unknown[] {
  assert.ok(Array.isArray(value), `${what} is a list`);
  return value;
}

// ------------------------------------------------------------------------------------------------
// A Dockerfile reader: enough of the syntax for the file we ship (continuations, comments, JSON and
// shell forms, flags), not a general parser.

interface Instruction {
  keyword: string;
  /** Everything after the keyword, continuations joined. */
  args: string;
  line: number;
}

interface Stage {
  image: string;
  name: string | undefined;
  instructions: Instruction[];
}

function parseDockerfile(text: string): Stage[] {
  const instructions: Instruction[] = [];
  const lines = text.split('\n');
  let pending = '';
  let start = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const trimmed = line.trim();
    // Comment lines are dropped, also between continued lines, as Docker does.
    if (trimmed.startsWith('#') || (trimmed === '' && pending === '')) continue;
    if (pending === '') start = i + 1;
    if (trimmed.endsWith('\\')) {
      pending += `${trimmed.slice(0, -1)} `;
      continue;
    }
    const full = (pending + trimmed).trim();
    pending = '';
    const space = full.search(/\s/);
    instructions.push({
      keyword: (space < 0 ? full : full.slice(0, space)).toUpperCase(),
      args: space < 0 ? '' : full.slice(space + 1).trim(),
      line: start,
    });
  }
  const stages: Stage[] = [];
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') {
      const m = /^(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      assert.ok(m, `FROM on line ${ins.line} reads "image [AS name]"`);
      stages.push({ image: m[1], name: m[2], instructions: [] });
    } else {
      assert.ok(stages.length > 0, `${ins.keyword} on line ${ins.line} comes after a FROM`);
      stages[stages.length - 1].instructions.push(ins);
    }
  }
  return stages;
}

/** Leading `--flag=value` options of an instruction, and the rest. */
function splitFlags(args: string): { flags: Map<string, string>; rest: string } {
  const flags = new Map<string, string>();
  let rest = args;
  for (;;) {
    const m = /^--([a-z-]+)(?:=(\S+))?\s+/.exec(rest);
    if (m === null) return { flags, rest };
    flags.set(m[1], m[2] ?? '');
    rest = rest.slice(m[0].length);
  }
}

/** The JSON (exec) form of CMD, ENTRYPOINT or HEALTHCHECK CMD; fails on the shell form. */
function execForm(args: string, what: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(args);
  } catch {
    assert.fail(`${what} uses the exec (JSON) form so signals reach node directly, got: ${args}`);
  }
  assert.ok(
    Array.isArray(parsed) && parsed.every((s) => typeof s === 'string'),
    `${what} is a list of strings`,
  );
  return parsed as string[];
}

function last(stage: Stage, keyword: string): Instruction | undefined {
  return stage.instructions.filter((i) => i.keyword === keyword).at(-1);
}

/** COPY instructions of a stage with their sources, destination (absolute) and --from stage. */
interface Copy {
  from: string | undefined;
  sources: string[];
  /** Absolute destination. */
  dest: string;
  /** True when the destination names a directory (ends in "/" or there are several sources). */
  intoDir: boolean;
  line: number;
}

function copies(stage: Stage): Copy[] {
  const out: Copy[] = [];
  let workdir = '/';
  for (const ins of stage.instructions) {
    if (ins.keyword === 'WORKDIR') workdir = posix.resolve(workdir, ins.args);
    if (ins.keyword !== 'COPY' && ins.keyword !== 'ADD') continue;
    const { flags, rest } = splitFlags(ins.args);
    const parts = rest.startsWith('[') ? execForm(rest, `COPY on line ${ins.line}`) : rest.split(/\s+/);
    assert.ok(parts.length >= 2, `COPY on line ${ins.line} has a source and a destination`);
    const dest = parts[parts.length - 1];
    out.push({
      from: flags.get('from'),
      sources: parts.slice(0, -1),
      dest: posix.resolve(workdir, dest),
      intoDir: dest.endsWith('/') || parts.length > 2,
      line: ins.line,
    });
  }
  return out;
}

/**
 * Where `source` ends up: a file copied into a directory keeps its name; a directory's contents land
 * in the destination itself.
 */
function copyTarget(source: string, c: Copy): string {
  const isDir =
    c.from === undefined && existsSync(repoPath(source)) && statSync(repoPath(source)).isDirectory();
  return c.intoDir && !isDir ? posix.join(c.dest, basename(source)) : c.dest;
}

// ------------------------------------------------------------------------------------------------
// .dockerignore: patterns in order, the last match wins, `!` re-includes; a pattern that matches a
// directory also matches everything in it.

function dockerignoreRules(text: string): { pattern: RegExp; include: boolean }[] {
  const rules: { pattern: RegExp; include: boolean }[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const include = line.startsWith('!');
    const glob = posix.normalize((include ? line.slice(1) : line).trim()).replace(/^\/+|\/+$/g, '');
    const body = glob
      .split('/')
      .map((seg) =>
        seg === '**'
          ? '.*'
          : seg
              .replace(/[.+^${}()|[\]\\]/g, '\\$&')
              .replace(/\*/g, '[^/]*')
              .replace(/\?/g, '[^/]'),
      )
      .join('/');
    rules.push({ pattern: new RegExp(`^${body}(?:/.*)?$`), include });
  }
  return rules;
}

function inBuildContext(rules: { pattern: RegExp; include: boolean }[], path: string): boolean {
  let included = true;
  for (const rule of rules) if (rule.pattern.test(path)) included = rule.include;
  return included;
}

/** Every file under a repository path, as repository-relative paths. */
function filesUnder(relative: string): string[] {
  const full = repoPath(relative);
  if (!statSync(full).isDirectory()) return [relative];
  return readdirSync(full).flatMap((name) => filesUnder(posix.join(relative, name)));
}

// ------------------------------------------------------------------------------------------------
// What the shipped files say, read once.

const dockerStages = parseDockerfile(readRepoFile('Dockerfile'));
const runtimeStage = dockerStages[dockerStages.length - 1];
const entrypoint = execForm(last(runtimeStage, 'ENTRYPOINT')?.args ?? 'null', 'ENTRYPOINT');
const defaultCmd = execForm(last(runtimeStage, 'CMD')?.args ?? 'null', 'CMD');

const compose = asRecord(parse(readRepoFile('docker-compose.yml'), { merge: true }), 'docker-compose.yml');
const composeServices = asRecord(compose.services, 'services');
const COMPOSE_CONFIG = 'deploy/compose/switchyard.yaml';

const K8S = 'deploy/kubernetes';
const kustomization = asRecord(parse(readRepoFile(`${K8S}/kustomization.yaml`)), 'kustomization.yaml');
const k8sResources = asArray(kustomization.resources, 'kustomization resources').map(String);

/** The one object of `kind` (and `name`, when given) among the kustomization's resources. */
function k8sObject(kind: string, name?: string): Yaml {
  const found = k8sResources
    .map((file) => asRecord(parse(readRepoFile(`${K8S}/${file}`)), file))
    .filter((o) => o.kind === kind && (name === undefined || asRecord(o.metadata, 'metadata').name === name));
  assert.equal(found.length, 1, `exactly one ${kind} ${name ?? ''} among the kustomization's resources`);
  return found[0];
}

/** Every port the runtime image EXPOSEs. */
function exposedPorts(): number[] {
  return runtimeStage.instructions
    .filter((i) => i.keyword === 'EXPOSE')
    .flatMap((i) => i.args.split(/\s+/))
    .map((p) => Number(p.split('/')[0]));
}

/** The admin API's port of a shipped configuration, which must bind every interface to be probed. */
function adminPort(config: SwitchyardConfig): number {
  assert.ok(config.admin !== undefined, 'the configuration enables the admin API');
  const bind = parseHostPort(config.admin.bind);
  assert.ok(
    bind.host === '0.0.0.0' || bind.host === '::',
    `admin.bind on all interfaces, got ${config.admin.bind}`,
  );
  return bind.port;
}

/** The image's HEALTHCHECK command, exec form. */
function healthcheckCommand(): string[] {
  const health = last(runtimeStage, 'HEALTHCHECK');
  assert.ok(health, 'the runtime stage has a HEALTHCHECK');
  const { rest } = splitFlags(health.args);
  assert.match(rest, /^CMD\s/, 'HEALTHCHECK runs a command');
  return execForm(rest.slice(3).trim(), 'HEALTHCHECK CMD');
}

/** The `http://127.0.0.1:PORT/PATH` a `node -e` health check requests. */
function probedUrl(command: readonly string[]): URL {
  const url = /'(http:\/\/127\.0\.0\.1:\d+\/[^']*)'/.exec(command.join(' '))?.[1];
  assert.ok(url, `the check requests a loopback URL: ${command.join(' ')}`);
  return new URL(url);
}

/** Runs a `node -e` health check with its port replaced by `port`; returns its exit code. */
function runHealthcheck(command: readonly string[], fromPort: number, port: number): number | null {
  assert.equal(command[0], 'node', 'the check runs node (the image has no curl)');
  const args = command.slice(1).map((a) => a.replaceAll(`127.0.0.1:${fromPort}/`, `127.0.0.1:${port}/`));
  return spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 30_000 }).status;
}

/** GET `url`: status and body. */
async function httpGetText(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.text() };
}

/** The sum of every `switchyard_rejections_total` sample in a /metrics text. */
function rejectionsTotal(metrics: string): number {
  let sum = 0;
  for (const line of metrics.split('\n')) {
    const m = /^switchyard_rejections_total(?:\{[^}]*\})? (\S+)$/.exec(line);
    if (m !== null) sum += Number(m[1]);
  }
  return sum;
}

/** A shipped configuration running for real on loopback: its ports and the process. */
interface RunningDeployConfig {
  cli: CliProcess;
  listenerPort: number;
  adminPort: number;
  stop(): Promise<void>;
}

/**
 * Runs `switchyard run` with a shipped configuration moved onto loopback: the listener and the admin
 * API on free ports, the certificates made by the test helpers, every upstream a real HTTP server,
 * and the admin token in `tokenVariable` as the deployment passes it.
 */
async function runDeployConfig(
  configText: string,
  tokenVariable: string,
  token: string,
  redisUrl?: string,
): Promise<RunningDeployConfig> {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-deploy-run-'));
  const pki = await writeTestPki(dir);
  const upstream = await startNamedHttpUpstream('deploy-upstream');
  const doc = asRecord(parse(configText), 'configuration');
  const listener = asRecord(asArray(doc.listeners, 'listeners')[0], 'listener');
  listener.bind = '127.0.0.1:0';
  listener.tls = { cert: pki.server.certPath, key: pki.server.keyPath, clientCa: pki.caPath };
  for (const group of Object.values(asRecord(doc.groups, 'groups'))) {
    for (const u of asArray(asRecord(group, 'group').upstreams, 'upstreams'))
      asRecord(u, 'upstream').address = upstream.address;
  }
  asRecord(doc.admin, 'admin').bind = '127.0.0.1:0';
  if (doc.limitStore !== undefined) {
    assert.ok(redisUrl !== undefined, 'a configuration with a limit store runs against a test Redis');
    asRecord(doc.limitStore, 'limitStore').url = redisUrl;
  }
  const configPath = join(dir, 'switchyard.yaml');
  writeFileSync(configPath, stringify(doc));
  // The child gets the token the way the container does: in its environment.
  const saved = process.env[tokenVariable];
  process.env[tokenVariable] = token;
  let cli: CliProcess;
  try {
    cli = startCli(['run', '--config', configPath, '--log-level', 'info']);
  } finally {
    if (saved === undefined) delete process.env[tokenVariable];
    else process.env[tokenVariable] = saved;
  }
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      cli.child.kill('SIGTERM');
      await cli.exited;
      await upstream.close();
      rmSync(dir, { recursive: true, force: true });
    })());
  try {
    // A configuration without the admin API never logs this line: fail rather than wait forever.
    const admin = await Promise.race([
      cli.waitForLog('admin API listening'),
      new Promise<never>((_, reject) => {
        setTimeout(() => reject(new Error('no "admin API listening" line within 20 s')), 20_000).unref();
      }),
    ]);
    assert.equal(admin.token, true, 'the admin API runs with the token from the environment');
    const listening = await cli.waitForLog('listening');
    return {
      cli,
      listenerPort: Number(listening.port),
      adminPort: parseHostPort(String(admin.address)).port,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Polls `check` until it holds (bounded: about 10 s). */
async function waitFor(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail('the condition never held');
}

/** Probes of a running configuration: each answers 200 without a token and none counts as a rejection. */
async function assertProbesAnswer(run: RunningDeployConfig, paths: readonly string[]): Promise<void> {
  const base = `http://127.0.0.1:${run.adminPort}`;
  const before = rejectionsTotal((await httpGetText(`${base}/metrics`)).body);
  for (let round = 0; round < 3; round++) {
    for (const path of paths) {
      const res = await httpGetText(`${base}${path}`);
      assert.equal(res.status, 200, `GET ${path}: ${res.body}`);
    }
  }
  const metrics = await httpGetText(`${base}/metrics`);
  assert.equal(metrics.status, 200);
  assert.equal(
    rejectionsTotal(metrics.body),
    before,
    'probes are not counted in switchyard_rejections_total',
  );
  // Changes still need the token.
  const reload = await fetch(`${base}/api/reload`, { method: 'POST' });
  await reload.text();
  assert.equal(reload.status, 401, 'a change without the token is refused');
}

/** The value after `flag` in an argument list. */
function flagValue(args: readonly string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  return i < 0 ? undefined : args[i + 1];
}

/** The one listener of a shipped configuration, which must speak mutual TLS. */
function tlsListener(config: SwitchyardConfig): TlsListenerConfig {
  assert.equal(config.listeners.length, 1, 'one listener');
  const l = config.listeners[0];
  assert.equal(l.kind, 'tls', 'the listener speaks mutual TLS');
  return l as TlsListenerConfig;
}

/** The listener's port; a listener in a container must bind every interface to be reachable. */
function listenerPort(config: SwitchyardConfig): number {
  const bind = parseHostPort(config.listeners[0].bind);
  assert.ok(
    bind.host === '0.0.0.0' || bind.host === '::',
    `a container's listener binds all interfaces, got ${config.listeners[0].bind}`,
  );
  return bind.port;
}

/** The port a probe or Service names: a number, or the name of one of the container's ports. */
function resolvePort(port: unknown, containerPorts: Yaml[]): number {
  if (typeof port === 'number') return port;
  const named = containerPorts.find((p) => p.name === port);
  assert.ok(named, `port name "${String(port)}" is one of the container's ports`);
  return Number(named.containerPort);
}

// ------------------------------------------------------------------------------------------------

describe('Dockerfile', () => {
  it('is a multi-stage build whose runtime stage is node:20-alpine', () => {
    assert.ok(dockerStages.length >= 2, 'at least a build stage and a runtime stage');
    assert.equal(runtimeStage.image, 'node:20-alpine');
    for (const stage of dockerStages) assert.match(stage.image, /^node:20-alpine$/);
    const names = dockerStages.map((s) => s.name);
    for (const stage of dockerStages) {
      for (const c of copies(stage)) {
        if (c.from !== undefined) assert.ok(names.includes(c.from), `COPY --from=${c.from} names a stage`);
      }
    }
  });

  it('builds with the dev toolchain and ships production dependencies only', () => {
    const buildRuns = dockerStages
      .slice(0, -1)
      .flatMap((s) => s.instructions.filter((i) => i.keyword === 'RUN'));
    assert.ok(
      buildRuns.some((r) => /npm run build|tsc\b/.test(r.args)),
      'a build stage compiles the TypeScript',
    );
    const runtimeRuns = runtimeStage.instructions.filter((i) => i.keyword === 'RUN');
    const installs = runtimeRuns.filter((r) => /\bnpm (ci|install)\b/.test(r.args));
    assert.ok(installs.length > 0, 'the runtime stage installs dependencies');
    for (const r of installs) assert.match(r.args, /--omit=dev/, `line ${r.line} omits dev dependencies`);
    // npm ci --omit=dev would run lifecycle scripts; a "prepare" that builds would need dev tools.
    const pkg = JSON.parse(readRepoFile('package.json')) as { scripts?: Record<string, string> };
    const lifecycle = ['preinstall', 'install', 'postinstall', 'prepare'].filter((s) => pkg.scripts?.[s]);
    if (lifecycle.length > 0) {
      for (const r of installs) assert.match(r.args, /--ignore-scripts/, `line ${r.line} skips ${lifecycle}`);
    }
    assert.ok(
      !copies(runtimeStage).some(
        (c) => c.from === undefined && c.sources.some((s) => /^(\.\/)?(src|test|node_modules)\/?$/.test(s)),
      ),
      'no sources, tests or host node_modules in the runtime image',
    );
  });

  it('runs as a non-root user', () => {
    const user = last(runtimeStage, 'USER');
    assert.ok(user, 'the runtime stage sets USER');
    const name = user.args.split(':')[0];
    assert.ok(!['root', '0', ''].includes(name), `USER ${user.args} is not root`);
  });

  it('has a HEALTHCHECK that asks the admin API /healthz on an exposed port, not the listener', () => {
    const url = probedUrl(healthcheckCommand());
    assert.equal(url.pathname, '/healthz');
    const port = Number(url.port);
    assert.ok(exposedPorts().includes(port), `the runtime stage EXPOSEs ${port}`);
    const compose = parseConfigText(readRepoFile(COMPOSE_CONFIG), '/etc/switchyard/switchyard.yaml');
    assert.equal(adminPort(compose), port, 'the compose configuration serves the admin API there');
    assert.notEqual(listenerPort(compose), port, 'the check never opens a connection to the TLS listener');
  });

  it('copies only files that exist and are in the build context', () => {
    const rules = dockerignoreRules(readRepoFile('.dockerignore'));
    for (const stage of dockerStages) {
      for (const c of copies(stage)) {
        if (c.from !== undefined) continue;
        for (const source of c.sources) {
          const relative = posix.normalize(source).replace(/\/$/, '');
          assert.ok(
            existsSync(repoPath(relative)),
            `COPY ${source} (line ${c.line}) exists in the repository`,
          );
          for (const file of filesUnder(relative)) {
            assert.ok(inBuildContext(rules, file), `${file} is not excluded by .dockerignore`);
          }
        }
      }
    }
  });

  it('runs bin/switchyard.js as its entrypoint, and the launcher finds the compiled CLI', () => {
    assert.deepEqual(entrypoint.slice(0, 1), ['node'], 'ENTRYPOINT runs node');
    const script = entrypoint[1];
    assert.match(script, /\/bin\/switchyard\.js$/);
    // Map every absolute path in the runtime image back to where it came from.
    const provided: { dest: string; repo?: string; stage?: string; stagePath?: string }[] = [];
    for (const c of copies(runtimeStage)) {
      for (const source of c.sources) {
        const dest = copyTarget(source, c);
        if (c.from === undefined) provided.push({ dest, repo: posix.normalize(source).replace(/\/$/, '') });
        else provided.push({ dest, stage: c.from, stagePath: source });
      }
    }
    const origin = (path: string) => {
      const hit = provided.find((p) => path === p.dest || path.startsWith(`${p.dest}/`));
      assert.ok(hit, `${path} is copied into the runtime image`);
      const rest = path.slice(hit.dest.length);
      return { ...hit, rest };
    };
    const launcher = origin(script);
    assert.ok(launcher.repo !== undefined, 'the launcher comes from the repository');
    const launcherFile = posix.join(launcher.repo, launcher.rest);
    assert.equal(launcherFile, 'bin/switchyard.js');
    assert.ok(existsSync(repoPath(launcherFile)), 'bin/switchyard.js exists');
    assert.equal(
      (JSON.parse(readRepoFile('package.json')) as { bin: Record<string, string> }).bin.switchyard,
      './bin/switchyard.js',
      'the package bin "switchyard" is the same launcher',
    );
    // The launcher imports the compiled CLI: it must be the build stage's output of src/cli/main.ts.
    const imported = /import\s+'([^']+)'/.exec(readRepoFile(launcherFile))?.[1];
    assert.ok(imported, 'the launcher imports the CLI');
    const main = origin(posix.resolve(posix.dirname(script), imported));
    assert.ok(
      main.stage !== undefined && main.stagePath !== undefined,
      'the compiled CLI comes from a build stage',
    );
    const tsconfig = JSON.parse(readRepoFile('tsconfig.json')) as { compilerOptions: { outDir: string } };
    const outDir = tsconfig.compilerOptions.outDir.replace(/^\.\//, '');
    const compiled = posix.join(posix.basename(main.stagePath), main.rest); // e.g. src/cli/main.js
    assert.match(main.stagePath, new RegExp(`/${outDir}/src$`), 'copied from the compiler output directory');
    assert.ok(
      existsSync(repoPath(compiled.replace(/\.js$/, '.ts'))),
      `${compiled} is compiled from the repository`,
    );
    // main.ts reads the version from package.json three directories above dist/src/cli/.
    origin(posix.resolve(posix.dirname(script), posix.dirname(imported), '../../../package.json'));
  });

  it('starts `switchyard run --config /etc/switchyard/switchyard.yaml` by default', () => {
    assert.equal(defaultCmd[0], 'run');
    assert.equal(flagValue(defaultCmd, '--config'), '/etc/switchyard/switchyard.yaml');
  });

  it('uses only commands and options the CLI has', async () => {
    for (const [command, options] of [
      ['run', ['--config']],
      ['certs init', ['--dir']],
      ['certs server', ['--dir', '--name']],
      ['certs client', ['--dir', '--cn', '--org', '--out']],
      ['upstream', ['--name', '--listen']],
    ] as const) {
      const { code, stdout } = await runCli([...command.split(' '), '--help']);
      assert.equal(code, 0, `switchyard ${command} --help`);
      for (const option of options)
        assert.ok(stdout.includes(`${option} `), `switchyard ${command} has ${option}`);
    }
  });
});

describe('docker-compose.yml', () => {
  const upstreamNames = ['groupA-1', 'groupA-2', 'groupB-1', 'groupB-2', 'groupC-1', 'groupC-2'];
  const service = (name: string) => asRecord(composeServices[name], `service ${name}`);
  const composeConfig = () =>
    parseConfigText(readRepoFile(COMPOSE_CONFIG), '/etc/switchyard/switchyard.yaml');
  // Compose reads "$$" as a literal "$"; the shell gets the result.
  const certsJobScript = () =>
    asArray(service('certs').command, 'certs.command').map(String).join('\n').replaceAll('$$', '$');

  it('has the certificate job, six upstreams and the balancer, all built from this repository', () => {
    const expected = ['certs', 'balancer', ...upstreamNames.map((n) => `upstream-${n}`)];
    assert.deepEqual(Object.keys(composeServices).sort(), expected.sort());
    for (const name of expected) {
      const s = service(name);
      const build = typeof s.build === 'string' ? s.build : asRecord(s.build, `${name}.build`).context;
      assert.equal(build, '.', `${name} builds the repository's Dockerfile`);
      assert.ok(existsSync(repoPath('Dockerfile')));
      if (name !== 'certs') assert.equal(s.entrypoint, undefined, `${name} keeps the image entrypoint`);
    }
  });

  it('runs one demo upstream per service, checked on its own port', () => {
    for (const name of upstreamNames) {
      const s = service(`upstream-${name}`);
      const command = asArray(s.command, `upstream-${name}.command`).map(String);
      assert.equal(command[0], 'upstream');
      assert.equal(flagValue(command, '--name'), name);
      const listen = parseHostPort(flagValue(command, '--listen') ?? '');
      assert.equal(listen.host, '0.0.0.0', 'reachable from the balancer container');
      const health = asRecord(s.healthcheck, `upstream-${name}.healthcheck`);
      const test = asArray(health.test, 'healthcheck.test').map(String);
      assert.equal(test[0], 'CMD');
      assert.equal(
        Number(probedUrl(test.slice(1)).port),
        listen.port,
        `the health check asks ${listen.port}, not the balancer's admin port`,
      );
    }
  });

  it('names in its configuration exactly the upstream services, on the ports they listen on', () => {
    const config = composeConfig();
    const seen = new Set<string>();
    for (const [group, g] of Object.entries(config.groups)) {
      for (const u of g.upstreams) {
        const { host, port } = parseHostPort(u.address);
        const s = composeServices[host];
        assert.ok(s !== undefined, `groups.${group}: upstream ${u.address} is a compose service`);
        const command = asArray(asRecord(s, host).command, `${host}.command`).map(String);
        assert.equal(
          parseHostPort(flagValue(command, '--listen') ?? '').port,
          port,
          `${host} listens on ${port}`,
        );
        assert.ok(host.startsWith(`upstream-${group}-`), `${host} belongs to ${group}`);
        seen.add(host);
      }
    }
    assert.equal(seen.size, upstreamNames.length, 'every upstream service is in the configuration');
  });

  it('mounts an existing configuration where the balancer reads it, and publishes the listener port', () => {
    const balancer = service('balancer');
    const command = asArray(balancer.command ?? defaultCmd, 'balancer.command').map(String);
    const configPath = flagValue(command, '--config');
    assert.equal(configPath, flagValue(defaultCmd, '--config'), 'the same path as the image default');
    const volumes = asArray(balancer.volumes, 'balancer.volumes').map(String);
    const configMount = volumes.map((v) => v.split(':')).find((parts) => parts[1] === configPath);
    assert.ok(configMount, `something is mounted at ${configPath}`);
    assert.equal(posix.normalize(configMount[0]), COMPOSE_CONFIG);
    assert.ok(existsSync(repoPath(COMPOSE_CONFIG)));
    const port = listenerPort(composeConfig());
    const published = asArray(balancer.ports, 'balancer.ports').map(String);
    assert.ok(
      published.some((p) => p.split(':').at(-1)?.split('/')[0] === String(port)),
      `port ${port} is published`,
    );
    assert.ok(exposedPorts().includes(port), 'the image EXPOSEs the listener port');
  });

  it('hands the certificate volume from the job to the balancer where the configuration looks', () => {
    const config = composeConfig();
    const tls = tlsListener(config).tls;
    const certDir = dirname(tls.cert);
    for (const file of [tls.cert, tls.key, tls.clientCa]) assert.equal(dirname(file), certDir);
    const mountOf = (name: string) =>
      asArray(service(name).volumes, `${name}.volumes`)
        .map(String)
        .map((v) => v.split(':'))
        .find((parts) => parts[1] === certDir);
    const jobMount = mountOf('certs');
    const balancerMount = mountOf('balancer');
    assert.ok(jobMount && balancerMount, `both mount a volume at ${certDir}`);
    assert.equal(jobMount[0], balancerMount[0], 'the same volume');
    assert.ok(asRecord(compose.volumes, 'volumes')[jobMount[0]] !== undefined, 'a named volume');
    assert.equal(balancerMount[2], 'ro', 'read-only for the balancer');
    assert.ok(certsJobScript().includes(certDir), `the job writes into ${certDir}`);
    const depends = asRecord(service('balancer').depends_on, 'balancer.depends_on');
    assert.equal(asRecord(depends.certs, 'depends_on.certs').condition, 'service_completed_successfully');
    for (const name of upstreamNames)
      assert.ok(depends[`upstream-${name}`] !== undefined, `waits for ${name}`);
  });

  it('makes, with the real CLI, every certificate the configuration and the clients need', async () => {
    // The job's script runs as the container would run it, with `switchyard` on PATH and the volume
    // replaced by a temporary directory; the balancer then builds its runtime from the result.
    const root = mkdtempSync(join(tmpdir(), 'switchyard-compose-'));
    after(() => rmSync(root, { recursive: true, force: true }));
    const configPath = join(root, 'etc/switchyard/switchyard.yaml');
    const config = parseConfigText(readRepoFile(COMPOSE_CONFIG), configPath);
    const tls = tlsListener(config).tls;
    const volumeDir = dirname(tls.cert);
    mkdirSync(volumeDir, { recursive: true });
    const binDir = join(root, 'bin');
    mkdirSync(binDir);
    writeFileSync(join(binDir, 'switchyard'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
    chmodSync(join(binDir, 'switchyard'), 0o755);
    const entry = asArray(service('certs').entrypoint, 'certs.entrypoint').map(String);
    assert.deepEqual(entry.slice(0, 1), ['/bin/sh']);
    const script = certsJobScript().replaceAll('/etc/switchyard/certs', volumeDir);
    const run = () =>
      spawnSync(entry[0], [...entry.slice(1), script], {
        encoding: 'utf8',
        env: { ...process.env, PATH: `${binDir}:${process.env.PATH ?? ''}` },
      });
    const first = run();
    assert.equal(first.status, 0, `the job succeeds: ${first.stderr}`);
    (await buildRuntime(config)).stop();
    const server = new X509Certificate(readFileSync(tls.cert));
    for (const host of ['balancer', 'localhost'])
      assert.ok(server.checkHost(host), `server certificate names ${host}`);
    for (const org of ['groupA', 'groupB', 'groupC', 'intruder']) {
      const client = new X509Certificate(readFileSync(join(volumeDir, `client-${org}.pem`)));
      assert.match(client.subject, new RegExp(`^O=${org}$`, 'm'), `client-${org}.pem carries O=${org}`);
      assert.ok(existsSync(join(volumeDir, `client-${org}.key`)));
      assert.ok(
        client.checkIssued(new X509Certificate(readFileSync(tls.clientCa))),
        'signed by the client CA',
      );
    }
    const before = readFileSync(tls.cert, 'utf8');
    const second = run();
    assert.equal(second.status, 0, `a second run succeeds: ${second.stderr}`);
    assert.equal(readFileSync(tls.cert, 'utf8'), before, 'and keeps the certificates');
  });

  it('runs an upstream that answers with its name, as its command line says', async () => {
    const command = asArray(service('upstream-groupB-2').command, 'command').map(String);
    const args = command.map((a, i) => (command[i - 1] === '--listen' ? '127.0.0.1:0' : a));
    const cli = startCli(args);
    try {
      const port = Number((await cli.waitForLog('listening')).port);
      const body = await new Promise<string>((resolve, reject) => {
        get({ host: '127.0.0.1', port, path: '/' }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => resolve(text));
        }).on('error', reject);
      });
      assert.equal(body.trim(), 'hello from groupB-2 (group groupB)');
    } finally {
      cli.child.kill('SIGTERM');
      await cli.exited;
    }
  });

  it('gives the balancer longer to stop than the configured drain', () => {
    const config = composeConfig();
    const stopGrace = parseDuration(service('balancer').stop_grace_period);
    assert.ok(stopGrace !== undefined, 'stop_grace_period is a duration');
    assert.ok(
      stopGrace > config.timeouts.shutdownGrace + config.timeouts.shutdownJitter,
      `stop_grace_period ${stopGrace} ms exceeds shutdownGrace + shutdownJitter`,
    );
  });

  it('passes `switchyard check`', async () => {
    const { code, stderr } = await runCli(['check', '--no-files', '--config', repoPath(COMPOSE_CONFIG)]);
    assert.equal(code, 0, stderr);
  });

  it('gives the admin API a token from the environment and publishes it on the host loopback only', () => {
    const balancer = service('balancer');
    const env = asRecord(balancer.environment, 'balancer.environment');
    const token = String(env.SWITCHYARD_ADMIN__TOKEN ?? '');
    const m = /^\$\{SWITCHYARD_ADMIN_TOKEN:-([^}]*)\}$/.exec(token);
    assert.ok(m, `SWITCHYARD_ADMIN__TOKEN comes from the shell's SWITCHYARD_ADMIN_TOKEN: ${token}`);
    // The default can never be sent as a bearer token, so without the variable every change is refused.
    assert.match(m[1], /\s/, 'the default holds whitespace');
    const port = adminPort(composeConfig());
    const published = asArray(balancer.ports, 'balancer.ports').map(String);
    assert.ok(published.includes(`127.0.0.1:${port}:${port}`), `admin port ${port} on the host loopback`);
    assert.equal(balancer.healthcheck, undefined, 'the balancer keeps the image HEALTHCHECK');
  });

  it('answers the image health check, /healthz, /readyz and /metrics when run, and a probe is no rejection', async () => {
    const run = await runDeployConfig(
      readRepoFile(COMPOSE_CONFIG),
      'SWITCHYARD_ADMIN__TOKEN',
      'compose-test-token',
    );
    try {
      const command = healthcheckCommand();
      const probed = Number(probedUrl(command).port);
      const metricsUrl = `http://127.0.0.1:${run.adminPort}/metrics`;
      const before = rejectionsTotal((await httpGetText(metricsUrl)).body);
      for (let i = 0; i < 3; i++) assert.equal(runHealthcheck(command, probed, run.adminPort), 0, 'healthy');
      assert.equal(rejectionsTotal((await httpGetText(metricsUrl)).body), before);
      await assertProbesAnswer(run, ['/healthz', '/readyz', '/metrics']);
      // What the old TCP probe of the listener did, for contrast: it is counted.
      const socket = await connectTcp(run.listenerPort);
      socket.end();
      await waitFor(async () => rejectionsTotal((await httpGetText(metricsUrl)).body) > before);
      // The same check against a port with nothing behind it fails.
      const stopped = run.adminPort;
      await run.stop();
      assert.notEqual(runHealthcheck(command, probed, stopped), 0, 'unhealthy when nothing answers');
    } finally {
      await run.stop();
    }
  });
});

describe('deploy/kubernetes', () => {
  const deployment = () => k8sObject('Deployment', 'switchyard');
  const podSpec = () =>
    asRecord(asRecord(asRecord(deployment().spec, 'spec').template, 'template').spec, 'pod spec');
  const container = () => asRecord(asArray(podSpec().containers, 'containers')[0], 'container');
  const containerPorts = () => asArray(container().ports, 'ports').map((p) => asRecord(p, 'port'));
  const mounts = () =>
    asArray(container().volumeMounts, 'volumeMounts').map((m) => asRecord(m, 'volumeMount'));
  const volume = (name: string) =>
    asRecord(
      asArray(podSpec().volumes, 'volumes').find((v) => asRecord(v, 'volume').name === name),
      `volume ${name}`,
    );
  const configPath = () => flagValue(asArray(container().args, 'args').map(String), '--config') ?? '';
  /** The volume mount that holds the `--config` file: the mount at that path, or at its directory. */
  const configMount = () => {
    const path = configPath();
    const mount = mounts().find((m) => m.mountPath === path || m.mountPath === dirname(path));
    assert.ok(mount, `the configuration ${path} is in a mounted volume`);
    return mount;
  };
  const k8sConfig = () => {
    const data = asRecord(k8sObject('ConfigMap').data, 'ConfigMap data');
    const mount = configMount();
    const key = String(mount.mountPath === configPath() ? mount.subPath : basename(configPath()));
    assert.equal(typeof data[key], 'string', `the ConfigMap holds ${key}`);
    return parseConfigText(String(data[key]), configPath());
  };

  it('lists files that exist, one object each', () => {
    assert.deepEqual([...k8sResources].sort(), [
      'admin-secret.yaml',
      'configmap.yaml',
      'deployment.yaml',
      'pdb.yaml',
      'redis-deployment.yaml',
      'redis-service.yaml',
      'secret.yaml',
      'service.yaml',
    ]);
    for (const file of k8sResources) assert.ok(existsSync(repoPath(`${K8S}/${file}`)), `${file} exists`);
    for (const file of k8sResources) {
      const object = asRecord(parse(readRepoFile(`${K8S}/${file}`)), file);
      const meta = asRecord(object.metadata, `${file} metadata`);
      assert.equal(meta.namespace, undefined, `${file} names no namespace`);
    }
  });

  it('runs the image entrypoint with `run --config` pointing into the mounted ConfigMap', () => {
    const c = container();
    assert.equal(c.command, undefined, 'no command: the image ENTRYPOINT (switchyard) runs');
    const args = asArray(c.args, 'args').map(String);
    assert.equal(args[0], 'run');
    const mount = configMount();
    const configMap = asRecord(volume(String(mount.name)).configMap, 'config volume configMap');
    assert.equal(configMap.name, asRecord(k8sObject('ConfigMap').metadata, 'metadata').name);
  });

  it('mounts the ConfigMap and the Secret as directories, so updates reach a running pod', () => {
    for (const m of mounts()) assert.equal(m.subPath, undefined, `${String(m.mountPath)} has no subPath`);
  });

  it('agrees on one port: ConfigMap listener, containerPort, Service targetPort, image EXPOSE', () => {
    const port = listenerPort(k8sConfig());
    assert.ok(
      containerPorts().some((p) => p.containerPort === port),
      `containerPort ${port}`,
    );
    const service = asRecord(k8sObject('Service', 'switchyard').spec, 'Service spec');
    const ports = asArray(service.ports, 'Service ports').map((p) => asRecord(p, 'Service port'));
    assert.equal(ports.length, 1, 'the Service exposes the listener only, not the admin API');
    assert.equal(resolvePort(ports[0].targetPort, containerPorts()), port, 'Service targetPort');
    assert.equal(ports[0].port, port, 'Service port');
    assert.ok(exposedPorts().includes(port), 'image EXPOSE');
  });

  it('probes the admin API over HTTP: liveness /healthz, readiness /readyz, on the admin port', () => {
    const admin = adminPort(k8sConfig());
    assert.ok(
      containerPorts().some((p) => p.containerPort === admin),
      `containerPort ${admin}`,
    );
    for (const [probe, path] of [
      ['livenessProbe', '/healthz'],
      ['readinessProbe', '/readyz'],
    ] as const) {
      const p = asRecord(container()[probe], probe);
      assert.equal(p.tcpSocket, undefined, `${probe} opens no bare TCP connection`);
      const http = asRecord(p.httpGet, `${probe}.httpGet`);
      assert.equal(http.path, path);
      assert.equal(resolvePort(http.port, containerPorts()), admin, `${probe} asks the admin API`);
      assert.ok(Number(p.periodSeconds) >= 10, `${probe} every 10 s or less often`);
    }
    const annotations = asRecord(
      asRecord(asRecord(asRecord(deployment().spec, 'spec').template, 'template').metadata, 'metadata')
        .annotations,
      'pod annotations',
    );
    assert.equal(annotations['prometheus.io/scrape'], 'true');
    assert.equal(Number(annotations['prometheus.io/port']), admin);
    assert.equal(annotations['prometheus.io/path'], '/metrics');
  });

  it('passes the admin token from its Secret in the variable that sets admin.token', () => {
    const env = asArray(container().env, 'env').map((e) => asRecord(e, 'env entry'));
    const token = env.find((e) => e.name === 'SWITCHYARD_ADMIN__TOKEN');
    assert.ok(token, 'SWITCHYARD_ADMIN__TOKEN is set');
    const ref = asRecord(asRecord(token.valueFrom, 'valueFrom').secretKeyRef, 'secretKeyRef');
    const secret = k8sObject('Secret', String(ref.name));
    const data = asRecord(secret.data, 'admin Secret data');
    assert.ok(String(ref.key) in data, `the Secret has the key ${String(ref.key)}`);
    // The template's placeholder can never be sent as a bearer token, so changes stay refused until it is replaced.
    assert.match(Buffer.from(String(data[String(ref.key)]), 'base64').toString('utf8'), /^REPLACE ME.*\s/);
    const mounted = asArray(podSpec().volumes, 'volumes').map((v) =>
      asRecord(asRecord(v, 'volume').secret ?? {}, 'secret'),
    );
    assert.ok(!mounted.some((v) => v.secretName === ref.name), 'the token is not mounted as a file');
  });

  it('passes `switchyard check` with the ConfigMap configuration', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-k8s-check-'));
    try {
      const path = join(dir, 'switchyard.yaml');
      writeFileSync(path, String(asRecord(k8sObject('ConfigMap').data, 'data')[basename(configPath())]));
      const { code, stderr } = await runCli(['check', '--no-files', '--config', path]);
      assert.equal(code, 0, stderr);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  itWith(
    REDIS_SERVER,
    HAVE_REDIS,
    'answers its probe paths and /metrics when the ConfigMap configuration runs, and probes are no rejections',
    {},
    async () => {
      const data = asRecord(k8sObject('ConfigMap').data, 'data');
      const redis = await startRedis();
      const run = await runDeployConfig(
        String(data[basename(configPath())]),
        'SWITCHYARD_ADMIN__TOKEN',
        'k8s-test-token',
        redis.url,
      );
      try {
        await run.cli.waitForLog('limit store connected');
        const paths = ['livenessProbe', 'readinessProbe'].map((probe) =>
          String(asRecord(asRecord(container()[probe], probe).httpGet, 'httpGet').path),
        );
        await assertProbesAnswer(run, [...paths, '/metrics']);
      } finally {
        await run.stop();
        await redis.stop();
      }
    },
  );

  it("shares the replicas' limits through the Redis it ships: the URL names its Service and port", () => {
    const store = k8sConfig().limitStore;
    assert.equal(store.type, 'redis');
    assert.ok(store.type === 'redis');
    const url = new URL(store.url);
    const service = k8sObject('Service', 'switchyard-redis');
    const spec = asRecord(service.spec, 'Redis Service spec');
    assert.equal(url.hostname, 'switchyard-redis');
    const port = asRecord(asArray(spec.ports, 'ports')[0], 'port');
    assert.equal(Number(url.port), Number(port.port));
    const redis = asRecord(k8sObject('Deployment', 'switchyard-redis').spec, 'Redis Deployment spec');
    const labels = asRecord(
      asRecord(asRecord(redis.template, 'template').metadata, 'metadata').labels,
      'labels',
    );
    for (const [k, v] of Object.entries(asRecord(spec.selector, 'selector'))) assert.equal(labels[k], v);
    const container = asRecord(
      asArray(asRecord(asRecord(redis.template, 'template').spec, 'spec').containers, 'containers')[0],
      'redis container',
    );
    const containerPort = asRecord(asArray(container.ports, 'ports')[0], 'port');
    assert.equal(port.targetPort, containerPort.name);
    assert.ok(
      Number(asRecord(deployment().spec, 'spec').replicas) >= 2,
      'several balancer replicas share it',
    );
  });

  it('keeps one pod through voluntary disruptions: a PodDisruptionBudget over its pods', () => {
    const pdb = k8sObject('PodDisruptionBudget');
    assert.equal(pdb.apiVersion, 'policy/v1');
    const spec = asRecord(pdb.spec, 'PodDisruptionBudget spec');
    assert.equal(spec.maxUnavailable, 1);
    assert.ok(Number(asRecord(deployment().spec, 'spec').replicas) > Number(spec.maxUnavailable));
    assert.deepEqual(
      asRecord(spec.selector, 'selector').matchLabels,
      asRecord(asRecord(deployment().spec, 'spec').selector, 'selector').matchLabels,
    );
  });

  it('has an optional ServiceMonitor, outside the default resources, scraping /metrics on the admin port', () => {
    const file = 'optional/servicemonitor.yaml';
    assert.ok(!k8sResources.includes(file), 'not applied by default: it needs the Prometheus Operator');
    const objects = parseAllDocuments(readRepoFile(`${K8S}/${file}`)).map((d) => asRecord(d.toJS(), file));
    const service = objects.find((o) => o.kind === 'Service');
    const monitor = objects.find((o) => o.kind === 'ServiceMonitor');
    assert.ok(service && monitor, 'a Service for the admin port and the ServiceMonitor');
    const serviceSpec = asRecord(service.spec, 'Service spec');
    assert.equal(serviceSpec.clusterIP, 'None', 'headless: no address for clients');
    const [port] = asArray(serviceSpec.ports, 'ports').map((p) => asRecord(p, 'port'));
    assert.equal(resolvePort(port.targetPort, containerPorts()), adminPort(k8sConfig()));
    const labels = asRecord(asRecord(service.metadata, 'metadata').labels, 'labels');
    const selector = asRecord(
      asRecord(asRecord(monitor.spec, 'spec').selector, 'selector').matchLabels,
      'matchLabels',
    );
    for (const [k, v] of Object.entries(selector)) assert.equal(labels[k], v, `the Service carries ${k}`);
    const [endpoint] = asArray(asRecord(monitor.spec, 'spec').endpoints, 'endpoints').map((e) =>
      asRecord(e, 'endpoint'),
    );
    assert.equal(endpoint.port, port.name);
    assert.equal(endpoint.path, '/metrics');
  });

  it('quotes in the certificate Secret template what a pod started with it prints', async () => {
    const file = `${K8S}/secret.yaml`;
    const comment = readRepoFile(file)
      .split('\n')
      .filter((l) => l.startsWith('#'))
      .map((l) => l.replace(/^# ?/, ''));
    const start = comment.findIndex((l) => l.trim().startsWith('switchyard: '));
    assert.ok(start >= 0, 'the comment quotes the error');
    const quoted = comment.slice(start, start + 2).map((l) => l.trim());
    // The pod's paths, moved into a temporary directory holding the template's placeholder data.
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-k8s-secret-'));
    try {
      const certDir = join(dir, 'certs');
      mkdirSync(certDir);
      const data = asRecord(k8sObject('Secret', 'switchyard-certs').data, 'data');
      for (const [key, value] of Object.entries(data))
        writeFileSync(join(certDir, key), Buffer.from(String(value), 'base64'));
      const configFile = join(dir, 'switchyard.yaml');
      const config = String(asRecord(k8sObject('ConfigMap').data, 'data')[basename(configPath())]);
      writeFileSync(configFile, config.replaceAll('/etc/switchyard/certs', certDir));
      const { code, stderr } = await runCli(['run', '--config', configFile]);
      assert.equal(code, 1);
      const printed = stderr
        .replaceAll(configFile, configPath())
        .replaceAll(certDir, '/etc/switchyard/certs')
        .split('\n')
        .map((l) => l.trim());
      assert.deepEqual(printed.slice(0, 2), quoted);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('selects its own pods from the Service', () => {
    const selector = asRecord(
      asRecord(k8sObject('Service', 'switchyard').spec, 'spec').selector,
      'Service selector',
    );
    const spec = asRecord(deployment().spec, 'spec');
    const labels = asRecord(
      asRecord(asRecord(spec.template, 'template').metadata, 'metadata').labels,
      'labels',
    );
    assert.deepEqual(asRecord(spec.selector, 'selector').matchLabels, selector);
    for (const [k, v] of Object.entries(selector)) assert.equal(labels[k], v, `pods carry ${k}=${String(v)}`);
  });

  it('runs several replicas, drains before SIGTERM and waits longer than the drain', () => {
    const config = k8sConfig();
    assert.ok(Number(asRecord(deployment().spec, 'spec').replicas) >= 2, 'at least two replicas');
    const preStop = asRecord(asRecord(container().lifecycle, 'lifecycle').preStop, 'preStop');
    const command = asArray(asRecord(preStop.exec, 'preStop.exec').command, 'preStop command').map(String);
    assert.equal(command[0], 'sleep', 'preStop sleeps (busybox sleep is in the alpine image)');
    const preStopMs = Number(command[1]) * 1000;
    assert.ok(preStopMs > 0);
    const graceMs = Number(podSpec().terminationGracePeriodSeconds) * 1000;
    const needed = preStopMs + config.timeouts.shutdownGrace + config.timeouts.shutdownJitter;
    assert.ok(
      graceMs > needed,
      `terminationGracePeriodSeconds (${graceMs} ms) exceeds preStop + shutdownGrace + shutdownJitter (${needed} ms)`,
    );
  });

  it('runs as non-root on a read-only root filesystem with resource requests and limits', () => {
    const pod = asRecord(podSpec().securityContext, 'pod securityContext');
    const c = asRecord(container().securityContext, 'container securityContext');
    assert.equal(c.runAsNonRoot ?? pod.runAsNonRoot, true);
    assert.equal(c.readOnlyRootFilesystem, true);
    assert.equal(c.allowPrivilegeEscalation, false);
    const uid = c.runAsUser ?? pod.runAsUser;
    assert.ok(typeof uid === 'number' && uid > 0, 'a numeric non-zero uid, so runAsNonRoot can be verified');
    const resources = asRecord(container().resources, 'resources');
    asRecord(resources.requests, 'requests');
    asRecord(resources.limits, 'limits');
  });

  it('mounts the Secret where the configuration looks for each certificate file, by its key', () => {
    const tls = tlsListener(k8sConfig()).tls;
    const secret = k8sObject('Secret', 'switchyard-certs');
    const data = asRecord(secret.data, 'Secret data');
    for (const value of Object.values(data)) {
      assert.match(String(value), /^[A-Za-z0-9+/]+={0,2}$/, 'Secret data is base64');
    }
    const files = [tls.cert, tls.key, tls.clientCa, ...(tls.crl === undefined ? [] : [tls.crl])];
    for (const file of files) {
      const mount = mounts().find((m) => dirname(file) === m.mountPath);
      assert.ok(mount, `a volume is mounted at ${dirname(file)}`);
      const source = asRecord(volume(String(mount.name)).secret, `volume ${String(mount.name)} secret`);
      assert.equal(source.secretName, asRecord(secret.metadata, 'metadata').name);
      assert.ok(basename(file) in data, `the Secret has a key "${basename(file)}" for ${file}`);
    }
  });
});

describe('deploy/systemd/switchyard.service', () => {
  const UNIT = 'deploy/systemd/switchyard.service';
  /** The unit's keys per section; a key given several times keeps every value, in order. */
  const unit = () => {
    const sections = new Map<string, Map<string, string[]>>();
    let current: Map<string, string[]> | undefined;
    for (const raw of readRepoFile(UNIT).split('\n')) {
      const line = raw.trim();
      if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
      const section = /^\[(.+)\]$/.exec(line);
      if (section !== null) {
        current = new Map();
        sections.set(section[1], current);
        continue;
      }
      assert.ok(current, `"${line}" is inside a section`);
      const eq = line.indexOf('=');
      assert.ok(eq > 0, `"${line}" is key=value`);
      const key = line.slice(0, eq).trim();
      current.set(key, [...(current.get(key) ?? []), line.slice(eq + 1).trim()]);
    }
    return sections;
  };
  const service = () => {
    const s = unit().get('Service');
    assert.ok(s, 'a [Service] section');
    return s;
  };
  const one = (key: string) => {
    const values = service().get(key);
    assert.equal(values?.length, 1, `Service ${key} is set once`);
    return values[0];
  };

  it('starts `switchyard run --config` as the package installs it, as a dedicated user', async () => {
    assert.ok(['simple', 'exec'].includes(one('Type')), 'Node.js has no sd_notify: simple or exec');
    const start = one('ExecStart').split(/\s+/);
    assert.match(start[0], /^\//, 'an absolute path');
    const bins = (JSON.parse(readRepoFile('package.json')) as { bin: Record<string, string> }).bin;
    assert.ok(basename(start[0]) in bins, `${basename(start[0])} is a command of the package`);
    assert.equal(start[1], 'run');
    const config = flagValue(start, '--config');
    assert.ok(config?.startsWith('/etc/switchyard/'));
    const { code, stdout } = await runCli(['run', '--help']);
    assert.equal(code, 0);
    assert.ok(stdout.includes('--config '), 'run has --config');
    assert.ok(!['root', '0', ''].includes(one('User')), 'not root');
    assert.ok(
      service()
        .get('ReadOnlyPaths')
        ?.some((p) => config?.startsWith(`${p}/`)),
      'the config is read-only',
    );
  });

  it('reloads with SIGHUP, stops with SIGTERM and waits longer than the default drain', () => {
    const reload = service().get('ExecReload') ?? [];
    assert.match(reload.at(-1) ?? '', /^\/\S*kill -HUP \$MAINPID$/);
    assert.equal(one('KillSignal'), 'SIGTERM');
    const minimal = parseConfigText(
      'listeners: [{ name: l, bind: "127.0.0.1:1", group: g }]\ngroups: { g: { upstreams: [{ address: "127.0.0.1:2" }] } }\n',
      'minimal.yaml',
    );
    const stopMs = Number(one('TimeoutStopSec')) * 1000;
    assert.ok(
      stopMs > minimal.timeouts.shutdownGrace + minimal.timeouts.shutdownJitter,
      `TimeoutStopSec ${stopMs} ms exceeds the default shutdownGrace + shutdownJitter`,
    );
  });

  it('is hardened and gets many file descriptors and no capabilities', () => {
    assert.equal(one('NoNewPrivileges'), 'yes');
    assert.equal(one('ProtectSystem'), 'strict');
    assert.ok(Number(one('LimitNOFILE')) >= 65_536);
    assert.equal(one('AmbientCapabilities'), '', 'no capability while the configuration binds ports >= 1024');
    assert.equal(one('CapabilityBoundingSet'), '');
    assert.equal(
      service().get('MemoryDenyWriteExecute'),
      undefined,
      "V8's JIT needs writable executable memory",
    );
  });

  it('passes `systemd-analyze verify` where systemd is installed', (t) => {
    const probe = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
    if (probe.error !== undefined) {
      // Without systemd the key checks above are what is checked.
      t.diagnostic('systemd-analyze is not installed');
      return;
    }
    // verify also checks that the command exists: point it at the real CLI behind a launcher.
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-systemd-'));
    try {
      const launcher = join(dir, 'switchyard');
      writeFileSync(launcher, `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
      chmodSync(launcher, 0o755);
      const start = one('ExecStart').split(/\s+/)[0];
      const file = join(dir, 'switchyard.service');
      writeFileSync(file, readRepoFile(UNIT).replaceAll(start, launcher));
      const r = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stderr.trim(), '', 'no warning');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('examples and deployment configurations pass the configuration validator', () => {
  const files = [
    ...readdirSync(repoPath('examples'))
      .filter((f) => f.endsWith('.yaml') || f.endsWith('.yml') || f.endsWith('.json'))
      .map((f) => `examples/${f}`),
    COMPOSE_CONFIG,
  ];
  it('finds the examples', () => {
    assert.ok(files.length >= 4, `found ${files.join(', ')}`);
  });
  for (const file of files) {
    it(file, () => {
      const config = parseConfigText(readRepoFile(file), repoPath(file));
      assert.ok(config.listeners.length > 0);
    });
  }
});
