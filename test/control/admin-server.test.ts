import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import type { Socket } from 'node:net';
import { after, afterEach, before, describe, it } from 'node:test';
import type { ReloadResult } from '../../src/control/admin-actions.js';
import { ErrorCodes } from '../../src/lib/errors.js';
import { connectTcp, hashReceived, readAll, tcpGet, until } from '../helpers/clients.js';
import { startTestProxy, type TestProxy } from '../helpers/proxy-harness.js';
import {
  deterministicChunk,
  deterministicHash,
  startEchoUpstream,
  startNamedHttpUpstream,
  startSilentUpstream,
  type TestUpstream,
} from '../helpers/upstreams.js';
import { request, startTestAdmin, type TestAdmin } from './admin-harness.js';

describe('admin API over a running proxy', { timeout: 60_000 }, () => {
  let web: TestUpstream[];
  let extra: TestUpstream;
  let echo: TestUpstream[];
  let silent: TestUpstream;
  let spare: TestUpstream[];
  let t: TestProxy;
  let admin: TestAdmin;
  let nextReload: ReloadResult = { ok: true, changes: [] };
  let reloads = 0;
  const held: Socket[] = [];

  before(async () => {
    web = await Promise.all(['web-1', 'web-2'].map((n) => startNamedHttpUpstream(n)));
    extra = await startNamedHttpUpstream('web-3');
    echo = await Promise.all(['echo-1', 'echo-2'].map((n) => startEchoUpstream(n)));
    silent = await startSilentUpstream('silent');
    spare = await Promise.all(['spare-1', 'spare-2'].map((n) => startNamedHttpUpstream(n)));
    t = await startTestProxy({
      listeners: [
        { name: 'web', bind: '127.0.0.1:0', group: 'web' },
        { name: 'echo', bind: '127.0.0.1:0', group: 'echo' },
        { name: 'hold', bind: '127.0.0.1:0', group: 'hold' },
        { name: 'spare', bind: '127.0.0.1:0', group: 'spare' },
      ],
      groups: {
        web: {
          balancer: 'round-robin',
          upstreams: web.map((u) => ({ address: u.address, id: u.name })),
        },
        echo: {
          balancer: 'least-connections',
          upstreams: echo.map((u) => ({ address: u.address, id: u.name })),
        },
        hold: { balancer: 'least-connections', upstreams: [{ address: silent.address, id: 'silent' }] },
        spare: {
          balancer: 'round-robin',
          upstreams: spare.map((u) => ({ address: u.address, id: u.name })),
        },
      },
    });
    admin = await startTestAdmin(t, {
      reload: async () => {
        reloads++;
        return nextReload;
      },
      healthStatus: (group, id) =>
        group === 'web' && id === 'web-1' ? { lastCheckAt: 1_700_000_000_000, lastResult: 'ok' } : undefined,
    });
  });

  afterEach(() => {
    for (const s of held.splice(0)) s.destroy();
  });

  after(async () => {
    await admin.close();
    await t.stop();
    await Promise.all([...web, extra, ...echo, silent, ...spare].map((u) => u.close()));
  });

  const group = (name: string) => t.proxy.runtime.groups.get(name)!;

  it('answers /healthz while the process runs', async () => {
    const res = await request(admin, 'GET', '/healthz');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(res.body, { status: 'ok' });
  });

  it('is ready with listeners bound; 503 with the reason once a group has no upstream up, 200 again after ready', async () => {
    assert.equal((await request(admin, 'GET', '/readyz')).status, 200);
    for (const id of ['spare-1', 'spare-2']) {
      const res = await request(admin, 'PUT', `/api/groups/spare/upstreams/${id}/state`, { state: 'down' });
      assert.equal(res.status, 200);
      assert.equal(res.body.state, 'down');
    }
    const down = await request(admin, 'GET', '/readyz');
    assert.equal(down.status, 503);
    assert.deepEqual(down.body.reasons, [
      'group "spare" has no upstream in rotation (up, healthy, not ejected)',
    ]);
    // With every upstream down the data plane refuses, and /api/status counts it by reason.
    assert.equal(await tcpGet(t.port('spare')), '');
    const res = await request(admin, 'POST', '/api/groups/spare/upstreams/spare-2/state', { state: 'ready' });
    assert.equal(res.status, 200);
    assert.equal(res.body.state, 'up');
    assert.equal((await request(admin, 'GET', '/readyz')).status, 200);
    assert.equal(await tcpGet(t.port('spare')), 'spare-2');
  });

  it('shows listeners with counts and rejections by reason, and groups with upstreams, in /api/status', async () => {
    for (let i = 0; i < 4; i++) await tcpGet(t.port('web'));
    await until(() => t.proxy.stats('web').active === 0, 'web sessions ended');
    const res = await request(admin, 'GET', '/api/status');
    assert.equal(res.status, 200);
    const listeners = res.body.listeners as { name: string; stats: Record<string, unknown> }[];
    assert.deepEqual(
      listeners.map((l) => l.name),
      ['web', 'echo', 'hold', 'spare'],
    );
    const webL = listeners.find((l) => l.name === 'web')!;
    assert.equal((webL as unknown as { kind: string }).kind, 'tcp');
    assert.equal((webL as unknown as { address: string }).address, `127.0.0.1:${t.port('web')}`);
    assert.equal(webL.stats.accepted, 4);
    assert.equal(webL.stats.proxied, 4);
    assert.equal(webL.stats.active, 0);
    assert.deepEqual(webL.stats.rejections, {});
    const spareL = listeners.find((l) => l.name === 'spare')!;
    assert.equal(spareL.stats.accepted, 2);
    assert.deepEqual(spareL.stats.rejections, { [ErrorCodes.ERR_NO_HEALTHY_UPSTREAM]: 1 });

    const webG = (
      res.body.groups as { name: string; balancer: string; upstreams: Record<string, unknown>[] }[]
    ).find((g) => g.name === 'web')!;
    assert.equal(webG.balancer, 'round-robin');
    assert.deepEqual(
      webG.upstreams.map((u) => [u.id, u.state, u.total, u.active, u.failures]),
      [
        ['web-1', 'up', 2, 0, 0],
        ['web-2', 'up', 2, 0, 0],
      ],
    );
    const w1 = webG.upstreams[0] as { bytesIn: number; bytesOut: number; health: unknown; up: boolean };
    assert.ok(w1.bytesIn > 0 && w1.bytesOut > 0);
    assert.equal(w1.up, true);
    assert.deepEqual(w1.health, {
      healthy: true,
      ejected: false,
      lastCheckAt: 1_700_000_000_000,
      lastResult: 'ok',
    });
    assert.deepEqual((webG.upstreams[1] as { health: unknown }).health, { healthy: true, ejected: false });
  });

  it('serves one group and one upstream, and 404 for unknown ones', async () => {
    const g = await request(admin, 'GET', '/api/groups/web');
    assert.equal(g.status, 200);
    assert.equal(g.body.name, 'web');
    const all = await request(admin, 'GET', '/api/groups');
    assert.deepEqual(
      (all.body as { name: string }[]).map((x) => x.name),
      ['web', 'echo', 'hold', 'spare'],
    );
    const u = await request(admin, 'GET', '/api/groups/web/upstreams/web-2');
    assert.equal(u.status, 200);
    assert.equal(u.body.address, web[1].address);
    const noGroup = await request(admin, 'GET', '/api/groups/nope');
    assert.equal(noGroup.status, 404);
    assert.equal(noGroup.body.error.code, ErrorCodes.ERR_UNKNOWN_GROUP);
    const noUp = await request(admin, 'GET', '/api/groups/web/upstreams/nope');
    assert.equal(noUp.status, 404);
    assert.equal(noUp.body.error.code, ErrorCodes.ERR_UNKNOWN_UPSTREAM);
  });

  it('lists connected clients aggregated by id (the source address on plain TCP), sorted and paged', async () => {
    const sources = ['127.0.0.3', '127.0.0.2', '127.0.0.2', '127.0.0.4'];
    for (const s of sources) held.push(await connectTcp(t.port('hold'), '127.0.0.1', s));
    held[0].write('0123456789');
    await until(
      () => t.proxy.sessionSnapshots().some((s) => s.bytesFromClient === 10),
      'ten bytes read from 127.0.0.3',
    );
    await until(() => t.proxy.stats('hold').active === 4, 'four sessions');
    const first = await request(admin, 'GET', '/api/clients?limit=2');
    assert.equal(first.status, 200);
    assert.equal(first.body.total, 3);
    assert.equal(first.body.offset, 0);
    assert.equal(first.body.limit, 2);
    assert.deepEqual(first.body.clients, [
      { id: '127.0.0.2', org: '', connections: 2, bytesFromClient: 0, bytesToClient: 0 },
      { id: '127.0.0.3', org: '', connections: 1, bytesFromClient: 10, bytesToClient: 0 },
    ]);
    const second = await request(admin, 'GET', '/api/clients?offset=2&limit=2');
    assert.deepEqual(
      (second.body.clients as { id: string }[]).map((c) => c.id),
      ['127.0.0.4'],
    );
    assert.equal(second.body.total, 3);
    const bad = await request(admin, 'GET', '/api/clients?limit=0');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, ErrorCodes.ERR_INVALID_ARGUMENT);
    assert.equal((await request(admin, 'GET', '/api/clients?offset=-1')).status, 400);
  });

  it('drains an upstream while a transfer runs: the transfer completes and new sessions go elsewhere', async () => {
    const client = await connectTcp(t.port('echo'));
    const received = hashReceived(client);
    const chunk = deterministicChunk();
    client.write(chunk);
    await until(() => group('echo').upstreams.some((u) => u.active === 1 && u.connecting === 0), 'relaying');
    const busy = group('echo').upstreams.find((u) => u.active === 1)!;
    const other = group('echo').upstreams.find((u) => u !== busy)!;
    const res = await request(admin, 'PUT', `/api/groups/echo/upstreams/${busy.id}/state`, {
      state: 'drain',
    });
    assert.equal(res.status, 200);
    assert.equal(res.body.state, 'draining');
    assert.equal(res.body.active, 1);
    const totalBefore = busy.total;
    // New sessions while the drained one still relays: none may land on it.
    for (let i = 0; i < 4; i++) {
      const s = await connectTcp(t.port('echo'));
      const reply = readAll(s);
      s.end('ping');
      assert.equal((await reply).text, 'ping');
    }
    assert.equal(busy.total, totalBefore);
    assert.equal(other.total >= 4, true);
    const rounds = 15;
    for (let i = 0; i < rounds; i++) {
      if (!client.write(chunk)) await new Promise((r) => client.once('drain', r));
    }
    client.end();
    const got = await received;
    assert.equal(got.bytes, (rounds + 1) * chunk.length);
    assert.equal(got.hash, deterministicHash((rounds + 1) * chunk.length));
    await until(() => busy.active === 0, 'drained upstream released');
    const ready = await request(admin, 'POST', `/api/groups/echo/upstreams/${busy.id}/ready`);
    assert.equal(ready.status, 200);
    assert.equal(busy.state, 'up');
  });

  it('sets weights, refusing bad values with 400 and unknown names with 404', async () => {
    const res = await request(admin, 'PUT', '/api/groups/web/upstreams/web-2/weight', { weight: 5 });
    assert.equal(res.status, 200);
    assert.equal(res.body.weight, 5);
    assert.equal(group('web').get('web-2')!.weight, 5);
    for (const body of [{ weight: 0 }, { weight: '3' }, { weight: -1 }, {}, { weight: 2, extra: 1 }]) {
      const bad = await request(admin, 'PUT', '/api/groups/web/upstreams/web-2/weight', body);
      assert.equal(bad.status, 400, JSON.stringify(body));
      assert.equal(bad.body.error.code, ErrorCodes.ERR_INVALID_ARGUMENT);
    }
    assert.equal(group('web').get('web-2')!.weight, 5);
    const unknown = await request(admin, 'PUT', '/api/groups/web/upstreams/nope/weight', { weight: 2 });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, ErrorCodes.ERR_UNKNOWN_UPSTREAM);
    const noGroup = await request(admin, 'PUT', '/api/groups/nope/upstreams/web-2/weight', { weight: 2 });
    assert.equal(noGroup.status, 404);
    assert.equal(noGroup.body.error.code, ErrorCodes.ERR_UNKNOWN_GROUP);
    const badState = await request(admin, 'PUT', '/api/groups/web/upstreams/web-2/state', {
      state: 'sleepy',
    });
    assert.equal(badState.status, 400);
    assert.equal(group('web').get('web-2')!.state, 'up');
    await request(admin, 'PUT', '/api/groups/web/upstreams/web-2/weight', { weight: 1 });
  });

  it('adds and removes upstreams: the new one takes sessions, the removed one takes no more', async () => {
    const added = await request(admin, 'POST', '/api/groups/web/upstreams', {
      address: extra.address,
      id: 'web-3',
      weight: 2,
    });
    assert.equal(added.status, 201);
    assert.equal(added.body.id, 'web-3');
    assert.equal(added.body.weight, 2);
    const dup = await request(admin, 'POST', '/api/groups/web/upstreams', {
      address: extra.address,
      id: 'web-3',
    });
    assert.equal(dup.status, 409);
    assert.equal(dup.body.error.code, ErrorCodes.ERR_DUPLICATE_UPSTREAM);
    const badAddress = await request(admin, 'POST', '/api/groups/web/upstreams', { address: 'no-port' });
    assert.equal(badAddress.status, 400);
    assert.equal(badAddress.body.error.code, ErrorCodes.ERR_INVALID_ADDRESS);
    const typo = await request(admin, 'POST', '/api/groups/web/upstreams', { adress: extra.address });
    assert.equal(typo.status, 400);
    assert.equal(group('web').upstreams.length, 3);

    const seen = new Set<string>();
    for (let i = 0; i < 3; i++) seen.add(await tcpGet(t.port('web')));
    assert.deepEqual([...seen].sort(), ['web-1', 'web-2', 'web-3']);

    const removed = await request(admin, 'DELETE', '/api/groups/web/upstreams/web-3');
    assert.equal(removed.status, 200);
    assert.equal(removed.body.removed.id, 'web-3');
    assert.equal(removed.body.removed.total, 1);
    const acceptedBefore = extra.accepted;
    for (let i = 0; i < 4; i++) assert.notEqual(await tcpGet(t.port('web')), 'web-3');
    assert.equal(extra.accepted, acceptedBefore);
    const again = await request(admin, 'DELETE', '/api/groups/web/upstreams/web-3');
    assert.equal(again.status, 404);
    assert.equal(again.body.error.code, ErrorCodes.ERR_UNKNOWN_UPSTREAM);
  });

  it('swaps a group balancer keeping the counters, and refuses unknown balancers', async () => {
    const before = group('web').upstreams.map((u) => [u.id, u.total]);
    const res = await request(admin, 'PUT', '/api/groups/web/balancer', { balancer: 'least-connections' });
    assert.equal(res.status, 200);
    assert.equal(res.body.balancer, 'least-connections');
    assert.deepEqual(
      (res.body.upstreams as { id: string; total: number }[]).map((u) => [u.id, u.total]),
      before,
    );
    assert.equal(group('web').balancer.name, 'least-connections');
    assert.match(await tcpGet(t.port('web')), /^web-[12]$/);
    const unknown = await request(admin, 'PUT', '/api/groups/web/balancer', { balancer: 'fastest' });
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.error.code, ErrorCodes.ERR_UNKNOWN_BALANCER);
    assert.equal(group('web').balancer.name, 'least-connections');
    await request(admin, 'PUT', '/api/groups/web/balancer', { balancer: 'round-robin' });
  });

  it('triggers a reload and reports its changes or its error', async () => {
    nextReload = { ok: true, changes: ['groups.web.upstreams[0].weight: 1 -> 2'] };
    const good = await request(admin, 'POST', '/api/reload');
    assert.equal(good.status, 200);
    assert.deepEqual(good.body, { ok: true, changes: ['groups.web.upstreams[0].weight: 1 -> 2'] });
    nextReload = { ok: false, error: 'listeners[0].bind: port is not a number' };
    const bad = await request(admin, 'POST', '/api/reload');
    assert.equal(bad.status, 422);
    assert.deepEqual(bad.body.error, {
      code: ErrorCodes.ERR_RELOAD_FAILED,
      message: 'listeners[0].bind: port is not a number',
    });
    assert.equal(reloads, 2);
  });

  it('answers 404 for unknown routes and 405 with Allow for wrong methods', async () => {
    // `/` is the dashboard page and `/api` the route index (dashboard-api.test.ts)
    for (const path of [
      '/nope',
      '/dashboard/nope.js',
      '/api/nope',
      '/api/groups/web/nope',
      '/api/groups/web/upstreams/web-1/x',
    ]) {
      const res = await request(admin, 'GET', path);
      assert.equal(res.status, 404, path);
      assert.equal(res.body.error.code, ErrorCodes.ERR_NOT_FOUND);
    }
    const wrong = await request(admin, 'DELETE', '/api/status');
    assert.equal(wrong.status, 405);
    assert.equal(wrong.body.error.code, ErrorCodes.ERR_METHOD_NOT_ALLOWED);
    assert.equal(wrong.headers.get('allow'), 'GET, HEAD');
    const getReload = await request(admin, 'GET', '/api/reload');
    assert.equal(getReload.status, 405);
    assert.equal(getReload.headers.get('allow'), 'POST');
  });

  it('refuses bodies over the limit with 413 and broken JSON with 400, changing nothing', async () => {
    const big = JSON.stringify({ weight: 3, pad: 'x'.repeat(100 * 1024) });
    const tooBig = await request(admin, 'PUT', '/api/groups/web/upstreams/web-1/weight', big);
    assert.equal(tooBig.status, 413);
    assert.equal(tooBig.body.error.code, ErrorCodes.ERR_PAYLOAD_TOO_LARGE);
    const broken = await request(admin, 'PUT', '/api/groups/web/upstreams/web-1/weight', '{"weight": 3');
    assert.equal(broken.status, 400);
    assert.equal(broken.body.error.code, ErrorCodes.ERR_INVALID_JSON);
    assert.doesNotMatch(broken.text, /at .*\.js/);
    const array = await request(admin, 'PUT', '/api/groups/web/upstreams/web-1/weight', '[3]');
    assert.equal(array.status, 400);
    assert.equal(array.body.error.code, ErrorCodes.ERR_INVALID_JSON);
    assert.equal(group('web').get('web-1')!.weight, 1);
    // The connection stays usable after a refused body.
    assert.equal((await request(admin, 'GET', '/healthz')).status, 200);
  });

  it('refuses a chunked body that grows past the limit while it streams', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        `${admin.base}/api/groups/web/upstreams/web-1/weight`,
        { method: 'PUT', headers: { 'content-type': 'application/json' } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      const piece = Buffer.alloc(16 * 1024, 0x20);
      for (let i = 0; i < 8; i++) req.write(piece);
      req.end('{"weight": 4}');
    });
    assert.equal(status, 413);
    assert.equal(group('web').get('web-1')!.weight, 1);
  });

  it('answers 500 without details when an action fails unexpectedly', async () => {
    const failing = await startTestAdmin(t, {
      actions: {
        ...admin.actions,
        setUpstreamWeight() {
          throw new TypeError('secret internals at /srv/app.js:1');
        },
      },
    });
    try {
      const res = await request(failing, 'PUT', '/api/groups/web/upstreams/web-1/weight', { weight: 2 });
      assert.equal(res.status, 500);
      assert.deepEqual(res.body, { error: { code: ErrorCodes.ERR_INTERNAL, message: 'internal error' } });
    } finally {
      await failing.close();
    }
  });
});
