import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ACCEPT_DEFAULTS, parseAcceptOptions } from '../../../src/bench/accept/options.js';

describe('accept bench options', () => {
  it('defaults to 3 repetitions of 5 s, 2 workers, every mode and wrk', () => {
    const options = parseAcceptOptions([]);
    assert.equal(options.durationMs, ACCEPT_DEFAULTS.durationMs);
    assert.equal(options.repetitions, 3);
    assert.equal(options.workers, 2);
    assert.deepEqual(options.modes, ['single', 'cluster-rr', 'cluster-none', 'handle-send', 'reuseport']);
    assert.equal(options.wrk, true);
    assert.equal(options.jsonPath, undefined);
    assert.equal(options.help, false);
  });

  it('reads every option', () => {
    const options = parseAcceptOptions([
      '--duration',
      '2000',
      '--repetitions=5',
      '--workers',
      '4',
      '--warmup',
      '0',
      '--no-wrk',
      '--json',
      'out.json',
    ]);
    assert.equal(options.durationMs, 2000);
    assert.equal(options.repetitions, 5);
    assert.equal(options.workers, 4);
    assert.equal(options.warmupMs, 0);
    assert.equal(options.wrk, false);
    assert.equal(options.jsonPath, 'out.json');
    assert.equal(parseAcceptOptions(['--help']).help, true);
  });

  it('keeps the report order of modes and each mode once', () => {
    assert.deepEqual(parseAcceptOptions(['--modes', 'reuseport, single,reuseport']).modes, [
      'single',
      'reuseport',
    ]);
  });

  it('refuses what would skew or never end a run', () => {
    assert.throws(() => parseAcceptOptions(['--duration', '0']), /--duration/);
    assert.throws(() => parseAcceptOptions(['--duration', '5s']), /--duration/);
    assert.throws(() => parseAcceptOptions(['--duration', '']), /--duration/);
    assert.throws(() => parseAcceptOptions(['--duration', '99999999']), /--duration/);
    assert.throws(() => parseAcceptOptions(['--repetitions', '-1']), /--repetitions/);
    assert.throws(() => parseAcceptOptions(['--workers', '0']), /--workers/);
    assert.throws(() => parseAcceptOptions(['--modes', 'cluster']), /--modes/);
    assert.throws(() => parseAcceptOptions(['--modes', ',']), /--modes/);
    assert.throws(() => parseAcceptOptions(['--unknown']));
    assert.throws(() => parseAcceptOptions(['extra']));
  });
});
