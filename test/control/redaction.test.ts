/**
 * The admin token never leaves the process: a real `switchyard run` with a token logs nothing that
 * contains it, its admin API shows it in no view, and a reload refused over the token's value does
 * not repeat it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { startCli } from '../helpers/cli.js';
import { tcpGet } from '../helpers/clients.js';
import { startNamedHttpUpstream, type TestUpstream } from '../helpers/upstreams.js';

const TOKEN = 'Tok3n-never-printed-5521';
// Digits only: YAML reads it as a number, which the schema refuses with a message about the value.
const NUMERIC_TOKEN = 4815162342108;

describe('secrets in outputs of a running balancer', { timeout: 60_000 }, () => {
  let upstream: TestUpstream;
  let dir: string;

  before(async () => {
    upstream = await startNamedHttpUpstream('secret-upstream');
    dir = mkdtempSync(join(tmpdir(), 'switchyard-secrets-'));
  });
  after(async () => {
    await upstream.close();
  });

  const config = (token: string | number) => ({
    listeners: [{ name: 'plain', bind: '127.0.0.1:0', group: 'g' }],
    groups: { g: { upstreams: [{ address: upstream.address }] } },
    admin: { bind: '127.0.0.1:0', token },
  });

  it('run logs, admin API views and reload answers never contain the admin token', async () => {
    const path = join(dir, 'lb.yaml');
    writeFileSync(path, stringify(config(TOKEN)));
    const cli = startCli(['run', '--config', path]);
    const admin = `http://${(await cli.waitForLog('admin API listening')).address as string}`;
    const port = (await cli.waitForLog('listening')).port as number;
    await cli.waitForLog('switchyard started');
    assert.equal(await tcpGet(port), 'secret-upstream');
    await cli.waitForLog('session');

    const bodies: string[] = [];
    const request = async (method: string, route: string, token?: string) => {
      const headers = token === undefined ? undefined : { authorization: `Bearer ${token}` };
      const res = await fetch(`${admin}${route}`, { method, headers });
      const body = await res.text();
      bodies.push(body);
      return { status: res.status, body };
    };
    for (const route of [
      '/healthz',
      '/readyz',
      '/api/status',
      '/api/groups',
      '/api/groups/g',
      '/api/groups/g/upstreams',
      '/api/clients',
      '/metrics',
    ]) {
      assert.equal((await request('GET', route)).status, 200, route);
    }
    assert.equal((await request('POST', '/api/reload', 'wrong-token')).status, 401);
    assert.equal((await request('POST', '/api/reload', TOKEN)).status, 200);
    writeFileSync(path, stringify(config(NUMERIC_TOKEN)));
    const refused = await request('POST', '/api/reload', TOKEN);
    assert.equal(refused.status, 422);
    assert.match(refused.body, /admin\.token: expected a string, got <redacted>/);
    await cli.waitForLog('reload refused; the running configuration is unchanged');

    cli.child.kill('SIGTERM');
    assert.equal(await cli.exited, 0);
    const output = [...cli.stdout, ...cli.stderr, ...bodies].join('\n');
    assert.ok(cli.stdout.length >= 6, cli.stdout.join('\n'));
    for (const secret of [TOKEN, String(NUMERIC_TOKEN)]) {
      assert.ok(!output.includes(secret), `found ${secret} in:\n${output}`);
    }
  });
});
