import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatTable } from '../../src/bench/report/table.js';
import { SCENARIOS } from '../../src/bench/scenarios.js';
import { runSuite, selectScenarios } from '../../src/bench/suite.js';
import type { TargetName } from '../../src/bench/types.js';

const ALL: TargetName[] = ['direct', 'switchyard', 'haproxy', 'nginx'];

describe('the proxy benchmark suite', { timeout: 180_000 }, () => {
  it('runs every scenario on every installed target and reports medians, ratios and CPU per unit', async () => {
    const steps: string[] = [];
    const report = await runSuite({
      targets: ALL,
      scenarios: [],
      repetitions: 1,
      durationMs: 400,
      idleConnections: 40,
      warmupMs: 0,
      wrk: true,
      iperf3: true,
      quick: true,
      command: 'test',
      progress: (total) => ({
        step: (label) => steps.push(`${steps.length + 1}/${total} ${label}`),
        done: () => steps.push('done'),
      }),
    });
    const ran = ALL.filter((t) => report.versions[t] !== undefined);
    assert.ok(ran.includes('direct') && ran.includes('switchyard'));
    assert.equal(steps.length, SCENARIOS.length * ran.length + 1);
    assert.equal(steps.at(-1), 'done');

    for (const scenario of SCENARIOS) {
      for (const row of scenario.rows) {
        const cells = report.results.filter((r) => r.scenario === row.name);
        // rates exist for every target; CPU and memory only where there is a proxy process to read
        const perProxy = row.proxyOnly === true;
        const expected = perProxy ? ran.filter((t) => t !== 'direct') : ran;
        assert.deepEqual(
          cells.map((c) => c.target),
          expected,
          `targets of "${row.name}"`,
        );
        for (const cell of cells) {
          assert.equal(cell.errors, 0, `${row.name} via ${cell.target} had errors`);
          assert.ok(Number.isFinite(cell.value), `${row.name} via ${cell.target}: ${cell.value}`);
          // rates and CPU are always positive; memory growth of a process can come out at zero
          if (row.unit !== 'KB') assert.ok(cell.value > 0, `${row.name} via ${cell.target}: ${cell.value}`);
          assert.deepEqual(cell.samples, [cell.value]);
          if (ran.includes('haproxy')) assert.ok(cell.vsHaproxy !== undefined && cell.vsHaproxy > 0);
          if (!perProxy) assert.ok(cell.vsDirect !== undefined && cell.vsDirect > 0);
        }
        const haproxy = cells.find((c) => c.target === 'haproxy');
        if (haproxy !== undefined) assert.equal(haproxy.vsHaproxy, 1);
      }
    }
    const table = formatTable(report.results, ran);
    for (const scenario of SCENARIOS) for (const row of scenario.rows) assert.ok(table.includes(row.name));
    assert.ok(report.notes.some((n) => n.includes('40 plain TCP connections')));
  });

  it('names an unknown scenario and lists the known ones', () => {
    assert.throws(
      () => selectScenarios(['keepalive', 'warp-speed']),
      /unknown scenario warp-speed; known: bulk-1/,
    );
    assert.deepEqual(
      selectScenarios(['connect', 'bulk-1']).map((s) => s.id),
      ['bulk-1', 'connect'],
    );
  });
});
