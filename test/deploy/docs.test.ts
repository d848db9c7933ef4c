/**
 * The operator documentation keeps up with the code: every configuration key is in
 * docs/CONFIGURATION.md, and every reason code, log message and command the code has is in
 * docs/OPERATIONS.md.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { z } from 'zod';
import { parseConfigText } from '../../src/config/load-config.js';
import { configSchema } from '../../src/config/schema.js';
import { defOf, unwrap } from '../../src/config/schema-walk.js';
import { ErrorCodes } from '../../src/lib/errors.js';
import { runCli } from '../helpers/cli.js';

// Compiled to dist/test/deploy, so the repository root is three levels up.
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const configurationDoc = readFileSync(join(ROOT, 'docs/CONFIGURATION.md'), 'utf8');
const operationsDoc = readFileSync(join(ROOT, 'docs/OPERATIONS.md'), 'utf8');

/** Key paths of every value the schema accepts, as the docs write them: `groups.<name>.upstreams[].weight`. */
function leafPaths(schema: z.core.$ZodType, prefix: string): string[] {
  const def = defOf(unwrap(schema));
  if (def.type === 'object' && def.shape !== undefined) {
    return Object.entries(def.shape).flatMap(([key, child]) =>
      leafPaths(child, prefix === '' ? key : `${prefix}.${key}`),
    );
  }
  if (def.type === 'record' && def.valueType !== undefined)
    return leafPaths(def.valueType, `${prefix}.<name>`);
  if (def.type === 'array' && def.element !== undefined) {
    const element = defOf(unwrap(def.element));
    if (element.type === 'object' || element.type === 'record') return leafPaths(def.element, `${prefix}[]`);
  }
  return [prefix];
}

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
  const paths = leafPaths(configSchema, '');

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
    assert.equal(config.listeners.length, 2);
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
      readFileSync(join(ROOT, 'src/cli/server.ts'), 'utf8'),
      readFileSync(join(ROOT, 'src/config/runtime-manager.ts'), 'utf8'),
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
