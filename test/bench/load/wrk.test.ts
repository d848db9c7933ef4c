import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { detectWrk, parseWrkOutput, runWrk, wrkErrors } from '../../../src/bench/load/wrk.js';
import { assertOrderedLatency, type BenchFixture, startBenchFixture } from '../helpers/bench-fixture.js';

// Captured from wrk 4.1.0 (Debian) against the bench http upstream and a test server.
const KEEP_ALIVE = `Running 1s test @ http://127.0.0.1:34505/
  1 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.56ms    5.02ms  48.35ms   96.47%
    Req/Sec    13.53k     3.55k   16.39k    90.00%
  Latency Distribution
     50%  144.00us
     75%    1.22ms
     90%    2.99ms
     99%   33.45ms
  13617 requests in 1.02s, 1.01MB read
Requests/sec:  13410.07
Transfer/sec:      1.00MB
`;

const CONNECTION_CLOSE = `Running 1s test @ http://127.0.0.1:34505/
  1 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.74ms    3.27ms  27.55ms   88.68%
    Req/Sec     1.70k   599.87     3.20k    90.00%
  Latency Distribution
     50%    1.24ms
     75%    3.65ms
     90%    6.55ms
     99%   16.21ms
  1703 requests in 1.01s, 129.72KB read
  Socket errors: connect 0, read 1700, write 0, timeout 0
Requests/sec:   1690.26
Transfer/sec:    128.75KB
`;

const NON_2XX = `Running 1s test @ http://127.0.0.1:35783/
  1 threads and 2 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   313.85us    0.98ms  12.01ms   94.40%
    Req/Sec    19.70k     7.11k   26.53k    81.82%
  Latency Distribution
     50%   83.00us
     75%  109.00us
     90%  319.00us
     99%    5.52ms
  21466 requests in 1.10s, 838.52KB read
  Non-2xx or 3xx responses: 5367
Requests/sec:  19523.58
Transfer/sec:    762.64KB
`;

// wrk's layout when nothing completed (as printed for a server that only resets), with long units.
const NOTHING = `Running 1m test @ http://127.0.0.1:8080/
  2 threads and 10 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     0.00us    0.00us   0.00us    -nan%
    Req/Sec     0.00      0.00     0.00      -nan%
  Latency Distribution
     50%    0.00us
     75%    0.00us
     90%    0.00us
     99%    0.00us
  0 requests in 1.00m, 0.00B read
  Socket errors: connect 3, read 40117, write 2, timeout 7
Requests/sec:      0.00
Transfer/sec:       0.00B
`;

function near(actual: number, expected: number): void {
  assert.ok(Math.abs(actual - expected) < 1e-9, `${actual} is not ${expected}`);
}

describe('parseWrkOutput', () => {
  it('reads requests, run time and the latency distribution in ms', () => {
    const report = parseWrkOutput(KEEP_ALIVE);
    assert.equal(report.requests, 13617);
    assert.equal(report.non2xx, 0);
    assert.deepEqual(report.socketErrors, { connect: 0, read: 0, write: 0, timeout: 0 });
    near(report.elapsedMs, 1020);
    assert.ok(report.latency);
    near(report.latency.p50, 0.144);
    near(report.latency.p90, 2.99);
    near(report.latency.p99, 33.45);
    near(report.latency.max, 48.35);
    assert.equal(wrkErrors(report, true), 0);
  });

  it("forgives Connection: close's one read error per request, but no more", () => {
    const report = parseWrkOutput(CONNECTION_CLOSE);
    assert.equal(report.requests, 1703);
    assert.equal(report.socketErrors.read, 1700);
    assert.equal(wrkErrors(report, false), 0);
    assert.equal(wrkErrors(report, true), 1700);
    const worse = { ...report, socketErrors: { ...report.socketErrors, read: 1710 } };
    assert.equal(wrkErrors(worse, false), 7);
  });

  it('counts non-2xx responses as errors', () => {
    const report = parseWrkOutput(NON_2XX);
    assert.equal(report.requests, 21466);
    assert.equal(report.non2xx, 5367);
    assert.equal(wrkErrors(report, true), 5367);
    near(report.latency?.p50 ?? 0, 0.083);
    near(report.latency?.max ?? 0, 12.01);
  });

  it('reads a run that completed nothing, with minutes as its unit', () => {
    const report = parseWrkOutput(NOTHING);
    assert.equal(report.requests, 0);
    near(report.elapsedMs, 60_000);
    assert.deepEqual(report.socketErrors, { connect: 3, read: 40117, write: 2, timeout: 7 });
    assert.equal(report.latency, undefined);
    assert.equal(wrkErrors(report, true), 40129);
  });

  it('throws on output without a request count', () => {
    assert.throws(
      () => parseWrkOutput('unable to connect to 127.0.0.1:1 Connection refused'),
      /no request count/,
    );
  });
});

describe('wrk on this machine', { timeout: 60_000 }, () => {
  let fixture: BenchFixture;

  before(async () => {
    fixture = await startBenchFixture();
  });

  after(() => fixture?.stop());

  it('is detected and measures the http upstream, or is reported missing and cannot run', async () => {
    const version = await detectWrk();
    const run = runWrk({
      endpoint: fixture.upstreams.endpoints.http,
      connections: 2,
      threads: 1,
      durationMs: 1000,
      keepAlive: true,
    });
    if (version === undefined) {
      await assert.rejects(run, /ENOENT/);
      return;
    }
    assert.match(version, /\d+\.\d+/);
    const result = await run;
    assert.equal(result.tool, 'wrk');
    assert.ok(result.units > 0);
    assert.equal(result.errors, 0);
    assert.ok(result.elapsedMs > 0);
    assert.ok(result.generatorCpuMs > 0);
    assertOrderedLatency(result.latency);
  });
});
