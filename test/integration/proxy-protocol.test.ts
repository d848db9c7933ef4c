import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { freeLoopbackPorts } from '../../src/bench/targets/free-port.js';
import { findStreamModule } from '../../src/bench/targets/nginx.js';
import { findTool } from '../../src/bench/targets/system-tool.js';
import {
  spawnTargetProcess,
  stopTargetProcess,
  type TargetProcess,
} from '../../src/bench/targets/target-process.js';
import { waitForPorts } from '../../src/bench/targets/wait-for-ports.js';
import { parseConfigText } from '../../src/config/load-config.js';
import { getTestPki, type TestPki } from '../helpers/certs.js';
import { connectTcp, connectTls, lineReader as reader } from '../helpers/clients.js';
import { startTestProxy, type TestProxy, testTlsBlock } from '../helpers/proxy-harness.js';
import { type ParsedProxyHeader, startProxyProtocolUpstream } from '../helpers/proxy-protocol.js';
import type { TestUpstream } from '../helpers/upstreams.js';

describe('PROXY protocol to upstreams', { timeout: 60_000 }, () => {
  let pki: TestPki;
  let upstream: TestUpstream;
  let t: TestProxy;
  let config: Record<string, unknown>;

  before(async () => {
    pki = await getTestPki();
    upstream = await startProxyProtocolUpstream();
    config = {
      listeners: [
        {
          name: 'edge',
          bind: '127.0.0.1:0',
          tls: await testTlsBlock(),
          routes: [{ org: 'groupA', group: 'reader' }],
          proxyProtocol: 'v2',
        },
        { name: 'plain', bind: '127.0.0.1:0', group: 'reader', proxyProtocol: 'v1' },
      ],
      groups: { reader: { upstreams: [{ address: upstream.address }] } },
    };
    t = await startTestProxy(config);
  });

  after(async () => {
    await t.stop();
    await upstream.close();
  });

  it('starts a TLS client connection with a v2 header: its address, the listener port, its CommonName', async () => {
    const client = await connectTls({ port: t.port('edge'), ca: pki.ca.cert, client: pki.groupA });
    const r = reader(client);
    client.write('after the header\n');
    const header = JSON.parse(await r.line()) as ParsedProxyHeader;
    assert.equal(header.version, 2);
    assert.equal(header.family, 'TCP4');
    assert.equal(header.sourceAddress, '127.0.0.1');
    assert.equal(header.sourcePort, client.localPort);
    assert.equal(header.destinationAddress, '127.0.0.1');
    assert.equal(header.destinationPort, t.port('edge'));
    assert.deepEqual(header.ssl, { client: 0x07, verify: 0, version: client.getProtocol(), cn: 'client-a' });
    assert.equal(await r.line(), 'after the header', 'the client bytes follow the header intact');
    const session = await new Promise<Buffer>((resolve) => {
      const s = client.getSession();
      if (s !== undefined) resolve(s);
      else client.once('session', resolve);
    });
    client.end();

    // a resumed session presented no certificate on this connection
    const again = await connectTls({ port: t.port('edge'), ca: pki.ca.cert, client: pki.groupA, session });
    assert.equal(again.isSessionReused(), true);
    const resumed = JSON.parse(await reader(again).line()) as ParsedProxyHeader;
    assert.equal(resumed.ssl?.client, 0x05);
    assert.equal(resumed.ssl?.cn, 'client-a');
    again.end();
  });

  it('starts a plain TCP connection with a v1 header', async () => {
    const client = await connectTcp(t.port('plain'));
    const r = reader(client);
    client.write('payload\n');
    const header = JSON.parse(await r.line()) as ParsedProxyHeader;
    assert.deepEqual(
      [header.version, header.family, header.sourceAddress, header.sourcePort, header.destinationPort],
      [1, 'TCP4', '127.0.0.1', client.localPort, t.port('plain')],
    );
    assert.equal(await r.line(), 'payload');
    client.end();
  });

  it('follows a reload for connections that start afterwards', async () => {
    const listeners = (config.listeners as Record<string, unknown>[]).map((l) =>
      l.name === 'plain' ? { ...l, proxyProtocol: 'v2' } : l,
    );
    const next = parseConfigText(stringify({ ...config, listeners }), join(tmpdir(), 'switchyard-pp.yaml'));
    const result = await t.manager.reload(next);
    assert.ok(result.ok && result.changes.includes('listener plain updated'));
    const client = await connectTcp(t.port('plain'));
    const header = JSON.parse(await reader(client).line()) as ParsedProxyHeader;
    assert.equal(header.version, 2);
    assert.equal(header.ssl, undefined, 'no TLS block for a plain TCP client');
    client.end();
  });
});

describe('PROXY protocol read by NGINX', { timeout: 60_000 }, () => {
  it('is understood by another implementation, v1 from a TCP listener and v2 from a TLS one', async () => {
    const command = await findTool('nginx');
    const stream = command === undefined ? undefined : await findStreamModule(command);
    if (command === undefined || stream === undefined) {
      // CI installs nginx and its stream module; elsewhere this check needs them too
      assert.notEqual(process.env.CI, 'true', 'nginx with the stream module must be installed in CI');
      return;
    }
    const pki = await getTestPki();
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-pp-nginx-'));
    const [port] = await freeLoopbackPorts(1);
    writeFileSync(
      join(dir, 'nginx.conf'),
      [
        stream.kind === 'dynamic' ? `load_module ${stream.path};` : '',
        process.getuid?.() === 0 ? 'user root;' : '',
        'daemon off;',
        'worker_processes 1;',
        `pid ${join(dir, 'nginx.pid')};`,
        `error_log ${join(dir, 'error.log')} warn;`,
        'events {}',
        'stream {',
        `  server { listen 127.0.0.1:${port} proxy_protocol;`,
        '    return "$proxy_protocol_addr $proxy_protocol_port $proxy_protocol_server_addr $proxy_protocol_server_port\\n"; }',
        '}',
      ].join('\n'),
    );
    let nginx: TargetProcess | undefined;
    let t: TestProxy | undefined;
    try {
      nginx = await spawnTargetProcess(
        command,
        ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')],
        {
          workDir: dir,
          name: 'nginx',
        },
      );
      await waitForPorts([{ host: '127.0.0.1', port }], { gaveUp: () => nginx?.hasExited() ?? true });
      t = await startTestProxy({
        listeners: [
          { name: 'plain', bind: '127.0.0.1:0', group: 'nginx', proxyProtocol: 'v1' },
          {
            name: 'edge',
            bind: '127.0.0.1:0',
            tls: await testTlsBlock(),
            routes: [{ org: 'groupA', group: 'nginx' }],
            proxyProtocol: 'v2',
          },
        ],
        groups: { nginx: { upstreams: [{ address: `127.0.0.1:${port}` }] } },
      });
      const plain = await connectTcp(t.port('plain'));
      assert.equal(await reader(plain).line(), `127.0.0.1 ${plain.localPort} 127.0.0.1 ${t.port('plain')}`);
      plain.destroy();
      const tls = await connectTls({ port: t.port('edge'), ca: pki.ca.cert, client: pki.groupA });
      assert.equal(await reader(tls).line(), `127.0.0.1 ${tls.localPort} 127.0.0.1 ${t.port('edge')}`);
      tls.destroy();
    } finally {
      await t?.stop();
      if (nginx !== undefined) await stopTargetProcess(nginx);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
