import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runBulk } from '../../../src/bench/load/bulk.js';
import { type BenchFixture, refusedEndpoint, startBenchFixture } from '../helpers/bench-fixture.js';

const MiB = 1024 * 1024;

describe('runBulk', { timeout: 60_000 }, () => {
  let fixture: BenchFixture;

  before(async () => {
    fixture = await startBenchFixture();
  });

  after(() => fixture?.stop());

  it('counts exactly maxBytes from the bulk upstream when the count bound ends the run', async () => {
    const result = await runBulk({
      endpoint: fixture.upstreams.endpoints.bulk,
      streams: 2,
      durationMs: 20_000,
      maxBytes: 8 * MiB,
      warmupMs: 20,
    });
    assert.equal(result.units, 8 * MiB);
    assert.equal(result.errors, 0);
    assert.equal(result.latency, undefined);
    assert.equal(result.tool, 'switchyard');
    assert.ok(result.elapsedMs > 0);
    assert.ok(result.generatorCpuMs > 0);
  });

  it('stops at the duration when the count is out of reach', async () => {
    const result = await runBulk({
      endpoint: fixture.upstreams.endpoints.bulk,
      streams: 1,
      durationMs: 200,
      maxBytes: Number.MAX_SAFE_INTEGER,
      warmupMs: 0,
    });
    assert.ok(result.units > 0);
    assert.ok(result.units < Number.MAX_SAFE_INTEGER);
    assert.equal(result.errors, 0);
  });

  it('counts refused streams as errors', async () => {
    const result = await runBulk({
      endpoint: await refusedEndpoint(),
      streams: 2,
      durationMs: 100,
      maxBytes: MiB,
      warmupMs: 0,
    });
    assert.equal(result.units, 0);
    assert.ok(result.errors > 0);
  });

  it('rejects a negative warm-up', async () => {
    const options = {
      endpoint: fixture.upstreams.endpoints.bulk,
      streams: 1,
      durationMs: 100,
      maxBytes: MiB,
    };
    await assert.rejects(runBulk({ ...options, warmupMs: -1 }), RangeError);
  });
});
