import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { after, before, describe, it } from 'node:test';
import { DATAGRAMS_PER_EXCHANGE, runUdpEchoLoop } from '../../../src/bench/load/udp-echo-loop.js';
import { freeLoopbackUdpPort } from '../../../src/bench/targets/free-port.js';
import { assertOrderedLatency, type BenchFixture, startBenchFixture } from '../helpers/bench-fixture.js';

describe('runUdpEchoLoop', { timeout: 60_000 }, () => {
  let fixture: BenchFixture;

  before(async () => {
    fixture = await startBenchFixture();
  });

  after(() => fixture?.stop());

  it('stops by itself after exactly maxExchanges replies from the UDP echo upstream', async () => {
    const result = await runUdpEchoLoop({
      endpoint: fixture.upstreams.udpEcho,
      clients: 4,
      payloadBytes: 64,
      durationMs: 20_000,
      maxExchanges: 300,
    });
    assert.equal(result.units, 300);
    assert.equal(result.errors, 0);
    assert.equal(result.tool, 'switchyard');
    assert.ok(result.elapsedMs > 0);
    assertOrderedLatency(result.latency);
    assert.equal(DATAGRAMS_PER_EXCHANGE, 2);
  });

  it('stops by itself at its duration when the count is far away', async () => {
    const result = await runUdpEchoLoop({
      endpoint: fixture.upstreams.udpEcho,
      clients: 2,
      payloadBytes: 16,
      durationMs: 200,
      maxExchanges: 1_000_000_000,
    });
    assert.ok(result.units > 0);
    assert.ok(result.units < 1_000_000_000);
  });

  it('counts an unanswered datagram as an error and sends it again', async () => {
    // Answers every second datagram only: each one dropped must be resent and counted.
    const lossy = createSocket('udp4');
    let seen = 0;
    lossy.on('message', (datagram, from) => {
      if (++seen % 2 === 0) lossy.send(datagram, from.port, from.address);
    });
    await new Promise<void>((resolve) => lossy.bind(0, '127.0.0.1', resolve));
    try {
      const result = await runUdpEchoLoop({
        endpoint: { host: '127.0.0.1', port: lossy.address().port },
        clients: 1,
        payloadBytes: 8,
        durationMs: 20_000,
        maxExchanges: 3,
        resendMs: 20,
      });
      assert.equal(result.units, 3);
      assert.ok(result.errors >= 3, `errors ${result.errors}`);
    } finally {
      lossy.close();
    }
  });

  it('completes nothing and counts errors when nobody listens', async () => {
    const result = await runUdpEchoLoop({
      endpoint: { host: '127.0.0.1', port: await freeLoopbackUdpPort() },
      clients: 2,
      payloadBytes: 8,
      durationMs: 300,
      maxExchanges: 100,
      resendMs: 20,
    });
    assert.equal(result.units, 0);
    assert.ok(result.errors > 0);
  });

  it('refuses options that would skew a run', () => {
    const endpoint = { host: '127.0.0.1', port: 9 };
    const base = { endpoint, clients: 1, payloadBytes: 8, durationMs: 100, maxExchanges: 10 };
    assert.throws(() => runUdpEchoLoop({ ...base, clients: 0 }), /clients must be a positive integer/);
    assert.throws(() => runUdpEchoLoop({ ...base, maxExchanges: 0 }), /maxExchanges/);
    assert.throws(() => runUdpEchoLoop({ ...base, payloadBytes: 1.5 }), /payloadBytes/);
  });
});
