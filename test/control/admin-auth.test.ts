import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ErrorCodes } from '../../src/lib/errors.js';
import { startTestProxy, type TestProxy } from '../helpers/proxy-harness.js';
import { startNamedHttpUpstream, type TestUpstream } from '../helpers/upstreams.js';
import { request, startTestAdmin, type TestAdmin } from './admin-harness.js';

const TOKEN = 'correct-horse-battery-staple';

describe('admin API bearer token', { timeout: 60_000 }, () => {
  let ups: TestUpstream[];
  let t: TestProxy;
  let admin: TestAdmin;
  let reloads = 0;

  before(async () => {
    ups = await Promise.all(['a-1', 'a-2'].map((n) => startNamedHttpUpstream(n)));
    t = await startTestProxy({
      listeners: [{ name: 'web', bind: '127.0.0.1:0', group: 'web' }],
      groups: {
        web: { balancer: 'round-robin', upstreams: ups.map((u) => ({ address: u.address, id: u.name })) },
      },
    });
    admin = await startTestAdmin(t, {
      token: TOKEN,
      reload: async () => {
        reloads++;
        return { ok: true, changes: [] };
      },
    });
  });

  after(async () => {
    await admin.close();
    await t.stop();
    await Promise.all(ups.map((u) => u.close()));
  });

  const web = () => t.proxy.runtime.groups.get('web')!;
  const snapshot = () =>
    JSON.stringify({
      balancer: web().balancer.name,
      upstreams: web().upstreams.map((u) => [u.id, u.state, u.weight]),
    });

  const writes: [string, string, unknown][] = [
    ['PUT', '/api/groups/web/upstreams/a-1/state', { state: 'drain' }],
    ['POST', '/api/groups/web/upstreams/a-1/state', { state: 'maintenance' }],
    ['POST', '/api/groups/web/upstreams/a-1/drain', undefined],
    ['PUT', '/api/groups/web/upstreams/a-1/weight', { weight: 7 }],
    ['POST', '/api/groups/web/upstreams', { address: '127.0.0.1:1', id: 'new' }],
    ['DELETE', '/api/groups/web/upstreams/a-2', undefined],
    ['PUT', '/api/groups/web/balancer', { balancer: 'random' }],
    ['POST', '/api/reload', undefined],
  ];

  it('leaves reads open', async () => {
    assert.equal((await request(admin, 'GET', '/api/status')).status, 200);
    assert.equal((await request(admin, 'GET', '/metrics')).status, 200);
    assert.equal((await request(admin, 'GET', '/api/clients')).status, 200);
  });

  for (const [label, headers] of [
    ['no Authorization header', {}],
    ['a wrong token', { authorization: 'Bearer correct-horse-battery-stapler' }],
    ['a wrong token of the same length', { authorization: `Bearer ${'x'.repeat(TOKEN.length)}` }],
    ['the token in another scheme', { authorization: `Basic ${TOKEN}` }],
    ['an empty bearer', { authorization: 'Bearer ' }],
  ] as [string, Record<string, string>][]) {
    it(`refuses every write with ${label}: 401, WWW-Authenticate, nothing changed`, async () => {
      const before = snapshot();
      const reloadsBefore = reloads;
      for (const [method, path, body] of writes) {
        const res = await request(admin, method, path, body, headers);
        assert.equal(res.status, 401, `${method} ${path}`);
        assert.equal(res.body.error.code, ErrorCodes.ERR_UNAUTHORIZED);
        assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer/);
      }
      assert.equal(snapshot(), before);
      assert.equal(reloads, reloadsBefore);
    });
  }

  it('refuses before reading the body, so a bad body still gets 401', async () => {
    const res = await request(admin, 'PUT', '/api/groups/web/upstreams/a-1/weight', '{broken');
    assert.equal(res.status, 401);
  });

  it('applies writes that carry the token', async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    const res = await request(admin, 'PUT', '/api/groups/web/upstreams/a-1/weight', { weight: 7 }, auth);
    assert.equal(res.status, 200);
    assert.equal(web().get('a-1')!.weight, 7);
    const state = await request(
      admin,
      'PUT',
      '/api/groups/web/upstreams/a-1/state',
      { state: 'drain' },
      auth,
    );
    assert.equal(state.status, 200);
    assert.equal(web().get('a-1')!.state, 'draining');
    const lower = await request(admin, 'POST', '/api/reload', undefined, {
      authorization: `bearer ${TOKEN}`,
    });
    assert.equal(lower.status, 200);
    assert.equal(reloads, 1);
  });

  it('refuses a write from a browser page on another origin even with the token', async () => {
    const res = await request(
      admin,
      'PUT',
      '/api/groups/web/upstreams/a-1/weight',
      { weight: 9 },
      {
        authorization: `Bearer ${TOKEN}`,
        origin: 'http://evil.example',
      },
    );
    assert.equal(res.status, 403);
    assert.equal(res.body.error.code, ErrorCodes.ERR_FORBIDDEN_ORIGIN);
    assert.equal(web().get('a-1')!.weight, 7);
  });

  it('never writes the token to the log', () => {
    const text = JSON.stringify(t.logger.lines);
    assert.equal(text.includes(TOKEN), false);
    assert.ok(t.logger.lines.some((l) => l.message === 'admin: unauthorized'));
  });
});
