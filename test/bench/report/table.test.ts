import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatNumber, formatRatio } from '../../../src/bench/report/format.js';
import { formatTable } from '../../../src/bench/report/table.js';
import type { TargetName } from '../../../src/bench/types.js';
import { fixtureResults, result } from './fixtures.js';

const ALL: TargetName[] = ['direct', 'switchyard', 'haproxy', 'nginx'];

/** The table's lines, and each data line's row by scenario name. */
function parse(table: string) {
  const lines = table.trimEnd().split('\n');
  const row = (scenario: string) => {
    const line = lines.find((l) => l.startsWith(`${scenario}  `));
    assert.ok(line !== undefined, `no row for ${scenario} in\n${table}`);
    return line;
  };
  return { lines, row };
}

describe('formatTable', () => {
  const table = formatTable(fixtureResults(), ALL);
  const { lines, row } = parse(table);

  it('has a header naming every target and the ratios, a rule, and one row per scenario', () => {
    assert.ok(table.endsWith('\n'));
    for (const title of [...ALL, 'switchyard/haproxy', 'switchyard/naive', 'switchyard/direct'])
      assert.ok(lines[0].includes(title));
    assert.match(lines[1], /^[- ]+$/);
    assert.equal(lines.length, 2 + 3);
    assert.ok(lines[2].startsWith('keepalive'), 'scenarios in run order');
    assert.ok(lines[3].startsWith('cpu per connection'));
    assert.ok(lines[4].startsWith('mtls handshake'));
  });

  it('shows each median with its unit, and errors beside it', () => {
    assert.ok(row('keepalive').includes('100.0 k req/s'));
    assert.ok(row('keepalive').includes('50.0 k req/s'));
    assert.ok(row('keepalive').includes('45.0 k req/s (3 errors)'));
    assert.ok(row('cpu per connection').includes('50.0 µs/conn'));
    assert.ok(row('mtls handshake').includes('1500 conn/s'));
  });

  it('formats the ratios and marks ✓ only where Switchyard is at least 1.00x HAProxy', () => {
    assert.ok(row('keepalive').includes('1.25x ✓'));
    assert.ok(row('keepalive').endsWith('0.50x'));
    assert.ok(row('cpu per connection').includes('0.80x'));
    assert.ok(!row('cpu per connection').includes('✓'));
    assert.ok(row('mtls handshake').endsWith('0.75x'));
  });

  it('shows — for targets and ratios that are missing', () => {
    const cells = row('mtls handshake').split(/ {2,}/);
    assert.deepEqual(cells, ['mtls handshake', '2000 conn/s', '1500 conn/s', '—', '—', '—', '—', '0.75x']);
    const cpu = row('cpu per connection').split(/ {2,}/);
    assert.equal(cpu[1], '—', 'no direct row');
    assert.equal(cpu[4], '—', 'no nginx row');
    assert.equal(cpu.at(-1), '—', 'no ratio to direct');
  });

  it('aligns every column: all lines as wide, cells right-aligned under their titles', () => {
    const widths = new Set(lines.map((l) => [...l].length));
    assert.equal(widths.size, 1, table);
    // The ratio column's decimal points line up whether or not a ✓ follows.
    const column = lines[0].indexOf('switchyard/haproxy');
    const points = [row('keepalive'), row('cpu per connection')].map((l) => l.indexOf('x', column));
    assert.ok(points[0] > column, table);
    assert.equal(points[0], points[1], table);
  });

  it('computes a ratio the switchyard row lacks from the medians, honouring the direction', () => {
    const text = formatTable(
      [
        result('rate', 'switchyard', 30, { unit: 'Gbit/s' }),
        result('rate', 'haproxy', 20, { unit: 'Gbit/s' }),
        result('cost', 'switchyard', 30, { unit: 'KB/conn', higherIsBetter: false }),
        result('cost', 'haproxy', 20, { unit: 'KB/conn', higherIsBetter: false }),
        result('cost', 'direct', 15, { unit: 'KB/conn', higherIsBetter: false }),
      ],
      ['switchyard', 'haproxy', 'direct'],
    );
    const { row: r } = parse(text);
    assert.ok(r('rate').includes('1.50x ✓'), text);
    assert.ok(r('cost').includes('0.67x'), text);
    assert.ok(r('cost').endsWith('0.50x'), text);
  });

  it('gives Switchyard / naive with ✓ at 1.00x or better, in both directions, and marks refused cells', () => {
    const text = formatTable(
      [
        result('rate', 'switchyard', 30, { unit: 'Gbit/s' }),
        result('rate', 'naive', 40, { unit: 'Gbit/s' }),
        result('cost', 'switchyard', 30, { unit: 'µs', higherIsBetter: false }),
        result('cost', 'naive', 30, { unit: 'µs', higherIsBetter: false }),
        result('cost', 'switchyard-defaults', 90, {
          unit: 'µs',
          higherIsBetter: false,
          refused: { ERR_HANDSHAKE_RATE: 3 },
        }),
      ],
      ['switchyard', 'switchyard-defaults', 'naive'],
    );
    const { row: r } = parse(text);
    assert.deepEqual(r('rate').split(/ {2,}/), [
      'rate',
      '30.0 Gbit/s',
      '—',
      '40.0 Gbit/s',
      '—',
      '0.75x',
      '—',
    ]);
    assert.deepEqual(r('cost').split(/ {2,}/), [
      'cost',
      '30.0 µs',
      '90.0 µs !',
      '30.0 µs',
      '—',
      '1.00x ✓',
      '—',
    ]);
  });

  it('lays out only the requested targets, in the requested order', () => {
    const text = formatTable(fixtureResults(), ['haproxy', 'switchyard']);
    const header = text.split('\n')[0].split(/ {2,}/);
    assert.deepEqual(header, [
      'scenario',
      'haproxy',
      'switchyard',
      'switchyard/haproxy',
      'switchyard/naive',
      'switchyard/direct',
    ]);
    assert.ok(!text.includes('100.0 k req/s'), 'the direct cell is not shown');
  });

  it('gives a header and a rule for no results', () => {
    assert.equal(formatTable([], ALL).trimEnd().split('\n').length, 2);
  });
});

describe('number formatting', () => {
  it('keeps about three significant digits with k and M', () => {
    const cases: [number, string][] = [
      [0, '0.00'],
      [9.994, '9.99'],
      [9.996, '10.0'],
      [99.96, '100'],
      [9_999.4, '9999'],
      [9_999.6, '10.0 k'],
      [45_210, '45.2 k'],
      [999_949, '999.9 k'],
      [999_960, '1.00 M'],
      [1_234_567, '1.23 M'],
      [Number.NaN, 'n/a'],
    ];
    for (const [value, text] of cases) assert.equal(formatNumber(value), text, String(value));
  });

  it('writes ratios with two decimals', () => {
    assert.equal(formatRatio(1), '1.00x');
    assert.equal(formatRatio(0.456), '0.46x');
    assert.equal(formatRatio(undefined), '—');
    assert.equal(formatRatio(Number.POSITIVE_INFINITY), '—');
  });
});
