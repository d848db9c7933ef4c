import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect as connectTls } from 'node:tls';
import { runIperf3 } from '../../../src/bench/load/iperf3.js';
import { udpRoundTrip } from '../../../src/bench/targets/udp-round-trip.js';
import { type BenchUpstreams, UPSTREAM_KINDS } from '../../../src/bench/types.js';
import { startBenchUpstreams } from '../../../src/bench/upstream/bench-upstreams.js';
import { BULK_CHUNK_BYTES } from '../../../src/bench/upstream/bulk-source.js';
import { HTTP_RESPONSE } from '../../../src/bench/upstream/http-responder.js';
import { getTestPki } from '../../helpers/certs.js';
import { type BenchFixture, startBenchFixture } from '../helpers/bench-fixture.js';

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    assert.equal((err as NodeJS.ErrnoException).code, 'ESRCH');
    return false;
  }
}

/** Reads from `socket` until `enough` says so or it closes; resolves with what came. */
function readUntil(socket: Socket, enough: (bytes: number) => boolean): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const done = (): void => resolve(Buffer.concat(chunks));
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      total += chunk.length;
      if (enough(total)) done();
    });
    socket.on('error', () => {});
    socket.once('close', done);
  });
}

describe('benchmark upstreams', { timeout: 60_000 }, () => {
  let fixture: BenchFixture;
  let upstreams: BenchUpstreams;

  before(async () => {
    fixture = await startBenchFixture();
    upstreams = fixture.upstreams;
  });

  after(() => fixture?.stop());

  it('runs in its own process and listens on a distinct loopback port per kind', () => {
    assert.notEqual(upstreams.pid, process.pid);
    assert.equal(isRunning(upstreams.pid), true);
    // Without iperf3 the echo upstream stands in for it (checked below), so its port is no new one.
    const kinds = UPSTREAM_KINDS.filter((kind) => upstreams.iperf3 || kind !== 'iperf3');
    const endpoints = [...kinds.map((kind) => upstreams.endpoints[kind]), upstreams.tlsEcho];
    for (const endpoint of endpoints) {
      assert.equal(endpoint.host, '127.0.0.1');
      assert.ok(Number.isInteger(endpoint.port) && endpoint.port > 0);
    }
    assert.equal(new Set(endpoints.map((e) => e.port)).size, endpoints.length);
  });

  it('iperf3: a real iperf3 server where iperf3 is installed (always in CI), else the echo upstream', async () => {
    if (process.env.CI === 'true') assert.equal(upstreams.iperf3, true, 'iperf3 must be installed in CI');
    if (!upstreams.iperf3) {
      assert.deepEqual(upstreams.endpoints.iperf3, upstreams.endpoints.echo);
      return;
    }
    const result = await runIperf3({ endpoint: upstreams.endpoints.iperf3, streams: 1, durationMs: 500 });
    assert.ok(result.units > 0);
    const none = await startBenchUpstreams(fixture.certs, { iperf3: false });
    try {
      assert.equal(none.iperf3, false);
      assert.deepEqual(none.endpoints.iperf3, none.endpoints.echo);
    } finally {
      await none.stop();
    }
  });

  it('http: answers each request with the fixed response and closes when asked', async () => {
    const socket = connect(upstreams.endpoints.http);
    socket.write('GET / HTTP/1.1\r\nHost: bench\r\n\r\nGET / HTTP/1.1\r\nConnection: close\r\n\r\n');
    const reply = await readUntil(socket, () => false);
    assert.deepEqual(reply, Buffer.concat([HTTP_RESPONSE, HTTP_RESPONSE]));
  });

  it('bulk: streams far more than one buffer to a reader', async () => {
    const socket = connect(upstreams.endpoints.bulk);
    const wanted = 4 * BULK_CHUNK_BYTES;
    const data = await readUntil(socket, (bytes) => bytes >= wanted);
    socket.destroy();
    assert.ok(data.length >= wanted, `got ${data.length} bytes`);
  });

  it('echo: writes back what it reads', async () => {
    const socket = connect(upstreams.endpoints.echo);
    const sent = Buffer.from('switchyard echo test');
    socket.write(sent);
    const data = await readUntil(socket, (bytes) => bytes >= sent.length);
    socket.destroy();
    assert.deepEqual(data, sent);
  });

  it('udp echo: sends each datagram back to its sender as it came', async () => {
    assert.equal(upstreams.udpEcho.host, '127.0.0.1');
    for (const sent of [Buffer.from('switchyard udp echo test'), Buffer.alloc(1200, 7)]) {
      const reply = await udpRoundTrip(upstreams.udpEcho, sent, 5000);
      assert.deepEqual(reply, sent);
    }
  });

  it('tls echo: echoes for the bench client certificate', async () => {
    const socket = connectTls({
      ...upstreams.tlsEcho,
      ...fixture.tls,
    });
    await once(socket, 'secureConnect');
    assert.equal(socket.authorized, true);
    socket.write('x');
    const data = await readUntil(socket, (bytes) => bytes >= 1);
    socket.destroy();
    assert.equal(data.toString(), 'x');
  });

  it('tls echo: refuses a client without a certificate or with an untrusted one', async () => {
    const untrusted = (await getTestPki()).untrusted;
    for (const client of [undefined, untrusted]) {
      const socket = connectTls({
        ...upstreams.tlsEcho,
        ca: fixture.tls.ca,
        cert: client?.cert,
        key: client?.key,
        servername: 'localhost',
      });
      // TLS 1.3 finishes the client's side first; the refusal (an alert, or Node's server closing
      // after its own verification) comes after it, so the proof is the echo that never arrives.
      socket.once('secureConnect', () => socket.write('x'));
      const data = await readUntil(socket, () => false);
      assert.equal(data.length, 0, `${client === undefined ? 'no' : 'untrusted'} certificate was echoed`);
    }
  });

  it('keeps serving after clients reset their connections', async () => {
    for (const kind of UPSTREAM_KINDS) {
      const socket = connect(upstreams.endpoints[kind]);
      await once(socket, 'connect');
      socket.write('GET / HTTP/1.1\r\n');
      socket.resetAndDestroy();
      await once(socket, 'close');
    }
    const socket = connect(upstreams.endpoints.echo);
    socket.write('still here');
    const data = await readUntil(socket, (bytes) => bytes >= 10);
    socket.destroy();
    assert.equal(data.toString(), 'still here');
  });

  it('stop() ends the process, and a second stop() is harmless', async () => {
    const other = await startBenchUpstreams(fixture.certs);
    assert.equal(isRunning(other.pid), true);
    await other.stop();
    assert.equal(isRunning(other.pid), false);
    await other.stop();
  });

  it('rejects when the upstream process cannot start', async () => {
    await assert.rejects(
      startBenchUpstreams({ ...fixture.certs, serverKey: join(fixture.dir, 'missing.key') }),
      /exited \(code 1, signal null\)[\s\S]*ENOENT[\s\S]*missing\.key/,
    );
  });
});
