import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  type ConnectionOptions,
  createServer as createTlsServer,
  type TLSSocket,
  connect as tlsConnect,
} from 'node:tls';
import { stringify } from 'yaml';
import { parseConfigText } from '../../src/config/load-config.js';
import { type ErrorCode, ErrorCodes } from '../../src/lib/errors.js';
import { createServerCertificate } from '../../src/pki/dev-authority.js';
import { proxyHeaderV1 } from '../../src/proxy/proxy-header.js';
import { getTestPki, type TestPki } from '../helpers/certs.js';
import { clientHello, inRecords } from '../helpers/client-hello.js';
import { connectTcp, until } from '../helpers/clients.js';
import { startTestProxy, type TestProxy } from '../helpers/proxy-harness.js';

// Upstreams that terminate TLS themselves, each with its own certificate for its own names; the
// balancer has no certificate at all, so a client that verifies the upstream's certificate end to
// end proves the bytes went through untouched.

interface TlsUpstream {
  port: number;
  close(): Promise<void>;
}

/** A TLS server that answers each connection with its name, the SNI it saw and the ALPN agreed. */
async function startTlsUpstream(name: string, pki: TestPki, dnsNames: string[]): Promise<TlsUpstream> {
  const pair = await createServerCertificate(pki.ca, { commonName: name, dnsNames });
  const server = createTlsServer(
    { cert: pair.cert, key: pair.key, ALPNProtocols: ['h2', 'http/1.1'] },
    (s) => {
      s.on('error', () => {});
      s.end(`${name} ${s.servername || '-'} ${s.alpnProtocol || '-'}\n`);
    },
  );
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as { port: number }).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Connects with TLS through `port`, verifying the server against the test CA, and reads its one line. */
async function fetchLine(
  port: number,
  pki: TestPki,
  options: ConnectionOptions = {},
): Promise<{ line: string; cn: string }> {
  const socket = tlsConnect({ host: '127.0.0.1', port, ca: pki.ca.cert, ...options });
  await once(socket, 'secureConnect');
  const cn = (socket as TLSSocket).getPeerCertificate().subject.CN;
  let text = '';
  socket.setEncoding('utf8');
  socket.on('data', (c: string) => {
    text += c;
  });
  await once(socket, 'end');
  socket.end();
  return { line: text.trim(), cn: String(cn) };
}

/** Resolves once the balancer has closed the connection (and closes ours). */
function closedByPeer(socket: Socket): Promise<void> {
  socket.on('data', () => {});
  socket.on('error', () => {});
  socket.on('end', () => socket.end());
  return new Promise((resolve) => socket.once('close', () => resolve()));
}

/**
 * A client-side shaper between a real TLS client and the balancer: the client's first record (its
 * ClientHello) is cut into handshake records of `recordSize` bytes and written one byte per write;
 * everything after flows as is. Fragmenting a handshake message across records is legal TLS, so
 * the upstream still completes the handshake.
 */
async function startShaper(
  target: number,
  recordSize: number,
): Promise<{ port: number; writes: () => number; close(): void }> {
  let writes = 0;
  const server: Server = createServer((c) => {
    const p = netConnect({ host: '127.0.0.1', port: target, noDelay: true });
    c.on('error', () => p.destroy());
    p.on('error', () => c.destroy());
    p.pipe(c);
    let first = Buffer.alloc(0);
    const onData = async (chunk: Buffer) => {
      first = Buffer.concat([first, chunk]);
      if (first.length < 5 || first.length < 5 + first.readUInt16BE(3)) return;
      c.removeListener('data', onData);
      c.pause();
      const end = 5 + first.readUInt16BE(3);
      const shaped = inRecords(first.subarray(5, end), recordSize);
      for (const byte of shaped) {
        p.write(Buffer.from([byte]));
        writes++;
        await new Promise((resolve) => setImmediate(resolve));
      }
      p.write(first.subarray(end));
      c.pipe(p);
    };
    c.on('data', onData);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as { port: number }).port,
    writes: () => writes,
    close: () => server.close(),
  };
}

describe('TLS passthrough routed by SNI', { timeout: 60_000 }, () => {
  let pki: TestPki;
  let upstreams: TlsUpstream[];
  let t: TestProxy;
  let config: { listeners: Record<string, unknown>[] } & Record<string, unknown>;

  before(async () => {
    pki = await getTestPki();
    upstreams = await Promise.all([
      startTlsUpstream('api', pki, ['api.example.test']),
      startTlsUpstream('apps', pki, ['*.apps.example.test']),
      startTlsUpstream('admin', pki, ['admin.apps.example.test']),
      startTlsUpstream('fallback', pki, []),
    ]);
    const group = (u: TlsUpstream) => ({ upstreams: [{ address: `127.0.0.1:${u.port}` }] });
    config = {
      listeners: [
        {
          name: 'edge',
          bind: '127.0.0.1:0',
          sniRoutes: [
            { serverName: 'api.example.test', group: 'api' },
            { serverName: '*.apps.example.test', group: 'apps' },
            { serverName: 'Admin.Apps.Example.Test', group: 'admin' },
          ],
          defaultGroup: 'fallback',
        },
        {
          name: 'strict',
          bind: '127.0.0.1:0',
          sniRoutes: [{ serverName: 'api.example.test', group: 'api' }],
        },
        {
          name: 'behind-lb',
          bind: '127.0.0.1:0',
          acceptProxyProtocol: 'v1',
          trustedProxies: ['127.0.0.1'],
          sniRoutes: [{ serverName: 'api.example.test', group: 'api' }],
        },
      ],
      groups: {
        api: group(upstreams[0]),
        apps: group(upstreams[1]),
        admin: group(upstreams[2]),
        fallback: group(upstreams[3]),
      },
      timeouts: { handshake: '1s' },
    };
    t = await startTestProxy(config);
  });

  after(async () => {
    await t.stop();
    await Promise.all(upstreams.map((u) => u.close()));
  });

  it('an exact name reaches its upstream, which terminates TLS with its own certificate', async () => {
    const from = t.records.length;
    const { line, cn } = await fetchLine(t.port('edge'), pki, {
      servername: 'api.example.test',
      ALPNProtocols: ['h2'],
    });
    assert.equal(cn, 'api');
    assert.equal(line, 'api api.example.test h2');
    const record = await t.record((r) => r.listener === 'edge', from);
    assert.deepEqual(
      [record.serverName, record.alpn, record.group, record.termination],
      ['api.example.test', 'h2', 'api', 'OK'],
    );
    // the access log line carries the name too
    const access = t.logger.lines.filter((l) => l.fields.serverName === 'api.example.test');
    assert.ok(access.length >= 1);
  });

  it('a wildcard takes one label; an exact route wins over it; names compare case-insensitively', async () => {
    assert.equal(
      (await fetchLine(t.port('edge'), pki, { servername: 'shop.apps.example.test' })).line,
      'apps shop.apps.example.test -',
    );
    assert.equal(
      (await fetchLine(t.port('edge'), pki, { servername: 'admin.apps.example.test' })).line,
      'admin admin.apps.example.test -',
    );
    assert.equal((await fetchLine(t.port('edge'), pki, { servername: 'API.Example.Test' })).cn, 'api');
    // two labels below the wildcard, and the bare parent, go to the default group
    const skipName = { checkServerIdentity: () => undefined };
    for (const servername of ['a.b.apps.example.test', 'apps.example.test']) {
      const { line } = await fetchLine(t.port('edge'), pki, { servername, ...skipName });
      assert.equal(line, `fallback ${servername} -`);
    }
  });

  it('a client without SNI goes to the default group', async () => {
    // connecting to an IP address, Node sends no server_name
    const { line, cn } = await fetchLine(t.port('edge'), pki);
    assert.deepEqual([line, cn], ['fallback - -', 'fallback']);
  });

  it('a hello split into many records and dribbled one byte per write is still routed', async () => {
    const shaper = await startShaper(t.port('edge'), 23);
    try {
      const { line } = await fetchLine(shaper.port, pki, {
        servername: 'shop.apps.example.test',
        maxVersion: 'TLSv1.2',
      });
      assert.equal(line, 'apps shop.apps.example.test -');
      const again = await fetchLine(shaper.port, pki, { servername: 'api.example.test' });
      assert.equal(again.line, 'api api.example.test -');
      assert.ok(shaper.writes() > 200);
    } finally {
      shaper.close();
    }
  });

  async function refused(listener: string, code: ErrorCode, send: (s: Socket) => void): Promise<void> {
    const before = t.proxy.stats(listener).rejected(code);
    const socket = await connectTcp(t.port(listener));
    const closed = closedByPeer(socket);
    send(socket);
    await closed;
    await until(() => t.proxy.stats(listener).rejected(code) === before + 1, code);
  }

  it('no SNI without a default group, and a name no route matches, are refused with their codes', async () => {
    const from = t.records.length;
    await refused('strict', ErrorCodes.ERR_NO_SNI, (s) => s.write(clientHello({ alpn: ['h2'] })));
    await refused('strict', ErrorCodes.ERR_UNKNOWN_SNI, (s) =>
      s.write(clientHello({ serverName: 'Nope.Example.Test' })),
    );
    const record = await t.record((r) => r.termination === ErrorCodes.ERR_UNKNOWN_SNI, from);
    assert.deepEqual([record.listener, record.serverName, record.group], ['strict', 'nope.example.test', '']);
    // a real client sees its handshake fail, not hang
    const client = tlsConnect({
      host: '127.0.0.1',
      port: t.port('strict'),
      ca: pki.ca.cert,
      servername: 'other.example.test',
    });
    const [err] = (await once(client, 'error')) as [NodeJS.ErrnoException];
    assert.match(String(err.code ?? err.message), /ECONNRESET|socket disconnected|EPIPE/i);
  });

  it('plain HTTP, SSLv2-looking and garbage first bytes are refused as not TLS', async () => {
    await refused('strict', ErrorCodes.ERR_NOT_TLS, (s) =>
      s.write('GET / HTTP/1.1\r\nHost: api.example.test\r\n\r\n'),
    );
    await refused('strict', ErrorCodes.ERR_NOT_TLS, (s) =>
      s.write(Buffer.from('802e0103010015000000100000', 'hex')),
    );
    await refused('strict', ErrorCodes.ERR_NOT_TLS, (s) => s.write(Buffer.from([0x00, 0xff, 0x13, 0x37])));
  });

  it('a malformed hello, an oversized one and one cut short are refused with their codes', async () => {
    await refused('strict', ErrorCodes.ERR_CLIENT_HELLO_INVALID, (s) =>
      s.write(clientHello({ serverName: 'bad..name' })),
    );
    await refused('strict', ErrorCodes.ERR_CLIENT_HELLO_TOO_LARGE, (s) =>
      s.write(Buffer.concat([Buffer.from([22, 3, 1, 0x40, 0x00, 1, 0x01, 0x00, 0x00]), Buffer.alloc(100)])),
    );
    const hello = clientHello({ serverName: 'api.example.test' });
    await refused('strict', ErrorCodes.ERR_CLIENT_HELLO_INVALID, (s) => s.end(hello.subarray(0, 40)));
  });

  it('a connection that sends nothing, or stalls mid-hello, is closed at the handshake timeout', async () => {
    await refused('strict', ErrorCodes.ERR_CLIENT_HELLO_TIMEOUT, () => {});
    const hello = clientHello({ serverName: 'api.example.test' });
    await refused('strict', ErrorCodes.ERR_CLIENT_HELLO_TIMEOUT, (s) => s.write(hello.subarray(0, 30)));
    // nothing is left counted as in progress
    await until(() => t.proxy.stats('strict').handshaking === 0, 'no hello in progress');
  });

  it('behind a load balancer: the PROXY header first, then the hello, and the carried address counts', async () => {
    const from = t.records.length;
    const raw = await connectTcp(t.port('behind-lb'));
    raw.write(
      proxyHeaderV1({
        sourceAddress: '203.0.113.7',
        sourcePort: 40000,
        destinationAddress: '198.51.100.1',
        destinationPort: 443,
      }),
    );
    const { line, cn } = await fetchLine(0, pki, { socket: raw, servername: 'api.example.test' });
    assert.deepEqual([line, cn], ['api api.example.test -', 'api']);
    const record = await t.record((r) => r.listener === 'behind-lb', from);
    assert.deepEqual(
      [record.clientAddress, record.serverName, record.group],
      ['203.0.113.7', 'api.example.test', 'api'],
    );
  });

  it('shows its routes in the listener picture', () => {
    const edge = t.proxy.snapshot().listeners.find((l) => l.name === 'edge');
    assert.equal(edge?.kind, 'tls-passthrough');
    assert.deepEqual(edge?.sniRoutes?.[1], { serverName: '*.apps.example.test', group: 'apps' });
    assert.equal(edge?.defaultGroup, 'fallback');
  });

  // Last: it changes the configuration the other tests assume.
  it('a reload that changes the routes applies to new connections', async () => {
    const next = {
      ...config,
      listeners: config.listeners.map((l) =>
        l.name === 'strict'
          ? { ...l, sniRoutes: [{ serverName: '*.example.test', group: 'apps' }], defaultGroup: 'fallback' }
          : l,
      ),
    };
    const result = await t.manager.reload(
      parseConfigText(stringify(next), join(tmpdir(), 'passthrough.yaml')),
    );
    assert.equal(result.ok, true, JSON.stringify(result));
    const skipName = { checkServerIdentity: () => undefined };
    assert.equal(
      (await fetchLine(t.port('strict'), pki, { servername: 'api.example.test', ...skipName })).line,
      'apps api.example.test -',
    );
    assert.equal((await fetchLine(t.port('strict'), pki)).line, 'fallback - -');
    const strict = t.proxy.snapshot().listeners.find((l) => l.name === 'strict');
    assert.equal(strict?.defaultGroup, 'fallback');
  });
});
