import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatDuration, MAX_DURATION_MS, parseDuration } from '../../src/config/duration.js';

describe('parseDuration', () => {
  const good: [unknown, number][] = [
    ['500ms', 500],
    ['2s', 2000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['1d', 86_400_000],
    ['1m30s', 90_000],
    ['1h30m', 5_400_000],
    ['1d2h3m4s5ms', 93_784_005],
    ['1.5s', 1500],
    ['0', 0],
    ['0s', 0],
    ['250', 250],
    [' 2s ', 2000],
    [0, 0],
    [1500, 1500],
    [2.4, 2],
  ];
  for (const [input, ms] of good) {
    it(`reads ${JSON.stringify(input)} as ${ms} ms`, () => assert.equal(parseDuration(input), ms));
  }

  const bad: unknown[] = [
    '5 minutes',
    '5min',
    '1m1m',
    '30s1m',
    '2S',
    '-1s',
    '',
    's',
    '1.s',
    -1,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    null,
    undefined,
    true,
    [],
  ];
  for (const input of bad) {
    it(`refuses ${String(JSON.stringify(input))}`, () => assert.equal(parseDuration(input), undefined));
  }
});

describe('formatDuration', () => {
  it('writes the shortest text parseDuration reads back', () => {
    for (const ms of [0, 1, 999, 1000, 90_000, 5_400_000, 93_784_005, MAX_DURATION_MS]) {
      assert.equal(parseDuration(formatDuration(ms)), ms);
    }
    assert.equal(formatDuration(90_000), '1m30s');
    assert.equal(formatDuration(0), '0s');
    assert.equal(formatDuration(500), '500ms');
  });

  it('refuses negative numbers', () => {
    assert.throws(() => formatDuration(-1), RangeError);
  });
});
