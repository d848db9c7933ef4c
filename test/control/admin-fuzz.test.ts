import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { tcpGet } from '../helpers/clients.js';
import { startTestProxy, type TestProxy } from '../helpers/proxy-harness.js';
import { startNamedHttpUpstream, type TestUpstream } from '../helpers/upstreams.js';
import { request, startTestAdmin, type TestAdmin } from './admin-harness.js';

// Random bodies against every route that reads one: the API answers each with a status and a JSON
// error in the shared vocabulary, never a 500, and the balancer keeps serving. Bounded runs.
const RUNS = 150;
const TOKEN = 'fuzz-token-5b0d';

describe('admin API bodies under fuzzing', { timeout: 120_000 }, () => {
  let up: TestUpstream;
  let t: TestProxy;
  let admin: TestAdmin;

  before(async () => {
    up = await startNamedHttpUpstream('steady');
    t = await startTestProxy({
      listeners: [{ name: 'plain', bind: '127.0.0.1:0', group: 'g' }],
      groups: { g: { upstreams: [{ address: up.address, id: 'steady' }] } },
    });
    admin = await startTestAdmin(t, { token: TOKEN });
  });

  after(async () => {
    await admin.close();
    await t.stop();
    await up.close();
  });

  // Paths that take a body, with the group and upstream either real or made up.
  const groupArb = fc.oneof(fc.constant('g'), fc.string({ maxLength: 6 }).map(encodeURIComponent));
  const idArb = fc.oneof(fc.constant('steady'), fc.string({ maxLength: 6 }).map(encodeURIComponent));
  const routeArb = fc.oneof(
    groupArb.map((g) => ({ method: 'PUT', path: `/api/groups/${g}/balancer` })),
    groupArb.map((g) => ({ method: 'POST', path: `/api/groups/${g}/upstreams` })),
    fc
      .tuple(groupArb, idArb)
      .map(([g, id]) => ({ method: 'PUT', path: `/api/groups/${g}/upstreams/${id}/state` })),
    fc
      .tuple(groupArb, idArb)
      .map(([g, id]) => ({ method: 'PUT', path: `/api/groups/${g}/upstreams/${id}/weight` })),
  );
  // JSON values of every shape, objects with the real field names, and text that is not JSON at all.
  const fieldArb = fc.constantFrom(
    'balancer',
    'state',
    'weight',
    'address',
    'id',
    'maxConnections',
    '__proto__',
  );
  const bodyArb = fc.oneof(
    fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
    fc.dictionary(fieldArb, fc.jsonValue({ maxDepth: 1 })).map((v) => JSON.stringify(v)),
    fc.string({ maxLength: 40 }),
  );

  it('answers every random body with a JSON status below 500 and keeps serving', async () => {
    await fc.assert(
      fc.asyncProperty(routeArb, bodyArb, async (route, body) => {
        const res = await request(admin, route.method, route.path, body, {
          authorization: `Bearer ${TOKEN}`,
        });
        assert.ok(res.status < 500, `${route.method} ${route.path} ${body} -> ${res.status} ${res.text}`);
        if (res.status >= 400) {
          assert.match(String(res.body?.error?.code), /^ERR_[A-Z_]+$/, res.text);
          assert.equal(typeof res.body?.error?.message, 'string');
        }
      }),
      { numRuns: RUNS },
    );
    const health = await request(admin, 'GET', '/healthz');
    assert.equal(health.status, 200);
    // Whatever the bodies did to the group, the listener still answers a connection.
    const status = await request(admin, 'GET', '/api/status');
    assert.equal(status.status, 200);
    assert.equal(t.proxy.listeners().length, 1);
    const auth = { authorization: `Bearer ${TOKEN}` };
    await request(admin, 'PUT', '/api/groups/g/upstreams/steady/state', { state: 'up' }, auth);
    await request(admin, 'PUT', '/api/groups/g/upstreams/steady/weight', { weight: 1 }, auth);
    assert.equal(await tcpGet(t.port('plain')), 'steady');
  });

  it('refuses every random body without the token, changing nothing', async () => {
    // What a body could change; live counters may move on their own.
    const settings = async () => {
      const g = (await request(admin, 'GET', '/api/groups/g')).body;
      return JSON.stringify({
        balancer: g.balancer,
        upstreams: g.upstreams.map((u: Record<string, unknown>) => [
          u.id,
          u.address,
          u.state,
          u.weight,
          u.maxConnections,
        ]),
      });
    };
    const groupBefore = await settings();
    await fc.assert(
      fc.asyncProperty(routeArb, bodyArb, async (route, body) => {
        const res = await request(admin, route.method, route.path, body);
        // An unknown route, or one that takes no such method ("/api/groups/./upstreams" is the
        // URL of a group, which takes only GET), may be found out before the token is read; either
        // way nothing changes.
        assert.ok([401, 404, 405].includes(res.status), `${route.path} -> ${res.status}`);
      }),
      { numRuns: 50 },
    );
    assert.equal(await settings(), groupBefore);
  });
});
