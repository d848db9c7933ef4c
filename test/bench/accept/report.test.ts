import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatResultTable, formatSampleTable, type ModeResult } from '../../../src/bench/accept/report.js';
import { summarize } from '../../../src/bench/accept/summary.js';

const results: ModeResult[] = [
  {
    mode: 'single',
    workers: 1,
    connect: summarize([{ units: 3500, errors: 0, elapsedMs: 1000, cpuMs: 1225, accepted: [3500] }]),
    keepAlive: summarize([{ units: 40_000, errors: 2, elapsedMs: 1000, cpuMs: 1000, accepted: [50] }]),
  },
  {
    mode: 'cluster-rr',
    workers: 2,
    connect: summarize([
      { units: 3000, errors: 0, elapsedMs: 1000, cpuMs: 1590, primaryCpuMs: 318, accepted: [1530, 1470] },
    ]),
    keepAlive: summarize([
      { units: 42_000, errors: 0, elapsedMs: 1000, cpuMs: 1050, primaryCpuMs: 5, accepted: [25, 25] },
    ]),
  },
];

describe('accept bench report', () => {
  it('shows one row of medians per mode, with the spread and the root share', () => {
    const lines = formatResultTable(results).split('\n');
    assert.equal(lines.length, 4);
    assert.match(lines[0], /^\| mode \| conn\/s \| CPU per new conn \|/);
    assert.equal(
      lines[2],
      '| single (1) | 3500 | 350 µs | — | 100 % | 40.0 k (2 errors) | 25.0 µs | 100 % |',
    );
    assert.equal(
      lines[3],
      '| cluster-rr (2) | 3000 | 530 µs | 20 % | 51/49 % | 42.0 k | 25.0 µs | 50/50 % |',
    );
  });

  it('lists every run behind the medians', () => {
    const lines = formatSampleTable(results).split('\n');
    assert.equal(lines[2], '| single | 3500 | 350 | 40.0 k | 25.0 |');
  });
});
