import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { parseConfigText } from '../../src/config/load-config.js';
import type { SwitchyardConfig } from '../../src/config/types.js';
import { createServerCertificate } from '../../src/pki/dev-authority.js';
import { getTestPki, type TestPki } from '../helpers/certs.js';
import { connectTcp, connectTls, EchoClient, tcpGet, tlsGet, until } from '../helpers/clients.js';
import { startTestProxy, type TestProxy, testPkiFiles } from '../helpers/proxy-harness.js';
import {
  heldPort,
  refusedPort,
  startEchoUpstream,
  startNamedHttpUpstream,
  type TestUpstream,
} from '../helpers/upstreams.js';

const asConfig = (o: Record<string, unknown>): SwitchyardConfig =>
  parseConfigText(stringify(o), join(tmpdir(), 'switchyard-reload.yaml'));

describe('hot reload', { timeout: 90_000 }, () => {
  let pki: TestPki;
  let dir: string;
  let tlsBlock: Record<string, string>;
  let echoA: TestUpstream;
  let echoB: TestUpstream;
  let named: TestUpstream;
  let t: TestProxy;
  let base: Record<string, unknown>;

  before(async () => {
    pki = await getTestPki();
    const files = await testPkiFiles();
    dir = mkdtempSync(join(tmpdir(), 'switchyard-reload-'));
    // The server certificate lives in files this test rewrites; the CA stays put.
    copyFileSync(files.server.certPath, join(dir, 'server.pem'));
    copyFileSync(files.server.keyPath, join(dir, 'server.key'));
    tlsBlock = { cert: join(dir, 'server.pem'), key: join(dir, 'server.key'), clientCa: files.caPath };
    [echoA, echoB, named] = await Promise.all([
      startEchoUpstream('A'),
      startEchoUpstream('B'),
      startNamedHttpUpstream('N'),
    ]);
    base = {
      listeners: [
        { name: 'edge', bind: '127.0.0.1:0', tls: tlsBlock, routes: [{ org: '*', group: '{org}' }] },
      ],
      groups: { groupA: { balancer: 'least-connections', upstreams: [{ address: echoA.address, id: 'A' }] } },
      reload: { interval: '50ms' },
    };
    t = await startTestProxy(base);
  });

  after(async () => {
    await t.stop();
    await Promise.all([echoA.close(), echoB.close(), named.close()]);
  });

  const open = async (port = t.port()) =>
    new EchoClient(await connectTls({ port, ca: pki.ca.cert, client: pki.groupA }));

  /** The serial number of the certificate a new handshake on `edge` sees. */
  const serial = async () => {
    const s = await connectTls({ port: t.port('edge'), ca: pki.ca.cert, client: pki.groupA });
    const n = s.getPeerX509Certificate()!.serialNumber;
    s.destroy();
    return n;
  };

  /** One echoed line on a fresh session to `port`, closed cleanly. */
  const echoOnce = async (port: number, line: string) => {
    const c = await open(port);
    await c.roundTrip(line);
    c.socket.end();
    await c.closed;
  };

  it('adds and removes upstreams and swaps the balancer while transfers run, dropping none', async () => {
    const clients = [await open(), await open(), await open()];
    for (const c of clients) await c.roundTrip('before reload\n');
    const group = t.proxy.runtime.groups.get('groupA')!;
    const a = group.get('A')!;
    assert.equal(a.active, 3);

    const result = await t.manager.reload(
      asConfig({
        ...base,
        groups: { groupA: { balancer: 'round-robin', upstreams: [{ address: echoB.address, id: 'B' }] } },
      }),
    );
    assert.equal(result.ok, true);
    assert.ok(result.ok && result.changes.some((c) => c.includes('groupA/B added')));
    assert.ok(result.ok && result.changes.some((c) => c.includes('groupA/A removed')));
    assert.equal(
      t.proxy.runtime.groups.get('groupA'),
      group,
      'the same group object, so its counters live on',
    );
    assert.equal(group.balancer.name, 'round-robin');

    // Live sessions on the removed upstream keep flowing.
    for (const c of clients) await c.roundTrip('after reload\n');
    const fresh = await open();
    await fresh.roundTrip('new session\n');
    assert.equal(echoB.accepted, 1, 'new sessions go to the added upstream');
    assert.equal(a.active, 3, 'the removed upstream still counts its live sessions');

    const from = t.records.length;
    for (const c of [...clients, fresh]) c.socket.end();
    await Promise.all([...clients, fresh].map((c) => c.closed));
    await until(() => t.records.length >= from + 4, 'four sessions recorded');
    assert.deepEqual(
      t.records.slice(from).map((r) => r.termination),
      ['OK', 'OK', 'OK', 'OK'],
    );
    assert.equal(a.active, 0);
    assert.equal(a.total, 3);
  });

  it('refuses an invalid reload and keeps serving the running configuration', async () => {
    const before = t.manager.config;
    const result = await t.manager.reload(
      asConfig({
        ...base,
        listeners: [
          { ...(base.listeners as object[])[0], tls: { ...tlsBlock, cert: join(dir, 'missing.pem') } },
        ],
      }),
    );
    assert.equal(result.ok, false);
    assert.match(
      !result.ok ? result.error : '',
      /listeners\[0\]\.tls\.cert: cannot read .*missing\.pem.*file not found/,
    );
    assert.equal(t.manager.config, before);
    const c = await open();
    await c.roundTrip('still serving\n');
    c.socket.end();
    await c.closed;
  });

  it('refuses a reload whose new listener cannot bind, before changing anything', async () => {
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const taken = (squatter.address() as AddressInfo).port;
    const before = t.manager.config;
    const group = t.proxy.runtime.groups.get('groupA')!;
    const balancer = group.balancer.name;
    const names = () => t.proxy.listeners().map((l) => l.name);
    const listenersBefore = names();
    try {
      const result = await t.manager.reload(
        asConfig({
          ...base,
          listeners: [
            ...(base.listeners as object[]),
            // binds fine, so it must be let go again when the next one fails
            { name: 'early', bind: '127.0.0.1:0', tls: tlsBlock, routes: [{ org: '*', group: 'groupA' }] },
            {
              name: 'late',
              bind: `127.0.0.1:${taken}`,
              tls: tlsBlock,
              routes: [{ org: '*', group: 'groupA' }],
            },
          ],
          groups: {
            groupA: { balancer: 'random', upstreams: [{ address: echoA.address, id: 'A' }] },
            extra: { upstreams: [{ address: named.address }] },
          },
        }),
      );
      assert.equal(result.ok, false);
      assert.match(
        !result.ok ? result.error : '',
        new RegExp(
          `^listeners\\[2\\] "late" \\(.*switchyard-reload\\.yaml:\\d+\\): cannot bind 127\\.0\\.0\\.1:${taken}: address already in use \\(EADDRINUSE\\)$`,
        ),
      );
      assert.equal(t.manager.config, before);
      assert.equal(group.balancer.name, balancer, 'the balancer swap was not applied');
      assert.equal(t.proxy.runtime.groups.has('extra'), false, 'the new group was not added');
      assert.deepEqual(names(), listenersBefore);
      const c = await open();
      await c.roundTrip('still serving\n');
      c.socket.end();
      await c.closed;
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  });

  it('adds and removes listeners; sessions on a removed listener finish', async () => {
    const second = {
      name: 'second',
      bind: '127.0.0.1:0',
      tls: tlsBlock,
      routes: [{ org: 'groupA', group: 'named' }],
    };
    const withSecond = {
      ...base,
      listeners: [...(base.listeners as object[]), second],
      groups: {
        groupA: { balancer: 'round-robin', upstreams: [{ address: echoB.address, id: 'B' }] },
        named: { upstreams: [{ address: named.address }] },
      },
    };
    assert.equal((await t.manager.reload(asConfig(withSecond))).ok, true);
    const port2 = t.port('second');
    assert.equal(await tlsGet({ port: port2, ca: pki.ca.cert, client: pki.groupA }), 'N');
    const held = await open();
    await held.roundTrip('on edge\n');

    const onlySecond = { ...withSecond, listeners: [second] };
    const result = await t.manager.reload(asConfig(onlySecond));
    assert.ok(result.ok && result.changes.includes('listener edge removed (live sessions finish)'));
    await held.roundTrip('edge is gone but this session lives\n');
    await assert.rejects(
      connectTls({ port: Number(held.socket.remotePort), ca: pki.ca.cert, client: pki.groupA }),
    );
    held.socket.end();
    await held.closed;
    assert.equal((await t.manager.reload(asConfig(withSecond))).ok, true);
  });

  // manager.reload() runs the same code as SIGHUP and POST /api/reload (reloadFromSource loads the
  // file, then both apply it here); test/cli/run.test.ts moves a listener through SIGHUP end to end.
  const edgeAt = (bind: string, more: Record<string, unknown> = {}) => ({
    ...base,
    listeners: [{ ...(base.listeners as object[])[0], bind, ...more }],
  });

  it('moves a listener to a new address: bound first, the old one closed after, its sessions finish', async () => {
    assert.equal((await t.manager.reload(asConfig(base))).ok, true, 'start from the base configuration');
    const oldPort = t.port('edge');
    const held = await open(oldPort);
    await held.roundTrip('before the move\n');
    const stats = t.proxy.stats('edge');
    const acceptedBefore = stats.accepted;
    const newPort = await refusedPort();

    const result = await t.manager.reload(asConfig(edgeAt(`127.0.0.1:${newPort}`)));
    assert.deepEqual(result, {
      ok: true,
      changes: [
        `listener edge moved 127.0.0.1:0 -> 127.0.0.1:${newPort} (sessions on the old address finish)`,
      ],
    });
    assert.equal(t.port('edge'), newPort);
    assert.equal(t.proxy.stats('edge'), stats, 'the counters carry over: they never go backwards');
    const moved = await open(newPort);
    await moved.roundTrip('on the new address\n');
    assert.equal(stats.accepted, acceptedBefore + 1);
    await assert.rejects(connectTcp(oldPort), /ECONNREFUSED/);
    await held.roundTrip('the old address is closed, this session lives on\n');
    for (const c of [held, moved]) {
      c.socket.end();
      await c.closed;
    }
    await until(() => stats.active === 0, 'both sessions counted as ended on the shared counters');
    assert.ok(t.logger.lines.some((l) => l.message === 'listener moved; the old address is closed'));
  });

  it('refuses a move onto a port another process holds; the old address keeps serving', async () => {
    const { port: taken, release } = await heldPort();
    const before = t.manager.config;
    const concurrency = t.proxy.runtime.concurrency;
    const port = t.port('edge');
    try {
      const result = await t.manager.reload(
        asConfig({ ...edgeAt(`127.0.0.1:${taken}`), concurrency: { perClient: 7 } }),
      );
      assert.equal(result.ok, false);
      assert.match(
        !result.ok ? result.error : '',
        new RegExp(
          `^listeners\\[0\\] "edge" \\(.*switchyard-reload\\.yaml:\\d+\\): cannot bind 127\\.0\\.0\\.1:${taken}: address already in use \\(EADDRINUSE\\)$`,
        ),
      );
      assert.equal(t.manager.config, before);
      assert.equal(t.proxy.runtime.concurrency, concurrency, 'the concurrency change was not applied');
      assert.equal(t.port('edge'), port);
      await echoOnce(port, 'still on the old address\n');
    } finally {
      await release();
    }
  });

  it('changes a listener between tls and tcp on its socket, and moves it with a kind change', async () => {
    const port = t.port('edge');
    const stats = t.proxy.stats('edge');
    const asTcp = (bind: string) => ({
      ...base,
      listeners: [{ name: 'edge', bind, group: 'named' }],
      groups: { ...(base.groups as object), named: { upstreams: [{ address: named.address }] } },
    });
    const toTcp = await t.manager.reload(asConfig(asTcp(`127.0.0.1:${port}`)));
    assert.ok(toTcp.ok && toTcp.changes.includes('listener edge changed from tls to tcp on the same socket'));
    assert.equal(t.port('edge'), port);
    assert.equal(await tcpGet(port), 'N');

    const newPort = await refusedPort();
    const back = await t.manager.reload(asConfig(edgeAt(`127.0.0.1:${newPort}`)));
    assert.ok(
      back.ok &&
        back.changes.includes(
          `listener edge moved 127.0.0.1:${port} -> 127.0.0.1:${newPort} (tcp -> tls) (sessions on the old address finish)`,
        ),
      JSON.stringify(back),
    );
    assert.equal(t.proxy.stats('edge'), stats);
    await assert.rejects(connectTcp(port), /ECONNREFUSED/);
    await echoOnce(newPort, 'tls again\n');
  });

  it('binds last a listener moving onto a port its own listeners free in the same reload (swap, removal)', async () => {
    const [p1, p2] = [await refusedPort(), await refusedPort()];
    const second = { name: 'second', tls: tlsBlock, routes: [{ org: 'groupA', group: 'named' }] };
    const twoAt = (edge: number, other: number | undefined) => ({
      ...base,
      listeners: [
        { ...(base.listeners as object[])[0], bind: `127.0.0.1:${edge}` },
        ...(other === undefined ? [] : [{ ...second, bind: `127.0.0.1:${other}` }]),
      ],
      groups: { ...(base.groups as object), named: { upstreams: [{ address: named.address }] } },
    });
    assert.equal((await t.manager.reload(asConfig(twoAt(p1, p2)))).ok, true);
    const edgeStats = t.proxy.stats('edge');

    const swapped = await t.manager.reload(asConfig(twoAt(p2, p1)));
    assert.ok(swapped.ok, JSON.stringify(swapped));
    assert.equal(await tlsGet({ port: p1, ca: pki.ca.cert, client: pki.groupA }), 'N', 'second now on p1');
    await echoOnce(p2, 'edge now on p2\n');
    assert.equal(t.proxy.stats('edge'), edgeStats);

    // edge takes p1 from "second", which the same reload removes
    const taken = await t.manager.reload(asConfig(twoAt(p1, undefined)));
    assert.ok(taken.ok && taken.changes.includes('listener second removed (live sessions finish)'));
    assert.deepEqual(
      t.proxy.listeners().map((l) => [l.name, l.address().port]),
      [['edge', p1]],
    );
    await echoOnce(p1, 'edge on the port second had\n');
    assert.equal((await t.manager.reload(asConfig(base))).ok, true);
  });

  it('rotates the server certificate on disk: new handshakes see it, old sessions continue', async () => {
    const first = await serial();
    const held = await open(t.port('edge'));
    await held.roundTrip('before rotation\n');

    // A new certificate with the old key is a mismatched pair: refused, the old one stays.
    const rotated = await createServerCertificate(pki.ca, {});
    writeFileSync(join(dir, 'server.pem'), rotated.cert);
    assert.equal(await t.manager.reloadCertificates('edge'), false);
    assert.equal(await serial(), first);
    assert.ok(t.logger.lines.some((l) => l.message.startsWith('certificate reload refused')));

    // In-place write of the key completes the pair; the file watcher picks it up.
    writeFileSync(join(dir, 'server.key'), rotated.key);
    const second = new X509Certificate(rotated.cert).serialNumber;
    await waitForSerial(serial, second);

    // Atomic rename of a third certificate and key.
    const third = await createServerCertificate(pki.ca, {});
    writeFileSync(join(dir, 'next.key'), third.key);
    writeFileSync(join(dir, 'next.pem'), third.cert);
    renameSync(join(dir, 'next.key'), join(dir, 'server.key'));
    renameSync(join(dir, 'next.pem'), join(dir, 'server.pem'));
    await waitForSerial(serial, new X509Certificate(third.cert).serialNumber);

    await held.roundTrip('after two rotations\n');
    held.socket.end();
    await held.closed;
  });

  it('queues a certificate re-read behind a reload that names other files, so the reload wins', async () => {
    const other = await createServerCertificate(pki.ca, {});
    writeFileSync(join(dir, 'other.pem'), other.cert);
    writeFileSync(join(dir, 'other.key'), other.key);
    const [edge] = base.listeners as Record<string, unknown>[];
    const moved = {
      ...base,
      listeners: [
        { ...edge, tls: { ...tlsBlock, cert: join(dir, 'other.pem'), key: join(dir, 'other.key') } },
      ],
    };
    // Asked for at once: the re-read runs after the reload and reads the files the reload named.
    const [reloaded, reread] = await Promise.all([
      t.manager.reload(asConfig(moved)),
      t.manager.reloadCertificates('edge'),
    ]);
    assert.ok(reloaded.ok && reloaded.changes.includes('listener edge updated'), JSON.stringify(reloaded));
    assert.equal(reread, false, 'the files the reload named are already in force');
    assert.equal(await serial(), new X509Certificate(other.cert).serialNumber);
    assert.equal((await t.manager.reload(asConfig(base))).ok, true);
  });
});

async function waitForSerial(read: () => Promise<string>, want: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if ((await read()) === want) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail(`the listener never served certificate ${want}`);
}
