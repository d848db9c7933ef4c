import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TLSSocket } from 'node:tls';
import { createMetrics } from '../../src/control/metrics.js';
import { type ErrorCode, ErrorCodes } from '../../src/lib/errors.js';
import { getTestPki, type TestPki } from '../helpers/certs.js';
import { connectTls, httpGet, readAll, type TlsClientOptions } from '../helpers/clients.js';
import { createCrl } from '../helpers/crl.js';
import { startOpensslClient } from '../helpers/openssl-client.js';
import { startTestProxy, type TestProxy, testPkiFiles, testTlsBlock } from '../helpers/proxy-harness.js';
import { installed, itWith, OPENSSL } from '../helpers/system-tools.js';
import { startNamedHttpUpstream, type TestUpstream } from '../helpers/upstreams.js';

const HAVE_OPENSSL = await installed(OPENSSL);

/**
 * Connects and reads until the connection closes; resolves with the error code the client saw
 * ('' for a clean close). TLS 1.2 sees the alert before its handshake is done, TLS 1.3 right after.
 */
async function clientError(o: TlsClientOptions): Promise<string> {
  let socket: TLSSocket;
  try {
    socket = await connectTls(o);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? String(err);
  }
  socket.write('GET / HTTP/1.1\r\nHost: switchyard\r\n\r\n');
  const reply = await readAll(socket);
  return reply.errorCode ?? '';
}

/** Connects, keeps the session the proxy hands out, and GETs. */
async function getWithSession(
  o: TlsClientOptions,
): Promise<{ body: string; reused: boolean; session: Promise<Buffer> }> {
  const socket = await connectTls(o);
  // A TLS 1.2 session is there once the handshake is; TLS 1.3 tickets arrive after it, and Node asks
  // OpenSSL for them only while someone listens.
  const session =
    socket.getProtocol() === 'TLSv1.2'
      ? Promise.resolve(socket.getSession()!)
      : new Promise<Buffer>((resolve) => socket.once('session', resolve));
  const reused = socket.isSessionReused();
  const body = await httpGet(socket);
  return { body, reused, session };
}

describe('mTLS refusals during the handshake: TLS alerts and reason codes', { timeout: 60_000 }, () => {
  let pki: TestPki;
  let upstream: TestUpstream;
  let t: TestProxy;

  before(async () => {
    pki = await getTestPki();
    upstream = await startNamedHttpUpstream('A');
    const crlPath = join(mkdtempSync(join(tmpdir(), 'switchyard-alerts-')), 'ca.crl');
    // multiOrg stands for a revoked client; groupA stays valid.
    writeFileSync(crlPath, await createCrl(pki.ca, [pki.multiOrg]));
    t = await startTestProxy({
      listeners: [
        {
          name: 'edge',
          bind: '127.0.0.1:0',
          tls: { ...(await testTlsBlock()), crl: crlPath },
          routes: [{ org: 'groupA', group: 'groupA' }],
        },
      ],
      groups: { groupA: { upstreams: [{ address: upstream.address, id: 'A' }] } },
    });
  });

  after(async () => {
    await t.stop();
    await upstream.close();
  });

  const cases: [string, keyof TestPki | undefined, ErrorCode, 'TLSv1.3' | 'TLSv1.2', string][] = [
    ['untrusted CA', 'untrusted', ErrorCodes.ERR_CERT_UNTRUSTED, 'TLSv1.3', 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA'],
    ['untrusted CA', 'untrusted', ErrorCodes.ERR_CERT_UNTRUSTED, 'TLSv1.2', 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA'],
    [
      'no certificate',
      undefined,
      ErrorCodes.ERR_NO_CLIENT_CERT,
      'TLSv1.3',
      'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
    ],
    [
      'no certificate',
      undefined,
      ErrorCodes.ERR_NO_CLIENT_CERT,
      'TLSv1.2',
      'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE',
    ],
    ['expired', 'expired', ErrorCodes.ERR_CERT_EXPIRED, 'TLSv1.3', 'ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED'],
    ['expired', 'expired', ErrorCodes.ERR_CERT_EXPIRED, 'TLSv1.2', 'ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED'],
    [
      'revoked',
      'multiOrg',
      ErrorCodes.ERR_CERT_UNTRUSTED,
      'TLSv1.3',
      'ERR_SSL_SSLV3_ALERT_CERTIFICATE_REVOKED',
    ],
    [
      'revoked',
      'multiOrg',
      ErrorCodes.ERR_CERT_UNTRUSTED,
      'TLSv1.2',
      'ERR_SSL_SSLV3_ALERT_CERTIFICATE_REVOKED',
    ],
  ];
  for (const [what, client, code, version, alert] of cases) {
    it(`${what} on ${version}: the client gets ${alert}; counted and logged as ${code}`, async () => {
      const stats = t.proxy.stats('edge');
      const counted = stats.rejected(code);
      const sessions = t.records.length;
      const logged = t.logger.lines.length;
      const seen = await clientError({
        port: t.port(),
        ca: pki.ca.cert,
        client: client === undefined ? undefined : pki[client],
        maxVersion: version,
      });
      assert.equal(sameAlert(seen), sameAlert(alert), `${seen} is the alert ${alert}`);
      assert.equal(stats.rejected(code), counted + 1);
      assert.equal(t.records.length, sessions, 'refused in the handshake: no session was started');
      assert.equal(upstream.accepted, 0);
      // Refusals before a session are logged at most once a second per reason; the first one here is.
      const line = t.logger.lines.slice(logged).find((l) => l.message === 'connection refused');
      if (line !== undefined) assert.equal(line.fields.reason, code);
    });
  }

  it("logs each refusal as a connection refused line with OpenSSL's error, and exports the reasons", async () => {
    const refusals = t.logger.lines.filter((l) => l.message === 'connection refused');
    const byReason = new Map(refusals.map((l) => [l.fields.reason, l.fields.detail]));
    assert.equal(byReason.get(ErrorCodes.ERR_CERT_EXPIRED), 'CERT_HAS_EXPIRED');
    assert.equal(byReason.get(ErrorCodes.ERR_NO_CLIENT_CERT), '');
    assert.match(
      String(byReason.get(ErrorCodes.ERR_CERT_UNTRUSTED)),
      /^(UNABLE_TO_VERIFY_LEAF_SIGNATURE|CERT_REVOKED)$/,
    );
    assert.ok(refusals.every((l) => l.level === 'warn'));

    const text = await createMetrics(t.proxy, { processMetrics: false }).render();
    const stats = t.proxy.stats('edge');
    for (const code of [
      ErrorCodes.ERR_CERT_UNTRUSTED,
      ErrorCodes.ERR_NO_CLIENT_CERT,
      ErrorCodes.ERR_CERT_EXPIRED,
    ]) {
      assert.ok(
        text.includes(
          `switchyard_rejections_total{listener="edge",reason="${code}"} ${stats.rejected(code)}`,
        ),
        `${code} in ${text}`,
      );
    }
    assert.ok(
      !text.includes('reason="ERR_TLS_HANDSHAKE"'),
      'certificate refusals are not generic handshake failures',
    );
  });

  itWith(
    OPENSSL,
    HAVE_OPENSSL,
    'openssl s_client sees the alert for an untrusted certificate, not an open connection',
    {},
    async () => {
      const files = await testPkiFiles();
      const run = await startOpensslClient(t.port(), files.caPath, files.untrusted).result;
      assert.notEqual(run.exit, 0);
      assert.match(run.stderr, /alert unknown ca/);
      assert.match(run.stderr, /SSL alert number 48/);
      assert.doesNotMatch(run.stdout, /CONNECTION ESTABLISHED/);
      assert.doesNotMatch(run.stdout, /^closed$/m);
    },
  );

  it('a valid certificate without a route completes the handshake and is closed with close_notify', async () => {
    const files = await testPkiFiles();
    const from = t.records.length;
    const run = await startOpensslClient(t.port(), files.caPath, files.intruder).result;
    assert.equal(run.exit, 0, run.stderr);
    assert.match(run.stdout, /^closed$/m);
    assert.doesNotMatch(run.stderr, /alert|unexpected eof/);
    const record = await t.record((r) => r.clientId === 'mallory', from);
    assert.equal(record.termination, ErrorCodes.ERR_UNAUTHORIZED_ORG);
    assert.equal(await clientError({ port: t.port(), ca: pki.ca.cert, client: pki.intruder }), '');
  });

  for (const version of ['TLSv1.3', 'TLSv1.2'] as const) {
    it(`a good client is served and resumes its TLS session on ${version}`, async () => {
      const o = { port: t.port(), ca: pki.ca.cert, client: pki.groupA, maxVersion: version };
      const first = await getWithSession(o);
      assert.equal(first.body, 'A');
      const again = await getWithSession({ ...o, session: await first.session });
      assert.equal(again.reused, true);
      assert.equal(again.body, 'A');
    });
  }
});

/**
 * OpenSSL names the alerts of the SSLv3 set `SSLV3_ALERT_*` up to 3.0 and `SSL/TLS_ALERT_*` in the
 * 3.x that Node 22 and 24 bundle: the same alert on the wire, so both names count as one.
 */
function sameAlert(code: string | undefined): string | undefined {
  return code?.replace('ERR_SSL_SSL/TLS_ALERT_', 'ERR_SSL_SSLV3_ALERT_');
}
