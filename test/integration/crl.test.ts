import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';
import { stringify } from 'yaml';
import { parseConfigText } from '../../src/config/load-config.js';
import { ErrorCodes, hasCode } from '../../src/lib/errors.js';
import type { PemPair } from '../../src/pki/dev-authority.js';
import { buildRuntime } from '../../src/runtime/build-runtime.js';
import { getTestPki, type TestPki } from '../helpers/certs.js';
import { httpGet, tlsGet, until } from '../helpers/clients.js';
import { createCrl } from '../helpers/crl.js';
import { startTestProxy, type TestProxy, testTlsBlock } from '../helpers/proxy-harness.js';
import { startNamedHttpUpstream, type TestUpstream } from '../helpers/upstreams.js';

/** A mutual TLS connection that also hands back the session ticket the proxy sends, or resumes one. */
async function connectWithSession(
  port: number,
  ca: string,
  client: PemPair,
  session?: Buffer,
): Promise<{ socket: TLSSocket; ticket: Promise<Buffer> }> {
  const socket = tlsConnect({
    host: '127.0.0.1',
    port,
    ca,
    cert: client.cert,
    key: client.key,
    servername: 'localhost',
    session,
  });
  // Listening from the start: TLS 1.3 tickets arrive after the handshake, and Node only asks
  // OpenSSL for them when someone listens.
  const ticket = new Promise<Buffer>((resolve) => socket.once('session', resolve));
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', () => resolve());
    socket.once('error', reject);
  });
  return { socket, ticket };
}

describe('certificate revocation lists on a mutual TLS listener', { timeout: 60_000 }, () => {
  let pki: TestPki;
  let a: TestUpstream;
  let b: TestUpstream;
  let dir: string;
  let crlPath: string;
  let t: TestProxy;

  const routes = [{ org: '*', group: '{org}' }];
  const groups = (): Record<string, unknown> => ({
    groupA: { upstreams: [{ address: a.address, id: 'A' }] },
    groupB: { upstreams: [{ address: b.address, id: 'B' }] },
  });

  before(async () => {
    pki = await getTestPki();
    [a, b] = await Promise.all([startNamedHttpUpstream('A'), startNamedHttpUpstream('B')]);
    dir = mkdtempSync(join(tmpdir(), 'switchyard-crl-'));
    crlPath = join(dir, 'ca.crl');
    writeFileSync(crlPath, await createCrl(pki.ca, [pki.groupA]));
    t = await startTestProxy({
      listeners: [
        { name: 'edge', bind: '127.0.0.1:0', tls: { ...(await testTlsBlock()), crl: crlPath }, routes },
      ],
      groups: groups(),
      reload: { interval: '50ms' },
    });
  });

  after(async () => {
    await t.stop();
    await Promise.all([a.close(), b.close()]);
  });

  const get = (client: PemPair, port = t.port('edge')) => tlsGet({ port, ca: pki.ca.cert, client });

  it('refuses the revoked client with ERR_CERT_UNTRUSTED, counted and logged, and serves another of the same CA', async () => {
    const stats = t.proxy.listener('edge').stats;
    const from = t.records.length;
    assert.equal(await get(pki.groupA), '');
    // Refused during the handshake (alert certificate_revoked): no session, no upstream.
    assert.equal(t.records.length, from);
    assert.equal(a.accepted, 0, 'no upstream was reached');
    assert.equal(stats.rejected(ErrorCodes.ERR_CERT_UNTRUSTED), 1);
    const line = t.logger.lines.find(
      (l) => l.message === 'connection refused' && l.fields.reason === ErrorCodes.ERR_CERT_UNTRUSTED,
    );
    assert.equal(line?.level, 'warn');
    assert.equal(line?.fields.detail, 'CERT_REVOKED');

    assert.equal(await get(pki.groupB), 'B');
    assert.equal(stats.rejected(ErrorCodes.ERR_CERT_UNTRUSTED), 1, 'the unrevoked client was not counted');
  });

  it('applies a rewritten CRL to new handshakes once the watcher sees it, and a saved session does not get round it', async () => {
    // A session of client-b from before the change, to try to resume once client-b is revoked.
    const before = await connectWithSession(t.port('edge'), pki.ca.cert, pki.groupB);
    // The ticket is read with the reply: nothing is read from a socket nobody reads.
    assert.equal(await httpGet(before.socket), 'B');
    const saved = await before.ticket;

    const reloads = () => t.logger.lines.filter((l) => l.message.startsWith('certificates reloaded')).length;
    const seen = reloads();
    writeFileSync(crlPath, await createCrl(pki.ca, [pki.groupA, pki.groupB]));
    await until(() => reloads() > seen, 'the certificate watcher re-read the CRL');

    const stats = t.proxy.listener('edge').stats;
    const refusedBefore = stats.rejected(ErrorCodes.ERR_CERT_UNTRUSTED);
    assert.equal(await get(pki.groupB), '');
    assert.equal(await get(pki.groupA), '');

    const resumed = await connectWithSession(t.port('edge'), pki.ca.cert, pki.groupB, saved);
    assert.equal(resumed.socket.isSessionReused(), false, 'new material, new ticket keys: a full handshake');
    assert.equal(await httpGet(resumed.socket), '');
    // A session is counted as it ends, which may be just after the client saw the close.
    await until(
      () => stats.rejected(ErrorCodes.ERR_CERT_UNTRUSTED) === refusedBefore + 3,
      'three refusals counted',
    );
  });

  it('keeps the list in force when the rewritten file is empty or does not parse', async () => {
    const refusals = () =>
      t.logger.lines.filter((l) => l.message.startsWith('certificate reload refused')).length;
    // Empty is what the watcher may see between the truncate and the write of an in-place rewrite.
    for (const text of ['', '-----BEGIN X509 CRL-----\nbm90IGEgQ1JM\n-----END X509 CRL-----\n']) {
      const seen = refusals();
      writeFileSync(crlPath, text);
      assert.equal(await t.manager.reloadCertificates('edge'), false);
      assert.ok(refusals() > seen, 'the refusal is logged');
      assert.equal(await get(pki.groupB), '', 'client-b is still revoked');
    }
    const reloads = () => t.logger.lines.filter((l) => l.message.startsWith('certificates reloaded')).length;
    const seen = reloads();
    writeFileSync(crlPath, await createCrl(pki.ca, [pki.groupA]));
    await until(() => reloads() > seen, 'the watcher took the good list');
    assert.equal(await get(pki.groupB), 'B');
  });

  it('re-reads the CRL on a reload when files are not watched: un-revoking serves the client again', async () => {
    const path = join(dir, 'unwatched.crl');
    writeFileSync(path, await createCrl(pki.ca, [pki.groupA]));
    const config = {
      listeners: [
        { name: 'still', bind: '127.0.0.1:0', tls: { ...(await testTlsBlock()), crl: path }, routes },
      ],
      groups: groups(),
      reload: { watchCertificates: false },
    };
    const u = await startTestProxy(config);
    try {
      const port = u.port('still');
      assert.equal(await get(pki.groupA, port), '');
      assert.equal(await get(pki.groupB, port), 'B');

      // Revoke client-b instead of client-a. Nothing watches the file, so nothing changes yet.
      writeFileSync(path, await createCrl(pki.ca, [pki.groupB]));
      assert.equal(await get(pki.groupA, port), '');

      const result = await u.manager.reload(parseConfigText(stringify(config), join(dir, 'lb.yaml')));
      assert.equal(result.ok, true);
      assert.equal(await get(pki.groupA, port), 'A');
      assert.equal(await get(pki.groupB, port), '');
      const stats = u.proxy.listener('still').stats;
      // client-a twice before the reload, client-b once after; counted as each handshake is refused.
      assert.equal(stats.rejected(ErrorCodes.ERR_CERT_UNTRUSTED), 3);
    } finally {
      await u.stop();
    }
  });

  it('refuses to start with a CRL or client CA file that holds none, naming the key', async () => {
    const files = await testTlsBlock();
    const empty = join(dir, 'empty.pem');
    writeFileSync(empty, '');
    const cases = [
      [{ ...files, crl: empty }, 'crl: the CRL file holds no PEM CRL'],
      [{ ...files, crl: crlPath, clientCa: empty }, 'clientCa: the client CA file holds no PEM certificate'],
    ] as const;
    for (const [tls, why] of cases) {
      const config = parseConfigText(
        stringify({ listeners: [{ name: 'edge', bind: '127.0.0.1:0', tls, routes }], groups: groups() }),
        join(dir, 'lb.yaml'),
      );
      await assert.rejects(buildRuntime(config), (err: Error) => {
        assert.ok(hasCode(err, ErrorCodes.ERR_CONFIG_READ));
        assert.match(err.message, new RegExp(`^listeners\\[0\\]\\.tls\\.${why}`));
        return true;
      });
    }
  });
});
