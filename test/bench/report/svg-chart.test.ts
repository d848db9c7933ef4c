import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderScenarioChart, TARGET_COLOURS } from '../../../src/bench/report/svg-chart.js';
import { fixtureResults, result } from './fixtures.js';
import { xmlProblems } from './xml-check.js';

const keepalive = fixtureResults().filter((r) => r.scenario === 'keepalive');

function count(text: string, part: string): number {
  return text.split(part).length - 1;
}

describe('xmlProblems (the test helper)', () => {
  it('accepts well-formed XML and finds the usual mistakes', () => {
    assert.deepEqual(xmlProblems('<svg a="1"><g><text>a &amp; b</text></g><rect/></svg>'), []);
    assert.notDeepEqual(xmlProblems('<svg><g></svg>'), []);
    assert.notDeepEqual(xmlProblems('<svg><text>a & b</text></svg>'), []);
    assert.notDeepEqual(xmlProblems('<svg><text>a < b</text></svg>'), []);
    assert.notDeepEqual(xmlProblems('<svg></svg><svg></svg>'), []);
    assert.notDeepEqual(xmlProblems('<svg x=1></svg>'), []);
  });
});

describe('renderScenarioChart', () => {
  const svg = renderScenarioChart('keepalive', keepalive);

  it('is one well-formed svg element', () => {
    assert.ok(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'));
    assert.ok(svg.trimEnd().endsWith('</svg>'));
    assert.deepEqual(xmlProblems(svg), []);
  });

  it('draws one bar per target, in target order, each in its own colour', () => {
    assert.equal(count(svg, '<rect'), 4);
    const order = ['direct', 'switchyard', 'haproxy', 'nginx'].map((t) => svg.indexOf(`>${t}</text>`));
    assert.deepEqual(
      [...order].sort((a, b) => a - b),
      order,
    );
    for (const target of ['direct', 'switchyard', 'haproxy', 'nginx'] as const) {
      assert.equal(count(svg, `fill="${TARGET_COLOURS[target]}"`), 1, target);
    }
    assert.equal(new Set(Object.values(TARGET_COLOURS)).size, Object.keys(TARGET_COLOURS).length);
    // Switchyard stands out: the only outlined bar.
    assert.equal(count(svg, '<rect'), count(svg, '<rect x="104"'));
    assert.equal(count(svg, 'stroke-width="1"/>'), 2, 'switchyard outline and the axis');
  });

  it('scales bars to the largest figure and labels each with its median', () => {
    const widths = [...svg.matchAll(/<rect [^>]* width="([\d.]+)"/g)].map((m) => Number(m[1]));
    // direct 100 000 against a top of 105 000 (its best sample), the others in proportion.
    assert.ok(Math.abs(widths[0] / widths[1] - 2) < 0.01, String(widths));
    assert.ok(Math.abs(widths[1] / widths[2] - 1.25) < 0.01, String(widths));
    for (const label of ['100.0 k req/s', '50.0 k req/s', '40.0 k req/s', '45.0 k req/s (3 errors)']) {
      assert.ok(svg.includes(`>${label}</text>`), label);
    }
  });

  it('draws a min–max whisker for each bar with more than one distinct sample', () => {
    assert.equal(count(svg, '<path '), 4);
    const flat = renderScenarioChart('flat', [result('flat', 'switchyard', 5, { samples: [5, 5, 5] })]);
    assert.equal(count(flat, '<path '), 0);
  });

  it('titles the chart with the scenario and unit and says which way is better', () => {
    assert.ok(svg.includes('>keepalive (req/s)</text>'));
    assert.ok(svg.includes('higher is better'));
    const cost = renderScenarioChart(
      'cpu per connection',
      fixtureResults().filter((r) => r.scenario === 'cpu per connection'),
    );
    assert.ok(cost.includes('>cpu per connection (µs/conn)</text>'));
    assert.ok(cost.includes('lower is better'));
    assert.equal(count(cost, '<rect'), 2);
  });

  it('escapes names for XML', () => {
    const nasty = 'a<b> & "c"';
    const chart = renderScenarioChart(nasty, [
      result(nasty, 'switchyard', 10, { unit: 'req<s>&' }),
      result(nasty, 'haproxy', 8, { unit: 'req<s>&' }),
    ]);
    assert.deepEqual(xmlProblems(chart), []);
    assert.ok(chart.includes('a&lt;b&gt; &amp; "c" (req&lt;s&gt;&amp;)'));
    assert.ok(!chart.includes('a<b>'));
    assert.deepEqual(xmlProblems(renderScenarioChart('bell\u0007', [result('x', 'direct', 1)])), []);
  });

  it('gives the same bytes for the same input, whatever order the rows come in', () => {
    assert.equal(renderScenarioChart('keepalive', keepalive), svg);
    assert.equal(renderScenarioChart('keepalive', [...keepalive].reverse()), svg);
    assert.equal(renderScenarioChart('keepalive', structuredClone(keepalive)), svg);
  });

  it('never prints float noise in coordinates', () => {
    const odd = renderScenarioChart('odd', [
      result('odd', 'switchyard', 0.1 + 0.2, { samples: [0.1, 0.3, 0.7] }),
      result('odd', 'haproxy', 1 / 3),
    ]);
    for (const [, value] of odd.matchAll(/ (?:x|y|width|x1|x2|y1|y2)="([^"]*)"/g)) {
      assert.match(value, /^-?\d+(\.\d)?$/, value);
    }
  });

  it('still draws for zero, missing or non-finite figures and for no rows at all', () => {
    const odd = renderScenarioChart('odd', [
      result('odd', 'switchyard', 0, { samples: [0] }),
      result('odd', 'haproxy', Number.NaN, { samples: [] }),
    ]);
    assert.deepEqual(xmlProblems(odd), []);
    assert.ok(odd.includes('>n/a req/s</text>'));
    assert.ok(!odd.includes('NaN'));
    const empty = renderScenarioChart('nothing', []);
    assert.deepEqual(xmlProblems(empty), []);
    assert.equal(count(empty, '<rect'), 0);
    assert.ok(empty.includes('no results'));
  });

  it('honours a width', () => {
    assert.ok(
      renderScenarioChart('keepalive', keepalive, { width: 800 }).startsWith(
        '<svg xmlns="http://www.w3.org/2000/svg" width="800"',
      ),
    );
  });
});
