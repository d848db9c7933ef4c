import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { SCENARIOS } from '../../src/bench/scenarios.js';
import { runCli } from '../helpers/cli.js';

const COMMANDS = [
  [],
  ['run'],
  ['check'],
  ['certs'],
  ['certs', 'init'],
  ['certs', 'server'],
  ['certs', 'client'],
  ['demo'],
  ['upstream'],
  ['version'],
];

describe('switchyard help and exit codes', { timeout: 60_000 }, () => {
  for (const command of COMMANDS) {
    it(`"switchyard ${[...command, '--help'].join(' ')}" prints usage and exits 0`, async () => {
      const { code, stdout } = await runCli([...command, '--help']);
      assert.equal(code, 0);
      assert.match(stdout, new RegExp(`^Usage: switchyard${command.map((c) => ` ${c}`).join('')} `));
    });
  }

  it('names every scenario of the bench suite in "switchyard bench --help"', async () => {
    const { code, stdout } = await runCli(['bench', '--help']);
    assert.equal(code, 0);
    const listed = stdout.replace(/\s+/g, ' ');
    for (const { id } of SCENARIOS)
      assert.ok(listed.includes(` ${id},`) || listed.includes(` ${id})`) || listed.includes(` ${id} `), id);
  });

  it('documents the exit codes and the configuration precedence in the main help', async () => {
    const { stdout } = await runCli(['--help']);
    assert.match(stdout, /^Exit codes:$/m);
    assert.match(stdout, /^ {2}0 {2}success/m);
    assert.match(stdout, /^ {2}1 {2}failure/m);
    assert.match(stdout, /^ {2}2 {2}usage error/m);
    assert.match(stdout, /flags > environment > file > defaults/);
  });

  it('exits 2 on an unknown command or option, naming it', async () => {
    const command = await runCli(['frobnicate']);
    assert.equal(command.code, 2);
    assert.match(command.stderr, /unknown command 'frobnicate'/);
    const option = await runCli(['check', '--frob']);
    assert.equal(option.code, 2);
    assert.match(option.stderr, /unknown option '--frob'/);
  });

  it('prints the package version', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'));
    for (const args of [['version'], ['--version']]) {
      const { code, stdout } = await runCli(args);
      assert.equal(code, 0);
      assert.equal(stdout.trim(), pkg.version);
    }
  });
});
