import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { detectIperf3, parseIperf3Json, runIperf3 } from '../../../src/bench/load/iperf3.js';
import { type Iperf3Server, startIperf3Server } from '../../../src/bench/upstream/iperf3-server.js';
import { CONNECT_FAILED, REVERSE_TWO_STREAMS } from './iperf3-sample.js';

describe('iperf3 JSON report', () => {
  it('reads bytes, span, rate, streams and client CPU from a reverse two-stream test', () => {
    assert.deepEqual(parseIperf3Json(REVERSE_TWO_STREAMS), {
      bytes: 3_125_000_000,
      seconds: 2,
      bitsPerSecond: 12_500_000_000,
      streams: 2,
      clientCpuPercent: 62.5,
    });
  });

  it('fails with iperf3 own reason, or on output that is no report', () => {
    const cases: [string, RegExp][] = [
      [CONNECT_FAILED, /iperf3 failed: unable to connect to server: Connection refused/],
      ['iperf3: error - unable to connect', /not JSON/],
      [JSON.stringify({ start: {}, end: {} }), /no end\.sum_received/],
      [
        JSON.stringify({ end: { sum_received: { bytes: 1, seconds: 0, bits_per_second: 1 } } }),
        /no end\.sum_received/,
      ],
    ];
    for (const [text, message] of cases) assert.throws(() => parseIperf3Json(text), message, text);
  });
});

// iperf3 is optional outside CI (as HAProxy and NGINX are); CI installs it, so it must be there.
const version = await detectIperf3();

describe('iperf3 on this machine', () => {
  it('is installed when CI is true', () => {
    if (process.env.CI === 'true') assert.match(version ?? '', /^3\.\d+/, 'iperf3 must be installed in CI');
    else assert.ok(version === undefined || /^3\.\d+/.test(version), String(version));
  });
});

if (version !== undefined) {
  describe('iperf3 through loopback', { timeout: 60_000 }, () => {
    let server: Iperf3Server | undefined;

    before(async () => {
      server = await startIperf3Server();
    });

    after(() => server?.stop());

    it('measures bounded runs both ways against a real iperf3 server', async () => {
      assert.ok(server !== undefined);
      for (const [streams, direction] of [
        [1, 'download'],
        [2, 'download'],
        [1, 'upload'],
      ] as const) {
        const result = await runIperf3({ endpoint: server.endpoint, streams, durationMs: 500, direction });
        assert.equal(result.tool, 'iperf3');
        assert.equal(result.errors, 0);
        assert.ok(result.units > 0, `${result.units} bytes`);
        assert.ok(result.elapsedMs > 0, `${result.elapsedMs} ms`);
        assert.ok(result.generatorCpuMs >= 0);
      }
    });

    it('waits its turn when the server is still busy with another run', async () => {
      assert.ok(server !== undefined);
      const endpoint = server.endpoint;
      const [first, second] = await Promise.all([
        runIperf3({ endpoint, streams: 1, durationMs: 1000 }),
        // started while the first holds the one test an iperf3 server runs at a time
        new Promise((r) => setTimeout(r, 200)).then(() =>
          runIperf3({ endpoint, streams: 1, durationMs: 500 }),
        ),
      ]);
      assert.ok(first.units > 0 && second.units > 0, `${first.units} and ${second.units} bytes`);
    });

    it('rejects with the reason when nothing listens', async () => {
      const gone = await startIperf3Server();
      assert.ok(gone !== undefined);
      await gone.stop();
      await assert.rejects(runIperf3({ endpoint: gone.endpoint, streams: 1, durationMs: 500 }), /iperf3/);
    });
  });
}
