import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { getTestPki, type TestPki } from '../helpers/certs.js';
import { runCli, startCli } from '../helpers/cli.js';
import { connectTcp, connectTls, tlsGet } from '../helpers/clients.js';
import { testTlsBlock } from '../helpers/proxy-harness.js';
import {
  heldPort,
  refusedPort,
  startNamedHttpUpstream,
  startSilentUpstream,
  type TestUpstream,
} from '../helpers/upstreams.js';

describe('switchyard run', { timeout: 60_000 }, () => {
  let pki: TestPki;
  let named: TestUpstream;
  let silent: TestUpstream;
  let dir: string;

  before(async () => {
    pki = await getTestPki();
    named = await startNamedHttpUpstream('cli-upstream');
    silent = await startSilentUpstream('cli-silent');
    dir = mkdtempSync(join(tmpdir(), 'switchyard-run-'));
  });

  after(async () => {
    await named.close();
    await silent.close();
  });

  async function writeConfig(name: string, upstream: TestUpstream, grace: string): Promise<string> {
    const path = join(dir, name);
    const config = {
      listeners: [
        {
          name: 'edge',
          bind: '127.0.0.1:0',
          tls: await testTlsBlock(),
          routes: [{ org: 'groupA', group: 'groupA' }],
        },
      ],
      groups: { groupA: { upstreams: [{ address: upstream.address }] } },
      timeouts: { shutdownGrace: grace, shutdownJitter: '10ms' },
    };
    writeFileSync(path, stringify(config));
    return path;
  }

  it('serves from a config file, logs JSON lines, and exits 0 on SIGTERM after draining', async () => {
    const cli = startCli(['run', '--config', await writeConfig('ok.yaml', named, '5s')]);
    const listening = await cli.waitForLog('listening');
    await cli.waitForLog('switchyard started');
    const port = listening.port as number;
    assert.equal(await tlsGet({ port, ca: pki.ca.cert, client: pki.groupA }), 'cli-upstream');
    const access = await cli.waitForLog('session');
    assert.equal(access.clientId, 'client-a');
    assert.equal(access.termination, 'OK');
    assert.equal(access.level, 'info');
    cli.child.kill('SIGTERM');
    assert.equal(await cli.exited, 0);
    await cli.waitForLog('shutdown complete');
  });

  it('exits at once with status 1 on a second signal while draining', async () => {
    const cli = startCli(['run', '--config', await writeConfig('slow.yaml', silent, '1h')]);
    const port = (await cli.waitForLog('listening')).port as number;
    const held = await connectTls({ port, ca: pki.ca.cert, client: pki.groupA });
    held.on('error', () => {});
    held.write('hello');
    await new Promise<void>((resolve) => {
      const check = () => (silent.accepted > 0 ? resolve() : setTimeout(check, 5));
      check();
    });
    cli.child.kill('SIGTERM');
    await cli.waitForLog('shutting down');
    cli.child.kill('SIGINT');
    assert.equal(await cli.exited, 1);
    assert.ok(cli.stdout.some((l) => l.includes('second signal')));
    held.destroy();
  });

  it('reloads on SIGHUP; an invalid file is refused with line:column and the old config keeps serving', async () => {
    const other = await startNamedHttpUpstream('after-reload');
    try {
      const path = await writeConfig('hup.yaml', named, '5s');
      const cli = startCli(['run', '--config', path]);
      const port = (await cli.waitForLog('listening')).port as number;
      assert.equal(await tlsGet({ port, ca: pki.ca.cert, client: pki.groupA }), 'cli-upstream');

      const good = (await import('node:fs')).readFileSync(path, 'utf8');
      writeFileSync(path, good.replace(named.address, other.address));
      cli.child.kill('SIGHUP');
      const reloaded = await cli.waitForLog('configuration reloaded');
      assert.ok((reloaded.changes as string[]).some((c) => c.includes(`${other.address} added`)));
      assert.equal(await tlsGet({ port, ca: pki.ca.cert, client: pki.groupA }), 'after-reload');

      writeFileSync(
        path,
        `${good}
not: [valid`,
      );
      cli.child.kill('SIGHUP');
      const refused = await cli.waitForLog('reload refused; the running configuration is unchanged');
      assert.match(String(refused.error), /hup\.yaml:\d+:\d+/);
      assert.equal(await tlsGet({ port, ca: pki.ca.cert, client: pki.groupA }), 'after-reload');

      cli.child.kill('SIGTERM');
      assert.equal(await cli.exited, 0);
    } finally {
      await other.close();
    }
  });

  it('moves a listener to a new address on SIGHUP: the new one serves, the old one is closed', async () => {
    const path = await writeConfig('move.yaml', named, '5s');
    const cli = startCli(['run', '--config', path]);
    try {
      const oldPort = (await cli.waitForLog('listening')).port as number;
      const newPort = await refusedPort();
      writeFileSync(path, readFileSync(path, 'utf8').replace('127.0.0.1:0', `127.0.0.1:${newPort}`));
      cli.child.kill('SIGHUP');
      const reloaded = await Promise.race([
        cli.waitForLog('configuration reloaded'),
        cli.waitForLog('reload refused; the running configuration is unchanged'),
      ]);
      assert.deepEqual(reloaded.changes, [
        `listener edge moved 127.0.0.1:0 -> 127.0.0.1:${newPort} (sessions on the old address finish)`,
      ]);
      assert.equal(await tlsGet({ port: newPort, ca: pki.ca.cert, client: pki.groupA }), 'cli-upstream');
      await assert.rejects(connectTcp(oldPort), /ECONNREFUSED/);
    } finally {
      cli.child.kill('SIGTERM');
    }
    assert.equal(await cli.exited, 0);
  });

  /** 1-based line of the first line of `text` containing `needle`. */
  const lineOf = (text: string, needle: string) => text.split('\n').findIndex((l) => l.includes(needle)) + 1;

  it('names the listener and its config line when its port is held at start, and exits 1', async () => {
    const { port, release } = await heldPort();
    try {
      const path = await writeConfig('held.yaml', named, '5s');
      const text = readFileSync(path, 'utf8').replace('127.0.0.1:0', `127.0.0.1:${port}`);
      writeFileSync(path, text);
      const { code, stderr } = await runCli(['run', '--config', path]);
      assert.equal(code, 1);
      assert.equal(
        stderr,
        `switchyard: listeners[0] "edge" (${path}:${lineOf(text, 'bind:')}): cannot bind 127.0.0.1:${port}: address already in use (EADDRINUSE)`,
      );
    } finally {
      await release();
    }
  });

  it('names the admin API and its config line when admin.bind is held at start, and exits 1', async () => {
    const { port, release } = await heldPort();
    try {
      const path = await writeConfig('admin-held.yaml', named, '5s');
      const text = `${readFileSync(path, 'utf8')}admin:\n  bind: "127.0.0.1:${port}"\n`;
      writeFileSync(path, text);
      const { code, stderr } = await runCli(['run', '--config', path]);
      assert.equal(code, 1);
      assert.equal(
        stderr,
        `switchyard: admin API (admin.bind, ${path}:${lineOf(text, `127.0.0.1:${port}`)}): cannot bind 127.0.0.1:${port}: address already in use (EADDRINUSE)`,
      );
    } finally {
      await release();
    }
  });

  it('refuses an invalid config with its file, line and column, and exits 1', async () => {
    const path = join(dir, 'bad.yaml');
    writeFileSync(
      path,
      'listeners:\n  - name: edge\n    bind: "127.0.0.1:8443"\n    group: nowhere\ngroups:\n  web:\n    upstreams:\n      - address: "127.0.0.1"\n',
    );
    const { code, stderr } = await runCli(['run', '--config', path]);
    assert.equal(code, 1);
    assert.match(stderr, /bad\.yaml:8:\d+ groups\.web\.upstreams\[0\]\.address: invalid address/);
    assert.match(stderr, /bad\.yaml:4:\d+ listeners\[0\]\.group: /);
  });
});
