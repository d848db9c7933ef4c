import assert from 'node:assert/strict';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { directAdminActions } from '../../src/control/admin-actions.js';
import { type AdminServerOptions, startAdminServer } from '../../src/control/admin-server.js';
import { ASSET_NAMES } from '../../src/control/dashboard/static-assets.js';
import { createMetrics } from '../../src/control/metrics.js';
import { packageVersion } from '../../src/control/package-version.js';
import { ServerHistory } from '../../src/control/server-history.js';
import { tcpGet } from '../helpers/clients.js';
import { startTestProxy, type TestProxy } from '../helpers/proxy-harness.js';
import { startNamedHttpUpstream, type TestUpstream } from '../helpers/upstreams.js';
import { parseMetrics, request, sample, startTestAdmin, type TestAdmin } from './admin-harness.js';

/** An open event stream: its response and the events read so far. */
interface OpenStream {
  res: IncomingMessage;
  events: { event: string; data: Record<string, unknown> }[];
  /** Resolves once `n` events have arrived. */
  waitFor(n: number): Promise<void>;
  ended: Promise<void>;
}

function openStream(port: number): Promise<OpenStream> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: '/api/stream' }, (res) => {
      const events: OpenStream['events'] = [];
      const waiters: (() => void)[] = [];
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event !== undefined && data !== undefined) events.push({ event, data: JSON.parse(data) });
          if (/^retry: \d+$/m.test(block))
            events.push({ event: 'retry', data: { ms: Number(block.slice(7)) } });
        }
        for (const w of waiters.splice(0)) w();
      });
      const ended = new Promise<void>((done) => res.once('close', () => done()));
      resolve({
        res,
        events,
        ended,
        waitFor: async (n) => {
          while (events.length < n) await new Promise<void>((r) => waiters.push(r));
        },
      });
    });
    req.once('error', reject);
    req.end();
  });
}

describe('dashboard API', { timeout: 30_000 }, () => {
  let up: TestUpstream;
  let t: TestProxy;
  let admin: TestAdmin;

  before(async () => {
    up = await startNamedHttpUpstream('web-1');
    t = await startTestProxy({
      listeners: [{ name: 'plain', bind: '127.0.0.1:0', group: 'web' }],
      groups: { web: { upstreams: [{ address: up.address, id: 'web-1' }] } },
    });
    admin = await startTestAdmin(t, { token: 'secret' });
  });

  /** A second admin server over the same proxy, with `extra` options. */
  const anotherAdmin = (extra: Partial<AdminServerOptions>) =>
    startAdminServer({
      bind: '127.0.0.1:0',
      proxy: t.proxy,
      actions: directAdminActions(t.proxy),
      metrics: createMetrics(undefined, { processMetrics: false }),
      logger: t.logger,
      ...extra,
    });

  after(async () => {
    await admin.close();
    await t.stop();
    await up.close();
  });

  it('GET /api/status tells version, uptime and last reload besides listeners and groups', async () => {
    const res = await request(admin, 'GET', '/api/status');
    assert.equal(res.status, 200);
    assert.equal(res.body.version, packageVersion());
    assert.equal(typeof res.body.uptime, 'number');
    assert.equal(res.body.lastReload, null);
    assert.deepEqual(
      res.body.listeners.map((l: { name: string }) => l.name),
      ['plain'],
    );
    assert.equal(res.body.groups[0].upstreams[0].id, 'web-1');
  });

  it('shows the last reload once there was one', async () => {
    const history = new ServerHistory();
    history.reloaded({ ok: false, error: 'listeners[0].bind: invalid' });
    const server = await anotherAdmin({ history });
    try {
      const body = (await (await fetch(`http://127.0.0.1:${server.port}/api/status`)).json()) as {
        lastReload: { ok: boolean; error: string; at: string };
      };
      assert.equal(body.lastReload.ok, false);
      assert.equal(body.lastReload.error, 'listeners[0].bind: invalid');
      assert.ok(!Number.isNaN(Date.parse(body.lastReload.at)));
    } finally {
      await server.close();
    }
  });

  it('exports switchyard_build_info with the version and Node.js', async () => {
    const text = await (await fetch(`${admin.base}/metrics`)).text();
    assert.equal(
      sample(parseMetrics(text), 'switchyard_build_info', {
        version: packageVersion(),
        node: process.version,
      }),
      1,
    );
  });

  it('GET /api lists every route, and each one listed answers with the methods listed', async () => {
    const res = await request(admin, 'GET', '/api');
    assert.equal(res.status, 200);
    const routes = res.body.routes as { path: string; methods: string[] }[];
    assert.ok(routes.some((r) => r.path === '/api/stream'));
    for (const r of routes) {
      if (r.path === '/api/stream') continue;
      const path = r.path.replace(':group', 'web').replace(':id', 'web-1');
      const res = await fetch(admin.base + path, { method: 'OPTIONS' });
      await res.arrayBuffer();
      assert.equal(res.status, 405, path);
      assert.deepEqual(
        res.headers
          .get('allow')
          ?.split(', ')
          .filter((m) => m !== 'HEAD')
          .sort(),
        [...r.methods].sort(),
        path,
      );
    }
  });

  it('serves the page at / and its files with their types, a strict CSP and nosniff', async () => {
    const page = await fetch(`${admin.base}/`);
    const html = await page.text();
    assert.equal(page.status, 200);
    assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.match(page.headers.get('content-security-policy') ?? '', /^default-src 'self';/);
    assert.doesNotMatch(page.headers.get('content-security-policy') ?? '', /unsafe/);
    assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
    assert.match(html, /<script type="module" src="\/dashboard\/dashboard.js"><\/script>/);
    assert.doesNotMatch(html, /https?:\/\//, 'no external reference');
    for (const name of ASSET_NAMES) {
      const res = await fetch(`${admin.base}/dashboard/${name}`);
      const text = await res.text();
      assert.equal(res.status, 200, name);
      assert.ok(text.length > 0, name);
      if (name.endsWith('.js'))
        assert.equal(res.headers.get('content-type'), 'text/javascript; charset=utf-8');
    }
    const missing = await request(admin, 'GET', '/dashboard/../package.json');
    assert.equal(missing.status, 404);
    assert.equal((await request(admin, 'GET', '/dashboard/secret.js')).status, 404);
  });

  it('streams the full state first, then a tick a second, and counts traffic', async () => {
    const stream = await openStream(admin.server.port);
    try {
      assert.equal(stream.res.statusCode, 200);
      assert.equal(stream.res.headers['content-type'], 'text/event-stream; charset=utf-8');
      await stream.waitFor(2);
      assert.equal(stream.events[0].event, 'retry');
      const state = stream.events[1];
      assert.equal(state.event, 'state');
      assert.equal((state.data.status as { version: string }).version, packageVersion());
      assert.ok(Array.isArray(state.data.samples));
      assert.equal(await tcpGet(t.port('plain')), 'web-1');
      // the first tick has no sample (nothing to compare with yet); a later one has the connection
      for (let n = 3; ; n++) {
        await stream.waitFor(n);
        const tick = stream.events[n - 1];
        assert.equal(tick.event, 'tick');
        const status = tick.data.status as { listeners: { stats: { accepted: number } }[] };
        if (status.listeners[0].stats.accepted >= 1 && tick.data.sample !== undefined) break;
      }
    } finally {
      stream.res.destroy();
    }
  });

  it('answers one client: its live sessions and recent refusals', async () => {
    const res = await request(admin, 'GET', '/api/clients/127.0.0.1');
    assert.equal(res.status, 200);
    assert.equal(res.body.id, '127.0.0.1');
    assert.ok(Array.isArray(res.body.sessions));
  });

  it('bounds the streams and ends every one when the admin server closes', async () => {
    const small = await anotherAdmin({ streams: { maxStreams: 2 } });
    const streams = [await openStream(small.port), await openStream(small.port)];
    await Promise.all(streams.map((s) => s.waitFor(2)));
    const third = await fetch(`http://127.0.0.1:${small.port}/api/stream`);
    const body = (await third.json()) as { error: { code: string } };
    assert.equal(third.status, 503);
    assert.equal(body.error.code, 'ERR_TOO_MANY_STREAMS');
    await small.close();
    await Promise.all(streams.map((s) => s.ended));
    assert.ok(
      streams.every((s) => s.res.complete),
      'each stream ended cleanly by the server',
    );
  });
});
