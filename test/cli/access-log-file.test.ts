import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { runCli, startCli } from '../helpers/cli.js';
import { tcpGet, until } from '../helpers/clients.js';
import { startNamedHttpUpstream, type TestUpstream } from '../helpers/upstreams.js';

/** The JSON lines of a file whose `msg` is "session" (nothing when the file is not there). */
function sessionLines(path: string): Record<string, unknown>[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.msg === 'session');
}

describe('access log to a file (log.accessLog)', { timeout: 60_000 }, () => {
  let up: TestUpstream;
  let dir: string;

  before(async () => {
    up = await startNamedHttpUpstream('filed');
    dir = mkdtempSync(join(tmpdir(), 'switchyard-access-'));
  });

  after(async () => {
    await up.close();
  });

  function writeConfig(accessLog: string): string {
    const path = join(dir, 'switchyard.yaml');
    writeFileSync(
      path,
      stringify({
        listeners: [{ name: 'plain', bind: '127.0.0.1:0', group: 'g' }],
        groups: { g: { upstreams: [{ address: up.address }] } },
        timeouts: { shutdownGrace: '1s', shutdownJitter: '10ms' },
        log: { format: 'json', accessLog },
      }),
    );
    return path;
  }

  it('writes session lines to the file, not stdout, and reopens it on SIGUSR1 after a rotation', async () => {
    // relative to the configuration file, like certificate paths
    const cli = startCli(['run', '--config', writeConfig('logs/access.log')]);
    const access = join(dir, 'logs', 'access.log');
    const port = (await cli.waitForLog('listening')).port as number;
    await cli.waitForLog('switchyard started');
    assert.equal(statSync(access).mode & 0o777, 0o640);

    assert.equal(await tcpGet(port), 'filed');
    await until(() => sessionLines(access).length === 1, 'the first session line in the file');
    assert.equal(sessionLines(access)[0].upstreamAddress, up.address);

    const rotated = `${access}.1`;
    renameSync(access, rotated);
    cli.child.kill('SIGUSR1');
    await cli.waitForLog('access log reopened');
    assert.equal(await tcpGet(port), 'filed');
    await until(() => sessionLines(access).length === 1, 'the second session line in a new file');
    assert.equal(sessionLines(rotated).length, 1);

    // the path cannot be opened again (its directory is now a file): a warning, and nothing lost
    const logs = join(dir, 'logs');
    renameSync(logs, `${logs}.moved`);
    writeFileSync(logs, 'not a directory');
    cli.child.kill('SIGUSR1');
    const refused = await cli.waitForLog('access log not reopened; still writing to the old file');
    assert.equal(refused.code, 'ERR_LOG_REOPEN');
    assert.equal(await tcpGet(port), 'filed');
    const kept = join(`${logs}.moved`, 'access.log');
    await until(() => sessionLines(kept).length === 2, 'the third session line in the file still open');

    cli.child.kill('SIGTERM');
    assert.equal(await cli.exited, 0);
    assert.equal(cli.stdout.filter((l) => l.includes('"msg":"session"')).length, 0);
  });

  it('off writes no session line anywhere', async () => {
    const cli = startCli(['run', '--config', writeConfig('off')]);
    const port = (await cli.waitForLog('listening')).port as number;
    assert.equal(await tcpGet(port), 'filed');
    cli.child.kill('SIGTERM');
    assert.equal(await cli.exited, 0);
    assert.equal(cli.stdout.filter((l) => l.includes('"msg":"session"')).length, 0);
    assert.ok(cli.stdout.some((l) => l.includes('"msg":"shutdown complete"')));
  });

  it('a file that cannot be opened stops run at start with the key and the path', async () => {
    const blocker = join(dir, 'not-a-dir');
    writeFileSync(blocker, '');
    const r = await runCli(['run', '--config', writeConfig(join(blocker, 'access.log'))]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /log\.accessLog: cannot open .*not-a-dir\/access\.log/);
  });
});
