import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import { ErrorCodes } from '../../src/lib/errors.js';
import { createServerCertificate, type PemPair } from '../../src/pki/dev-authority.js';
import { getTestPki, type TestPki } from '../helpers/certs.js';
import { connectTcp, readAll, tcpGet } from '../helpers/clients.js';
import { startTestProxy, type TestProxy } from '../helpers/proxy-harness.js';

const DAY_MS = 86_400_000;

/** What a TLS upstream saw of one handshake from Switchyard. */
interface SeenHandshake {
  /** CN of the client certificate Switchyard showed. */
  cn: string;
  /** Whether Switchyard resumed an earlier session. */
  reused: boolean;
  /** The SNI Switchyard sent, false for none. */
  servername: string | false;
}

/** An upstream that terminates mutual TLS and answers any GET with its name. */
interface TlsUpstream {
  name: string;
  address: string;
  seen: SeenHandshake[];
  close(): Promise<void>;
}

async function startTlsUpstream(
  name: string,
  pair: PemPair,
  clientCa: string,
  host = '127.0.0.1',
): Promise<TlsUpstream> {
  const sockets = new Set<Socket>();
  const seen: SeenHandshake[] = [];
  const server: Server = createServer(
    { cert: pair.cert, key: pair.key, ca: clientCa, requestCert: true, rejectUnauthorized: true },
    (socket: TLSSocket) => {
      seen.push({
        cn: String(socket.getPeerCertificate().subject?.CN ?? ''),
        reused: socket.isSessionReused(),
        servername: (socket as TLSSocket & { servername: string | false }).servername,
      });
      socket.on('error', () => {});
      let text = '';
      socket.on('data', (chunk: Buffer) => {
        text += chunk.toString('latin1');
        if (!text.includes('\r\n\r\n')) return;
        socket.end(
          `HTTP/1.1 200 OK\r\nContent-Length: ${name.length + 1}\r\nConnection: close\r\n\r\n${name}\n`,
        );
      });
    },
  );
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as { port: number }).port;
  return {
    name,
    address: `${host}:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A TLS upstream behind a PROXY protocol v1 line read in the clear, as NGINX's `ssl proxy_protocol` reads it. */
async function startProxiedTlsUpstream(
  pair: PemPair,
  clientCa: string,
): Promise<{ address: string; headers: string[]; close(): Promise<void> }> {
  const headers: string[] = [];
  const tls = createServer({ cert: pair.cert, key: pair.key, ca: clientCa, requestCert: true }, (socket) => {
    socket.on('error', () => {});
    socket.once('data', () => socket.end(`HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nproxied\n`));
  });
  tls.on('tlsClientError', () => {});
  const sockets = new Set<Socket>();
  const server = createNetServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let seen = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      seen = Buffer.concat([seen, chunk]);
      const end = seen.indexOf('\r\n');
      if (end < 0) return;
      socket.removeListener('data', onData);
      socket.pause();
      headers.push(seen.subarray(0, end).toString('latin1'));
      // what follows the line is the ClientHello: handed to the TLS server with the socket
      socket.unshift(seen.subarray(end + 2));
      tls.emit('connection', socket);
    };
    socket.on('data', onData);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${(server.address() as { port: number }).port}`,
    headers,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

async function eventually(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail(`timed out waiting for ${what}`);
}

describe('TLS to upstreams (groups.<name>.upstreamTls)', { timeout: 60_000 }, () => {
  let pki: TestPki;
  let t: TestProxy;
  let dir: string;
  let api: TlsUpstream;
  let resume: TlsUpstream;
  let otherName: TlsUpstream;
  let untrusted: TlsUpstream;
  let expired: TlsUpstream;
  let ipSan: TlsUpstream;
  let noIpSan: TlsUpstream;
  let reload: TlsUpstream;
  let picky: TlsUpstream;
  let proxied: Awaited<ReturnType<typeof startProxiedTlsUpstream>>;
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  before(async () => {
    pki = await getTestPki();
    dir = mkdtempSync(join(tmpdir(), 'switchyard-upstream-tls-'));
    const now = Date.now();
    const [apiCert, otherNameCert, otherCaCert, expiredCert, ipCert] = await Promise.all([
      createServerCertificate(pki.ca, { commonName: 'api.internal', dnsNames: ['api.internal'] }),
      createServerCertificate(pki.ca, { commonName: 'other.internal', dnsNames: ['other.internal'] }),
      createServerCertificate(pki.otherCa, { commonName: 'api.internal', dnsNames: ['api.internal'] }),
      createServerCertificate(pki.ca, {
        commonName: 'api.internal',
        dnsNames: ['api.internal'],
        notBefore: new Date(now - 30 * DAY_MS),
        notAfter: new Date(now - DAY_MS),
      }),
      createServerCertificate(pki.ca, { ipAddresses: ['127.0.0.2'] }),
    ]);
    // Every upstream requires a client certificate from the test CA: Switchyard shows client-a's.
    [api, resume, otherName, untrusted, expired, ipSan, noIpSan, reload] = await Promise.all([
      startTlsUpstream('api', apiCert, pki.ca.cert),
      startTlsUpstream('resume', apiCert, pki.ca.cert),
      startTlsUpstream('other-name', otherNameCert, pki.ca.cert),
      startTlsUpstream('untrusted', otherCaCert, pki.ca.cert),
      startTlsUpstream('expired', expiredCert, pki.ca.cert),
      startTlsUpstream('ip-san', ipCert, pki.ca.cert, '127.0.0.2'),
      // the default test certificate names 127.0.0.1 and ::1, not 127.0.0.2
      startTlsUpstream('no-ip-san', pki.server, pki.ca.cert, '127.0.0.2'),
      startTlsUpstream('reload', apiCert, pki.ca.cert),
    ]);
    // trusts only client certificates of the other CA: Switchyard's is refused
    picky = await startTlsUpstream('picky', apiCert, pki.otherCa.cert);
    proxied = await startProxiedTlsUpstream(apiCert, pki.ca.cert);
    const ca = file('ca.pem', pki.ca.cert);
    const cert = file('lb.pem', pki.groupA.cert);
    const key = file('lb.key', pki.groupA.key);
    const tls = { ca, serverName: 'api.internal', cert, key };
    const listeners = [
      'picky',
      'api',
      'resume',
      'mixed',
      'wrong-name',
      'untrusted',
      'expired',
      'ip',
      'ip-wrong',
      'reload',
    ];
    t = await startTestProxy({
      listeners: [
        ...listeners.map((name) => ({ name, bind: '127.0.0.1:0', group: name })),
        { name: 'proxied', bind: '127.0.0.1:0', group: 'proxied', proxyProtocol: 'v1' },
      ],
      groups: {
        api: { upstreams: [{ address: api.address, id: 'api' }], upstreamTls: tls },
        picky: { upstreams: [{ address: picky.address, id: 'picky' }], upstreamTls: tls },
        proxied: { upstreams: [{ address: proxied.address, id: 'proxied' }], upstreamTls: tls },
        resume: { upstreams: [{ address: resume.address, id: 'resume' }], upstreamTls: tls },
        mixed: {
          balancer: 'round-robin',
          passiveHealth: { consecutiveFailures: 1, baseEjectionTime: '1m', maxEjectionTime: '1m' },
          upstreams: [
            { address: otherName.address, id: 'other-name' },
            { address: api.address, id: 'api' },
          ],
          upstreamTls: tls,
        },
        'wrong-name': { upstreams: [{ address: otherName.address, id: 'other-name' }], upstreamTls: tls },
        untrusted: { upstreams: [{ address: untrusted.address, id: 'untrusted' }], upstreamTls: tls },
        expired: { upstreams: [{ address: expired.address, id: 'expired' }], upstreamTls: tls },
        // no serverName: the IP address is the name, checked against the certificate's IP SANs
        ip: { upstreams: [{ address: ipSan.address, id: 'ip-san' }], upstreamTls: { ca, cert, key } },
        'ip-wrong': {
          upstreams: [{ address: noIpSan.address, id: 'no-ip-san' }],
          upstreamTls: { ca, cert, key },
        },
        reload: {
          upstreams: [{ address: reload.address, id: 'reload' }],
          upstreamTls: { ...tls, ca: file('reload-ca.pem', pki.ca.cert) },
        },
      },
      connect: { attempts: 2 },
      reload: { interval: '50ms' },
    });
  });

  after(async () => {
    await t.stop();
    await Promise.all(
      [api, resume, otherName, untrusted, expired, ipSan, noIpSan, reload, picky, proxied].map((u) =>
        u.close(),
      ),
    );
  });

  /** A GET through `listener` that is refused: the client sees a clean close, and the record its code. */
  async function refused(listener: string): Promise<string> {
    const from = t.records.length;
    const socket = await connectTcp(t.port(listener));
    const reply = readAll(socket);
    socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const { text, errored } = await reply;
    assert.equal(text, '', 'nothing from an upstream');
    assert.equal(errored, false, 'closed with a FIN, not a reset');
    const rec = await t.record((r) => r.listener === listener, from);
    return rec.termination;
  }

  it('reaches a mutual TLS upstream from a plain TCP client, verified by name, with its client certificate', async () => {
    const from = t.records.length;
    assert.equal(await tcpGet(t.port('api')), 'api');
    const rec = await t.record((r) => r.listener === 'api', from);
    assert.equal(rec.termination, 'OK');
    const hs = api.seen.at(-1)!;
    assert.equal(hs.cn, 'client-a', "the upstream saw Switchyard's client certificate");
    assert.equal(hs.servername, 'api.internal', 'SNI carries serverName');
  });

  it('resumes the session on the next connection to the same upstream', async () => {
    assert.equal(await tcpGet(t.port('resume')), 'resume');
    assert.equal(await tcpGet(t.port('resume')), 'resume');
    assert.equal(resume.seen.length, 2);
    assert.equal(resume.seen[0].reused, false, 'the first handshake is a full one');
    assert.equal(resume.seen[1].reused, true, 'the second resumes the first');
    assert.equal(resume.seen[1].cn, 'client-a', 'a resumed session still carries the client certificate');
  });

  it('fails a certificate for another name with ERR_UPSTREAM_TLS_NAME, counts it, and retries on the next upstream', async () => {
    const from = t.records.length;
    const wrong = t.proxy.runtime.groups.get('mixed')!.get('other-name')!;
    for (let i = 0; i < 4; i++) assert.equal(await tcpGet(t.port('mixed')), 'api', `request ${i}`);
    const records = t.records.slice(from).filter((r) => r.listener === 'mixed');
    assert.ok(records.every((r) => r.termination === 'OK' && r.upstream === 'api'));
    assert.ok(wrong.failures > 0, 'counted as a failed connect of that upstream');
    assert.equal(wrong.ejected, true, 'passive health ejected it after one failure');
    const warned = t.logger.lines.filter(
      (l) => l.message === 'upstream connect failed' && l.fields.group === 'mixed',
    );
    assert.ok(warned.length > 0);
    assert.ok(warned.every((l) => l.fields.reason === ErrorCodes.ERR_UPSTREAM_TLS_NAME));
  });

  it('closes the client cleanly with ERR_UPSTREAM_TLS_NAME when no upstream has the right name', async () => {
    assert.equal(await refused('wrong-name'), ErrorCodes.ERR_UPSTREAM_TLS_NAME);
    assert.ok(t.proxy.stats('wrong-name').rejected(ErrorCodes.ERR_UPSTREAM_TLS_NAME) >= 1);
    assert.equal(otherName.seen.length, 0, 'no handshake completed with the wrong upstream');
  });

  it('refuses a certificate from an untrusted CA with ERR_UPSTREAM_TLS_UNTRUSTED', async () => {
    assert.equal(await refused('untrusted'), ErrorCodes.ERR_UPSTREAM_TLS_UNTRUSTED);
  });

  it('refuses an expired certificate with ERR_UPSTREAM_TLS_EXPIRED', async () => {
    assert.equal(await refused('expired'), ErrorCodes.ERR_UPSTREAM_TLS_EXPIRED);
  });

  it('verifies an IP-address upstream against the IP SANs and sends no SNI', async () => {
    assert.equal(await tcpGet(t.port('ip')), 'ip-san');
    assert.equal(ipSan.seen.at(-1)!.servername, false, 'no IP literal in SNI (RFC 6066)');
    assert.equal(await refused('ip-wrong'), ErrorCodes.ERR_UPSTREAM_TLS_NAME);
  });

  it('sends the PROXY protocol header in the clear before the handshake', async () => {
    const socket = await connectTcp(t.port('proxied'));
    const sourcePort = socket.localPort;
    const reply = readAll(socket);
    socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.match((await reply).text, /proxied\n$/);
    assert.equal(proxied.headers.length, 1);
    assert.match(proxied.headers[0], /^PROXY TCP4 127\.0\.0\.1 127\.0\.0\.1 \d+ \d+$/);
    assert.ok(proxied.headers[0].endsWith(` ${sourcePort} ${t.port('proxied')}`), proxied.headers[0]);
  });

  // A known limit of TLS 1.3 (documented): the server judges the client certificate after the
  // client's handshake is done, and Node's server then closes without an alert the client reads.
  it('an upstream refusing the client certificate on TLS 1.3 closes the session as it starts, cleanly', async () => {
    assert.equal(await refused('picky'), 'OK');
    assert.equal(picky.seen.length, 0, 'the upstream accepted no connection');
  });

  it('applies a changed CA file to new connections, without resuming the old sessions', async () => {
    assert.equal(await tcpGet(t.port('reload')), 'reload');
    const before = t.proxy.runtime.upstreamTls!.get('reload')!;
    const up = t.proxy.runtime.groups.get('reload')!.get('reload')!;
    assert.equal(before.hasSession(up), true, 'a session to resume is kept');
    writeFileSync(join(dir, 'reload-ca.pem'), pki.otherCa.cert);
    await eventually(() => t.proxy.runtime.upstreamTls!.get('reload') !== before, 'the watcher to reload');
    assert.equal(await refused('reload'), ErrorCodes.ERR_UPSTREAM_TLS_UNTRUSTED);
    writeFileSync(join(dir, 'reload-ca.pem'), pki.ca.cert);
    await eventually(
      () => t.logger.lines.filter((l) => l.message.startsWith('upstream TLS files reloaded')).length >= 2,
      'the second reload',
    );
    assert.equal(await tcpGet(t.port('reload')), 'reload');
  });
});
