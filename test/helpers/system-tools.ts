/**
 * Tests that need a system program (redis-server, Debian's chromium, the openssl command) beside
 * Node.js and npm. CI
 * installs every such program (.ci/run), so there a missing one fails the test that needs it. The
 * README promises that `npm test` also runs on a machine with only Node.js and npm: there, a test
 * whose program is missing passes and says, in the runner's output, what to install to run it.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, it, type SuiteContext, type TestContext } from 'node:test';
import { findTool } from '../../src/bench/targets/system-tool.js';

/** A program some tests need, and the Debian package it comes in. */
export interface SystemTool {
  /** Executable name on PATH, or an absolute path. */
  command: string;
  /** Debian package that installs it. */
  apt: string;
}

export const REDIS_SERVER: SystemTool = { command: 'redis-server', apt: 'redis-server' };
export const CHROMIUM: SystemTool = { command: '/usr/bin/chromium', apt: 'chromium' };
export const OPENSSL: SystemTool = { command: 'openssl', apt: 'openssl' };

/** Whether `tool` is installed. */
export async function installed(tool: SystemTool): Promise<boolean> {
  if (tool.command.startsWith('/')) return existsSync(tool.command);
  return (await findTool(tool.command)) !== undefined;
}

/** What a test whose program is missing does: fail in CI, else pass and say what to install. */
function missing(tool: SystemTool, t: TestContext): void {
  assert.notEqual(
    process.env.CI,
    'true',
    `${tool.command} must be installed in CI (.ci/run installs ${tool.apt})`,
  );
  t.diagnostic(`${tool.command} is not installed, so these tests did not run: apt-get install ${tool.apt}`);
}

/** `describe(title, options, fn)` when `tool` is installed (resolved once, before the file's tests). */
export function describeWith(
  tool: SystemTool,
  present: boolean,
  title: string,
  options: { timeout?: number },
  fn: (s: SuiteContext) => void | Promise<void>,
): void {
  if (present) {
    describe(title, options, fn);
    return;
  }
  describe(title, () => {
    it(`needs ${tool.command}`, (t) => missing(tool, t));
  });
}

/** `it(title, options, fn)` when `tool` is installed. */
export function itWith(
  tool: SystemTool,
  present: boolean,
  title: string,
  options: { timeout?: number },
  fn: (t: TestContext) => void | Promise<void>,
): void {
  if (present) it(title, options, fn);
  else it(`${title} (needs ${tool.command})`, (t) => missing(tool, t));
}
