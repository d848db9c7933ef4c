import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LOAD_DETAIL_HEADER, loadDetailRows } from '../../../src/bench/report/load-details.js';
import { renderBenchmarksSection } from '../../../src/bench/report/markdown.js';
import { alignColumns } from '../../../src/bench/report/table.js';
import { fixtureResults, fixtureRun, result } from './fixtures.js';

describe('loadDetailRows', () => {
  it('lists every rate row per target with latency and generator load, and leaves cost rows out', () => {
    const rows = loadDetailRows([
      result('keepalive', 'haproxy', 40_000, {
        latency: { p50: 1.2, p90: 2, p99: 3.456, max: 9 },
        generatorLoad: 0.93,
      }),
      result('keepalive', 'direct', 90_000, { generatorLoad: 0.5 }),
      result('cpu per request', 'haproxy', 20, { higherIsBetter: false, unit: 'µs', generatorLoad: 0.9 }),
    ]);
    assert.deepEqual(rows, [
      ['keepalive', 'direct', '—', '—', '—', '0.50'],
      ['keepalive', 'haproxy', '1.20', '3.46', '9.00', '0.93'],
    ]);
    const text = alignColumns(LOAD_DETAIL_HEADER, rows);
    assert.match(text, /^scenario {4}target {2}p50 ms/);
    assert.equal(text.trimEnd().split('\n').length, 4);
  });

  it('puts the table into the Markdown section under the main one', () => {
    const section = renderBenchmarksSection(fixtureRun(fixtureResults()));
    const main = section.indexOf('| scenario | direct |');
    const details = section.indexOf(
      '| scenario | target | p50 ms | p99 ms | max ms | generator CPU (cores) |',
    );
    assert.ok(main >= 0 && details > main, section);
  });
});
