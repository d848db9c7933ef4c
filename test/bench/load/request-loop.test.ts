import assert from 'node:assert/strict';
import { once } from 'node:events';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { runRequests } from '../../../src/bench/load/request-loop.js';
import type { Endpoint } from '../../../src/bench/types.js';
import { serveHttp } from '../../../src/bench/upstream/http-responder.js';
import {
  assertOrderedLatency,
  type BenchFixture,
  refusedEndpoint,
  startBenchFixture,
} from '../helpers/bench-fixture.js';

/** An in-process server that counts the connections it accepts and hands each to `serve`. */
async function countingServer(serve: (socket: Socket) => void): Promise<{
  endpoint: Endpoint;
  accepted: () => number;
  close: () => Promise<void>;
}> {
  let accepted = 0;
  const server: Server = createServer((socket) => {
    accepted++;
    serve(socket);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    endpoint: { host: '127.0.0.1', port: (server.address() as AddressInfo).port },
    accepted: () => accepted,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('runRequests', { timeout: 60_000 }, () => {
  let fixture: BenchFixture;

  before(async () => {
    fixture = await startBenchFixture();
  });

  after(() => fixture?.stop());

  it('keep-alive: completes exactly maxRequests against the http upstream', async () => {
    const result = await runRequests({
      endpoint: fixture.upstreams.endpoints.http,
      connections: 4,
      durationMs: 20_000,
      maxRequests: 200,
      keepAlive: true,
    });
    assert.equal(result.units, 200);
    assert.equal(result.errors, 0);
    assert.equal(result.tool, 'switchyard');
    assert.ok(result.elapsedMs > 0);
    assert.ok(result.generatorCpuMs > 0);
    assertOrderedLatency(result.latency);
  });

  it('Connection: close: completes exactly maxRequests against the http upstream', async () => {
    const result = await runRequests({
      endpoint: fixture.upstreams.endpoints.http,
      connections: 4,
      durationMs: 20_000,
      maxRequests: 100,
      keepAlive: false,
    });
    assert.equal(result.units, 100);
    assert.equal(result.errors, 0);
    assertOrderedLatency(result.latency);
  });

  it('opens one connection per request without keep-alive, and only `connections` with it', async () => {
    const server = await countingServer(serveHttp);
    try {
      const close = await runRequests({
        endpoint: server.endpoint,
        connections: 3,
        durationMs: 20_000,
        maxRequests: 60,
        keepAlive: false,
      });
      assert.equal(close.units, 60);
      assert.equal(server.accepted(), 60);
      const keepAlive = await runRequests({
        endpoint: server.endpoint,
        connections: 3,
        durationMs: 20_000,
        maxRequests: 60,
        keepAlive: true,
      });
      assert.equal(keepAlive.units, 60);
      assert.equal(server.accepted(), 63);
    } finally {
      await server.close();
    }
  });

  it('stops at the duration when the count is out of reach', async () => {
    const result = await runRequests({
      endpoint: fixture.upstreams.endpoints.http,
      connections: 2,
      durationMs: 300,
      maxRequests: 1_000_000_000,
      keepAlive: true,
    });
    assert.ok(result.units > 0);
    assert.ok(result.units < 1_000_000_000);
    assert.equal(result.errors, 0);
  });

  it('counts refused connections as errors and completes nothing', async () => {
    for (const keepAlive of [true, false]) {
      const result = await runRequests({
        endpoint: await refusedEndpoint(),
        connections: 2,
        durationMs: 200,
        maxRequests: 100,
        keepAlive,
      });
      assert.equal(result.units, 0);
      assert.ok(result.errors > 0, `keepAlive ${keepAlive}: no errors`);
      assert.equal(result.latency, undefined);
    }
  });

  it('counts non-2xx responses and connections closed mid-response as errors', async () => {
    const serverError = await countingServer((socket) => {
      socket.on('error', () => {});
      socket.once('data', () => socket.end('HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n'));
    });
    const truncated = await countingServer((socket) => {
      socket.on('error', () => {});
      socket.once('data', () => socket.end('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort'));
    });
    try {
      for (const server of [serverError, truncated]) {
        const result = await runRequests({
          endpoint: server.endpoint,
          connections: 1,
          durationMs: 200,
          maxRequests: 100,
          keepAlive: true,
        });
        assert.equal(result.units, 0);
        assert.ok(result.errors > 0);
        assert.ok(server.accepted() > 1, 'the failed connection was not replaced');
      }
    } finally {
      await Promise.all([serverError.close(), truncated.close()]);
    }
  });

  it('rejects options that cannot describe a run', async () => {
    const endpoint = fixture.upstreams.endpoints.http;
    const base = { endpoint, connections: 1, durationMs: 100, maxRequests: 1, keepAlive: true };
    await assert.rejects(runRequests({ ...base, connections: 0 }), RangeError);
    await assert.rejects(runRequests({ ...base, maxRequests: 1.5 }), RangeError);
    await assert.rejects(runRequests({ ...base, durationMs: Number.NaN }), RangeError);
  });
});
