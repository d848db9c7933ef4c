/**
 * The operator documentation keeps up with the code: every configuration key is in
 * docs/CONFIGURATION.md, and every reason code, log message, command and option the code has is in
 * docs/OPERATIONS.md. And the other way round, README.md and docs/*.md show only what exists: cited
 * paths, `npm run` scripts, `switchyard` commands and flags, `--set` keys and key paths. A ```yaml
 * block with a top-level `listeners:` key is a whole configuration and must pass `switchyard check`;
 * any other yaml block is a fragment.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseConfigText } from '../../src/config/load-config.js';
import { applyOverrides, overridesFromFlags } from '../../src/config/overrides.js';
import { configSchema } from '../../src/config/schema.js';
import { schemaKeyPaths } from '../../src/config/schema-walk.js';
import { ErrorCodes } from '../../src/lib/errors.js';
import { runCli } from '../helpers/cli.js';

// Compiled to dist/test/deploy, so the repository root is three levels up.
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const configurationDoc = readFileSync(join(ROOT, 'docs/CONFIGURATION.md'), 'utf8');
const operationsDoc = readFileSync(join(ROOT, 'docs/OPERATIONS.md'), 'utf8');

/** Text of every source file under a directory of src/, recursively. */
function sources(relative: string): string {
  const dir = join(ROOT, 'src', relative);
  return readdirSync(dir, { withFileTypes: true })
    .map((entry) =>
      entry.isDirectory()
        ? sources(join(relative, entry.name))
        : entry.name.endsWith('.ts')
          ? readFileSync(join(dir, entry.name), 'utf8')
          : '',
    )
    .join('\n');
}

describe('docs/CONFIGURATION.md', () => {
  const paths = schemaKeyPaths(configSchema);

  it('finds the configuration keys', () => {
    assert.ok(paths.includes('listeners[].tls.clientCa'), paths.join(', '));
    assert.ok(paths.includes('groups.<name>.upstreams[].weight'), paths.join(', '));
    assert.ok(paths.includes('timeouts.shutdownGrace'), paths.join(', '));
  });

  it('documents every configuration key in a reference table', () => {
    const missing = paths.filter((p) => !configurationDoc.includes(`| \`${p}\` |`));
    assert.deepEqual(missing, [], 'keys without a row in the reference');
  });

  it('shows every key in the complete example', () => {
    const example = /## A complete example[\s\S]*?```yaml\n([\s\S]*?)```/.exec(configurationDoc)?.[1] ?? '';
    const keys = new Set([...example.matchAll(/^\s*(?:- )?([A-Za-z]+):/gm)].map((m) => m[1]));
    const missing = paths.map((p) => p.split('.').at(-1)!.replace('[]', '')).filter((k) => !keys.has(k));
    assert.deepEqual(missing, [], 'keys missing from the complete example');
  });

  it('has a complete example that passes the configuration validator', () => {
    const example = /## A complete example[\s\S]*?```yaml\n([\s\S]*?)```/.exec(configurationDoc)?.[1] ?? '';
    const config = parseConfigText(example, join(ROOT, 'docs/example.yaml'));
    assert.deepEqual(
      config.listeners.map((l) => l.kind),
      ['tls', 'tcp', 'tls-passthrough', 'udp'],
    );
  });

  it('lists every balancer and rate-limit algorithm the schema accepts', () => {
    for (const name of [
      'least-connections',
      'round-robin',
      'weighted-round-robin',
      'random',
      'power-of-two',
      'consistent-hash',
    ]) {
      assert.ok(configurationDoc.includes(`| \`${name}\` |`), `balancer ${name}`);
    }
    for (const name of ['fixed-window', 'token-bucket', 'sliding-window', 'gcra']) {
      assert.ok(configurationDoc.includes(`| \`${name}\` |`), `rate-limit algorithm ${name}`);
    }
  });
});

describe('docs/OPERATIONS.md', () => {
  it('has a troubleshooting section for every reason the data plane and the loader use', () => {
    const used = new Set([...sources('proxy').matchAll(/ErrorCodes\.(ERR_[A-Z_]+)/g)].map((m) => m[1]));
    used.add(ErrorCodes.ERR_CONFIG_INVALID);
    used.add(ErrorCodes.ERR_CONFIG_READ);
    assert.ok(used.size >= 20, `found ${[...used].join(', ')}`);
    const missing = [...used].filter((code) => !operationsDoc.includes(`\n#### ${code}\n`));
    assert.deepEqual(missing, [], 'reason codes without a troubleshooting section');
  });

  it('lists every log message of the data plane, reloads and the run command', () => {
    const text = [
      sources('proxy'),
      sources('control').includes('accessLogObserver')
        ? readFileSync(join(ROOT, 'src/control/access-log.ts'), 'utf8')
        : '',
      readFileSync(join(ROOT, 'src/server/start-server.ts'), 'utf8'),
      readFileSync(join(ROOT, 'src/server/process-signals.ts'), 'utf8'),
      sources('runtime'),
      readFileSync(join(ROOT, 'src/cli/commands/run.ts'), 'utf8'),
    ].join('\n');
    // The message is the last string argument of a logger call: logger.warn({ ... }, 'message').
    const calls = text.matchAll(/\b(?:logger|#logger)\.(?:debug|info|warn|error)\(([\s\S]*?)\);/g);
    const messages = new Set<string>();
    for (const call of calls) {
      const m = /'([^']+)'\s*,?\s*$/.exec(call[1]);
      if (m !== null) messages.add(m[1]);
    }
    assert.ok(messages.has('session') && messages.has('connection refused'), [...messages].join(', '));
    const missing = [...messages].filter((msg) => !operationsDoc.includes(`| \`${msg}\` |`));
    assert.deepEqual(missing, [], 'log messages missing from the messages table');
  });

  it('describes every command of the CLI', async () => {
    const { code, stdout } = await runCli(['--help']);
    assert.equal(code, 0);
    const section = /Commands:\n([\s\S]*?)(?:\n\n|$)/.exec(stdout)?.[1] ?? '';
    const commands = [...section.matchAll(/^ {2}(\S+)/gm)].map((m) => m[1]).filter((c) => c !== 'help');
    assert.ok(commands.includes('run') && commands.includes('certs'), commands.join(', '));
    const missing = commands.filter((c) => !operationsDoc.includes(`| \`switchyard ${c}`));
    assert.deepEqual(missing, [], 'commands missing from the commands table');
  });
});

/** README.md and every docs/*.md, by repository-relative name. */
function allDocs(): Map<string, string> {
  const names = [
    'README.md',
    ...readdirSync(join(ROOT, 'docs'))
      .filter((n) => n.endsWith('.md'))
      .map((n) => `docs/${n}`),
  ];
  return new Map(names.map((n) => [n, readFileSync(join(ROOT, n), 'utf8')]));
}

/** What a reader would type or copy: inline code spans and fenced blocks. */
function codeOf(text: string): string[] {
  const fenced = [...text.matchAll(/^```[^\n]*\n([\s\S]*?)^```/gm)].map((m) => m[1]);
  const inline = [...text.replace(/^```[^\n]*\n[\s\S]*?^```/gm, '').matchAll(/`([^`\n]+)`/g)].map(
    (m) => m[1],
  );
  return [...fenced, ...inline];
}

/** Every file below the repository root that git would see (no node_modules, dist or dot folders). */
function repositoryFiles(dir = ''): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    if (e.name.startsWith('.') || e.name === 'node_modules' || e.name === 'dist') return [];
    const path = dir === '' ? e.name : `${dir}/${e.name}`;
    return e.isDirectory() ? [`${path}/`, ...repositoryFiles(path)] : [path];
  });
}

// Paths the docs tell the reader to create; they are not in the repository.
const GENERATED_PATHS = [/^examples\/certs(?:\/|$)/];

describe('README.md and docs/*.md cite what exists', () => {
  const docs = allDocs();
  const files = repositoryFiles();
  const fileSet = new Set(files);
  const baseNames = new Set(files.map((f) => f.replace(/\/$/, '').split('/').at(-1)));

  it('every repository path they cite exists', () => {
    const missing: string[] = [];
    for (const [doc, text] of docs) {
      for (const code of codeOf(text)) {
        for (const [token] of code.matchAll(/[\w./*-]+/g)) {
          const path = token.replace(/[.,:]+$/, '');
          const rooted = /^(?:src|test|docs|examples|deploy|bench|scripts|bin)\/[\w./-]*$/.test(path);
          // Source files and documents named alone (`session.ts`, `BENCHMARKS.md`) must exist somewhere;
          // a document named with a folder (`shared/ARCHITECTURE.md`) must be in this repository.
          const bare = /^[\w-]+\.(?:ts|md|mjs)$/.test(path);
          const document = /^[\w-]+\/[\w./-]*\.md$/.test(path);
          if ((!rooted && !bare && !document) || GENERATED_PATHS.some((g) => g.test(path))) continue;
          // A path is from the root, from the citing file's folder, or (a bare name) somewhere below.
          const fromDoc = join(doc, '..', path).replace(/\\/g, '/');
          const found =
            rooted || document
              ? fileSet.has(path) || fileSet.has(`${path}/`) || fileSet.has(fromDoc)
              : baseNames.has(path);
          if (!found) missing.push(`${doc}: ${path}`);
        }
      }
    }
    assert.deepEqual(missing, [], 'cited paths that are not in the repository');
  });

  it('every npm run script they show is in package.json', () => {
    const scripts = Object.keys(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts);
    const shown = [...docs.values()].flatMap((t) =>
      codeOf(t).flatMap((c) => [...c.matchAll(/\bnpm run ([\w:-]+)/g)].map((m) => m[1])),
    );
    assert.ok(shown.includes('demo'), shown.join(', '));
    assert.deepEqual(
      shown.filter((s) => !scripts.includes(s)),
      [],
      'npm scripts that package.json does not have',
    );
  });

  it('every switchyard command and flag they show is one --help lists', async () => {
    const main = await runCli(['--help']);
    const commands = [
      ...(/Commands:\n([\s\S]*?)(?:\n\n|$)/.exec(main.stdout)?.[1] ?? '').matchAll(/^ {2}(\S+)/gm),
    ].map((m) => m[1]);
    assert.ok(commands.includes('certs'), commands.join(', '));
    const helps = new Map<string, Promise<string>>();
    const flagsOf = (words: string[]) => {
      const key = words.join(' ');
      if (!helps.has(key))
        helps.set(
          key,
          runCli([...words, '--help']).then((r) => r.stdout),
        );
      return helps.get(key)!;
    };
    const unknown: string[] = [];
    let checked = 0;
    for (const [doc, text] of docs) {
      for (const code of codeOf(text)) {
        for (const m of code.matchAll(/(?:^|[\s(])switchyard ([^\n#|;`&]*)/g)) {
          const tokens = m[1].trim().split(/\s+/);
          const words = commands.includes(tokens[0]) ? [tokens[0]] : [];
          if (words[0] === 'certs' && /^[a-z]+$/.test(tokens[1] ?? '')) words.push(tokens[1]);
          const flags = tokens
            .map((t) => /^\[?(--?[a-z][a-z0-9-]*)/.exec(t)?.[1])
            .filter((f) => f !== undefined);
          // Not a command line ("switchyard started" is a log message) unless it has flags.
          if (words.length === 0 && (flags.length === 0 || !/^[a-z]/.test(tokens[0]))) {
            if (tokens[0] !== '--help' && tokens[0] !== '--version') continue;
          } else if (words.length === 0) {
            unknown.push(`${doc}: switchyard ${tokens[0]} (no such command)`);
            continue;
          }
          const help = await flagsOf(words);
          for (const flag of flags) {
            checked++;
            if (!new RegExp(`(?:^|[\\s,])${flag}(?:[\\s,]|$)`, 'm').test(help)) {
              unknown.push(`${doc}: switchyard ${words.join(' ')} ${flag}`);
            }
          }
        }
      }
    }
    assert.ok(checked >= 30, `only ${checked} flags found`);
    assert.deepEqual(unknown, [], 'commands and flags --help does not list');
  });

  it('OPERATIONS.md names every option of every command', async () => {
    const missing: string[] = [];
    for (const words of [
      ['run'],
      ['check'],
      ['certs', 'init'],
      ['certs', 'server'],
      ['certs', 'client'],
      ['demo'],
      ['upstream'],
      ['bench'],
    ]) {
      const { stdout } = await runCli([...words, '--help']);
      const options = [...stdout.matchAll(/^ {2}(?:-\w, )?(--[a-z][a-z0-9-]*)/gm)].map((m) => m[1]);
      assert.ok(options.length >= 2, `${words.join(' ')}: ${stdout}`);
      for (const option of options) {
        if (option !== '--help' && !operationsDoc.includes(option))
          missing.push(`switchyard ${words.join(' ')} ${option}`);
      }
    }
    assert.deepEqual(missing, [], 'options missing from OPERATIONS.md');
  });

  it('every whole configuration they show (a yaml block with top-level listeners) passes switchyard check', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-docs-'));
    const blocks = [...docs].flatMap(([doc, text]) =>
      [...text.matchAll(/^```yaml\n([\s\S]*?)^```/gm)]
        .map((m) => m[1])
        .filter((yaml) => /^listeners:/m.test(yaml))
        .map((yaml) => ({ doc, yaml })),
    );
    assert.ok(blocks.length >= 1, `found ${blocks.length} whole configurations`);
    const failed: string[] = [];
    for (const [i, { doc, yaml }] of blocks.entries()) {
      const file = join(dir, `block-${i}.yaml`);
      writeFileSync(file, yaml);
      const { code, stderr } = await runCli(['check', '--no-files', '--config', file]);
      if (code !== 0) failed.push(`${doc} block ${i}:\n${stderr}`);
    }
    assert.deepEqual(failed, [], 'whole configurations that check refuses');
  });

  it('every --set key and configuration key path they mention is in the schema', () => {
    const paths = schemaKeyPaths(configSchema).map((p) => p.replace(/\[\]/g, '').split('.'));
    const keyNames = new Set(paths.flat());
    const isSubPath = (segments: string[]) =>
      paths.some((p) =>
        p.some((_, start) => segments.every((s, j) => p[start + j] === s || p[start + j] === '<name>')),
      );
    const bad: string[] = [];
    for (const [doc, text] of docs) {
      for (const code of codeOf(text)) {
        for (const m of code.matchAll(/--set '?([\w.]+)=/g)) {
          if (m[1] === 'key' || m[1] === 'key.path') continue; // the placeholder of the syntax
          try {
            applyOverrides({}, overridesFromFlags([`${m[1]}=x`]), doc);
          } catch (err) {
            bad.push(`${doc}: --set ${m[1]}: ${(err as Error).message}`);
          }
        }
        for (const m of code.matchAll(/^[A-Za-z][\w[\]<>.]*\.[\w[\]<>.]*[A-Za-z\]]$/g)) {
          // `listeners[].tls.key`, `groups.<name>.balancer`, `handshakeRate.perSource`: a key path
          // (from the top or from some mapping inside) when its first key is a configuration key.
          // `--set` style indexes (`listeners.0.bind`) and `[]` are list items, not keys.
          const segments = m[0]
            .replace(/\[[^\]]*\]/g, '')
            .split('.')
            .filter((s) => !/^\d+$/.test(s));
          // Keys are camelCase; `tls.Server` is Node's, `ca.pem` a file name.
          const notKeys = segments.some((s) => !/^(?:[a-z]\w*|<name>)$/.test(s));
          const fileName = /^(?:pem|key|crl|yaml|yml|json|ts|js|md)$/.test(segments.at(-1) ?? '');
          if (segments.length < 2 || !keyNames.has(segments[0]) || notKeys || fileName) continue;
          const normalized = segments.map((s, i) => (segments[i - 1] === 'groups' ? '<name>' : s));
          if (!isSubPath(normalized)) bad.push(`${doc}: ${m[0]}`);
        }
      }
    }
    assert.deepEqual(bad, [], 'key paths that are not configuration keys');
  });
});
