import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runHandshakes } from '../../../src/bench/load/handshakes.js';
import { getTestPki } from '../../helpers/certs.js';
import {
  assertOrderedLatency,
  type BenchFixture,
  refusedEndpoint,
  startBenchFixture,
} from '../helpers/bench-fixture.js';

describe('runHandshakes', { timeout: 60_000 }, () => {
  let fixture: BenchFixture;

  before(async () => {
    fixture = await startBenchFixture();
  });

  after(() => fixture?.stop());

  it('full handshakes: completes exactly maxHandshakes and never reuses a session', async () => {
    const result = await runHandshakes({
      endpoint: fixture.upstreams.tlsEcho,
      concurrency: 2,
      durationMs: 20_000,
      maxHandshakes: 30,
      tls: fixture.tls,
      resume: false,
    });
    assert.equal(result.units, 30);
    assert.equal(result.errors, 0);
    assert.equal(result.reused, 0);
    assert.equal(result.tool, 'switchyard');
    assert.ok(result.generatorCpuMs > 0);
    assertOrderedLatency(result.latency);
  });

  it('resumed handshakes: reuse sessions after each slot has its first ticket', async () => {
    const concurrency = 2;
    const result = await runHandshakes({
      endpoint: fixture.upstreams.tlsEcho,
      concurrency,
      durationMs: 20_000,
      maxHandshakes: 30,
      tls: fixture.tls,
      resume: true,
    });
    assert.equal(result.units, 30);
    assert.equal(result.errors, 0);
    assert.ok(result.reused > 0, 'no session was resumed');
    // A slot's first handshake has no ticket yet.
    assert.ok(result.reused <= result.units - concurrency, `reused ${result.reused} of ${result.units}`);
    assertOrderedLatency(result.latency);
  });

  it('counts a client certificate the upstream refuses as errors, not handshakes', async () => {
    const untrusted = (await getTestPki()).untrusted;
    const result = await runHandshakes({
      endpoint: fixture.upstreams.tlsEcho,
      concurrency: 1,
      durationMs: 300,
      maxHandshakes: 1_000,
      tls: { ...fixture.tls, cert: untrusted.cert, key: untrusted.key },
      resume: false,
    });
    assert.equal(result.units, 0);
    assert.ok(result.errors > 0);
  });

  it('counts refused connections as errors', async () => {
    const result = await runHandshakes({
      endpoint: await refusedEndpoint(),
      concurrency: 2,
      durationMs: 100,
      maxHandshakes: 10,
      tls: fixture.tls,
      resume: true,
    });
    assert.equal(result.units, 0);
    assert.ok(result.errors > 0);
    assert.equal(result.reused, 0);
  });
});
