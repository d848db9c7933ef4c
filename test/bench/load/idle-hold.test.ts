import assert from 'node:assert/strict';
import { once } from 'node:events';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { holdIdle } from '../../../src/bench/load/idle-hold.js';
import { serveEcho } from '../../../src/bench/upstream/echo.js';
import { type BenchFixture, refusedEndpoint, startBenchFixture } from '../helpers/bench-fixture.js';

describe('holdIdle', { timeout: 60_000 }, () => {
  let fixture: BenchFixture;

  before(async () => {
    fixture = await startBenchFixture();
  });

  after(() => fixture?.stop());

  it('holds exactly `count` plain connections open until close() releases them', async () => {
    const open = new Set<Socket>();
    const server = createServer((socket) => {
      open.add(socket);
      socket.on('close', () => open.delete(socket));
      serveEcho(socket);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    try {
      const hold = await holdIdle({ endpoint: { host: '127.0.0.1', port }, count: 25, concurrency: 4 });
      assert.equal(hold.held, 25);
      assert.equal(hold.errors, 0);
      assert.equal(open.size, 25);
      const gone = Promise.all([...open].map((socket) => once(socket, 'close')));
      await hold.close();
      assert.equal(hold.held, 0);
      await gone;
      assert.equal(open.size, 0);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('holds mutual-TLS connections to the upstream TLS echo', async () => {
    const hold = await holdIdle({
      endpoint: fixture.upstreams.tlsEcho,
      count: 12,
      concurrency: 3,
      tls: fixture.tls,
    });
    assert.equal(hold.held, 12);
    assert.equal(hold.errors, 0);
    await hold.close();
    assert.equal(hold.held, 0);
  });

  it('counts connections that never echo as errors', async () => {
    const hold = await holdIdle({ endpoint: await refusedEndpoint(), count: 5, concurrency: 2 });
    assert.equal(hold.held, 0);
    assert.equal(hold.errors, 5);
    await hold.close();
  });

  it('gives up on a connection that does not echo within the open timeout', async () => {
    // Reads and drops, so it sees (and answers) the client's close, but never echoes.
    const silent = createServer((socket) => socket.on('error', () => {}).resume());
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    const port = (silent.address() as AddressInfo).port;
    try {
      const hold = await holdIdle({
        endpoint: { host: '127.0.0.1', port },
        count: 2,
        concurrency: 2,
        openTimeoutMs: 100,
      });
      assert.equal(hold.held, 0);
      assert.equal(hold.errors, 2);
    } finally {
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});
