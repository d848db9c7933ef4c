import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { parseConfigText } from '../../src/config/load-config.js';
import type { SwitchyardConfig } from '../../src/config/types.js';
import { getTestPki, type TestPki, type TestPkiPaths } from '../helpers/certs.js';
import { tlsGet, until } from '../helpers/clients.js';
import { startTestProxy, type TestProxy, testPkiFiles, testTlsBlock } from '../helpers/proxy-harness.js';
import {
  type MutualTlsUpstream,
  startMutualTlsUpstream,
  startNamedHttpUpstream,
  type TestUpstream,
} from '../helpers/upstreams.js';

/** A bare listening port to point a health check at, closable on its own. */
async function healthPort(): Promise<Server> {
  const server = createServer((s) => s.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return server;
}
const portOf = (s: Server) => (s.address() as { port: number }).port;
const closeServer = (s: Server) => new Promise<void>((resolve) => s.close(() => resolve()));

describe('health checks per upstream, and TLS checks with a client certificate', { timeout: 60_000 }, () => {
  let pki: TestPki;
  let files: TestPkiPaths;
  let a: TestUpstream;
  let b: TestUpstream;
  let mtls: MutualTlsUpstream;
  let aHealth: Server;
  let dir: string;
  let base: Record<string, unknown>;
  let t: TestProxy;

  // Fast and decisive: every check result counts at once, so tests wait on checks, not on time.
  const fast = { interval: '50ms', timeout: '1s', rise: 1, fall: 1, jitter: 0 };

  before(async () => {
    pki = await getTestPki();
    files = await testPkiFiles();
    [a, b] = await Promise.all([startNamedHttpUpstream('A'), startNamedHttpUpstream('B')]);
    // The upstream requires a client certificate from the test CA, and shows the test server certificate.
    mtls = await startMutualTlsUpstream('M', { cert: pki.server.cert, key: pki.server.key, ca: pki.ca.cert });
    aHealth = await healthPort();
    dir = mkdtempSync(join(tmpdir(), 'switchyard-hc-'));
    // A client certificate the upstream does not trust, in files the watch test rewrites.
    copyFileSync(files.untrusted.certPath, join(dir, 'rotating.pem'));
    copyFileSync(files.untrusted.keyPath, join(dir, 'rotating.key'));
    const clientA = { cert: files.groupA.certPath, key: files.groupA.keyPath };
    base = {
      listeners: [
        {
          name: 'edge',
          bind: '127.0.0.1:0',
          tls: await testTlsBlock(),
          routes: [{ org: '*', group: 'solo' }],
        },
      ],
      groups: {
        // No group check: only A, which has its own (on a separate port), is checked.
        solo: {
          balancer: 'round-robin',
          upstreams: [
            { address: a.address, id: 'A', healthCheck: { ...fast, port: portOf(aHealth) } },
            { address: b.address, id: 'B' },
          ],
        },
        mixed: {
          healthCheck: { ...fast, type: 'http', path: '/' },
          upstreams: [
            { address: a.address, id: 'http' },
            {
              address: b.address,
              id: 'wrong-reply',
              healthCheck: { type: 'send-expect', send: 'GET / HTTP/1.0\r\n\r\n', expect: 'nope' },
            },
          ],
        },
        mtls: {
          // Verified against the test CA; the client certificate comes per upstream.
          healthCheck: { ...fast, type: 'tls', initialState: 'unhealthy', tls: { ca: files.caPath } },
          upstreams: [
            { address: mtls.address, id: 'with-cert', healthCheck: { tls: clientA } },
            { address: mtls.address, id: 'without' },
            {
              address: mtls.address,
              id: 'other-ca',
              healthCheck: { tls: { cert: files.untrusted.certPath, key: files.untrusted.keyPath } },
            },
            {
              address: mtls.address,
              id: 'wrong-name',
              healthCheck: { tls: { ...clientA, servername: 'example.com' } },
            },
            { address: mtls.address, id: 'https', healthCheck: { type: 'http', path: '/', tls: clientA } },
            {
              address: mtls.address,
              id: 'rotating',
              healthCheck: { tls: { cert: join(dir, 'rotating.pem'), key: join(dir, 'rotating.key') } },
            },
          ],
        },
      },
      reload: { interval: '50ms' },
    };
    t = await startTestProxy(base);
  });

  after(async () => {
    await t.stop();
    await Promise.all([a.close(), b.close(), mtls.close()]);
    if (aHealth.listening) await closeServer(aHealth);
  });

  const status = (group: string, id: string) => t.manager.healthStatus(group, id)?.active;
  const upstream = (group: string, id: string) => t.proxy.runtime.groups.get(group)!.get(id)!;
  const checked = (group: string, id: string, n: number) => (status(group, id)?.checks ?? 0) >= n;
  const get = () => tlsGet({ port: t.port('edge'), ca: pki.ca.cert, client: pki.groupA });

  it('checks only the upstream with a check of its own when its group has none', async () => {
    await until(() => status('solo', 'A')?.lastResult === 'success', 'A checked on its health port');
    assert.equal(status('solo', 'B'), undefined, 'B is not checked');
    await closeServer(aHealth);
    await until(() => !upstream('solo', 'A').healthy, 'A marked unhealthy');
    for (let i = 0; i < 4; i++) assert.equal(await get(), 'B');
    assert.equal(upstream('solo', 'B').healthy, true);
    assert.equal(status('solo', 'B'), undefined);
  });

  it('lets an upstream change the type of its group check', async () => {
    await until(
      () => checked('mixed', 'http', 2) && checked('mixed', 'wrong-reply', 2),
      'both upstreams checked twice',
    );
    assert.equal(status('mixed', 'http')?.lastResult, 'success');
    assert.equal(upstream('mixed', 'http').healthy, true);
    const wrong = status('mixed', 'wrong-reply');
    assert.equal(wrong?.lastFailure, 'response');
    assert.match(wrong?.lastError ?? '', /did not contain "nope"/);
    assert.equal(upstream('mixed', 'wrong-reply').healthy, false);
  });

  it('brings a TLS check up with a client certificate the upstream trusts; without one it stays down', async () => {
    await until(
      () => upstream('mtls', 'with-cert').healthy && upstream('mtls', 'https').healthy,
      'the checks with a trusted client certificate pass',
    );
    assert.equal(status('mtls', 'https')?.lastResult, 'success', 'an HTTPS check with the certificate');
    for (const id of ['without', 'other-ca', 'wrong-name']) {
      await until(() => checked('mtls', id, 3), `three checks of ${id}`);
      assert.equal(upstream('mtls', id).healthy, false, `${id} stays down`);
      assert.equal(status('mtls', id)?.consecutiveSuccesses, 0, `${id} never passed`);
      assert.equal(status('mtls', id)?.lastFailure, 'tls', id);
    }
    // The upstream refused the handshakes without a certificate it trusts; the name check is ours.
    assert.match(status('mtls', 'wrong-name')?.lastError ?? '', /example\.com/);
    assert.ok(mtls.refused > 0 && mtls.accepted > 0);
  });

  it('re-reads a health check client certificate rotated on disk and checks with it', async () => {
    await until(() => checked('mtls', 'rotating', 2), 'the untrusted certificate was tried');
    assert.equal(upstream('mtls', 'rotating').healthy, false);
    // Atomic renames, key first: in between, the pair does not match and is refused.
    writeFileSync(join(dir, 'next.key'), pki.groupA.key);
    writeFileSync(join(dir, 'next.pem'), pki.groupA.cert);
    renameSync(join(dir, 'next.key'), join(dir, 'rotating.key'));
    renameSync(join(dir, 'next.pem'), join(dir, 'rotating.pem'));
    await until(() => upstream('mtls', 'rotating').healthy, 'the rotated certificate is used');
    assert.ok(t.logger.lines.some((l) => l.message === 'health check certificates reloaded'));
  });

  it('applies changed checks on reload: a dropped check returns its upstream, a new certificate brings one up', async () => {
    assert.equal(upstream('solo', 'A').healthy, false, 'left down by the first test');
    const groups = base.groups as Record<string, { upstreams: Record<string, unknown>[] }>;
    const next = {
      ...base,
      groups: {
        ...groups,
        solo: {
          ...groups.solo,
          upstreams: [
            { address: a.address, id: 'A' },
            { address: b.address, id: 'B' },
          ],
        },
        mtls: {
          ...groups.mtls,
          upstreams: groups.mtls.upstreams.map((u) =>
            u.id === 'without'
              ? { ...u, healthCheck: { tls: { cert: files.groupB.certPath, key: files.groupB.keyPath } } }
              : u,
          ),
        },
      },
    };
    // A file that cannot be read refuses the whole reload, naming the key that names it.
    const missing = join(dir, 'missing.pem');
    const broken = structuredClone(next);
    broken.groups.mtls.upstreams[1] = {
      ...broken.groups.mtls.upstreams[1],
      healthCheck: { tls: { cert: missing, key: files.groupB.keyPath } },
    };
    const refused = await t.manager.reload(parseConfigText(stringify(broken), join(dir, 'lb.yaml')));
    assert.equal(refused.ok, false);
    assert.ok(
      !refused.ok && refused.error.startsWith('groups.mtls.upstreams[1].healthCheck.tls.cert: cannot read'),
    );
    assert.ok(status('solo', 'A') !== undefined, 'nothing changed: A is still checked');

    const config: SwitchyardConfig = parseConfigText(stringify(next), join(dir, 'lb.yaml'));
    const result = await t.manager.reload(config);
    assert.ok(result.ok, JSON.stringify(result));
    assert.ok(result.changes.includes('upstream solo/A health check updated'), result.changes.join('; '));
    assert.ok(
      result.changes.includes('upstream mtls/without health check updated'),
      result.changes.join('; '),
    );

    // Nobody checks A any more, so nothing would ever bring it back but the reload itself.
    assert.equal(upstream('solo', 'A').healthy, true);
    assert.equal(status('solo', 'A'), undefined);
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) seen.add(await get());
    assert.deepEqual([...seen].sort(), ['A', 'B']);

    await until(() => upstream('mtls', 'without').healthy, 'without, now with a certificate, goes up');
  });
});
