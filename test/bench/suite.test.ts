import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatTable } from '../../src/bench/report/table.js';
import { SCENARIOS } from '../../src/bench/scenarios.js';
import { runSuite, selectScenarios } from '../../src/bench/suite.js';
import type { TargetName } from '../../src/bench/types.js';

const ALL: TargetName[] = ['direct', 'switchyard', 'switchyard-defaults', 'naive', 'haproxy', 'nginx'];

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
    for (const always of ['direct', 'switchyard', 'switchyard-defaults', 'naive'] as const) {
      assert.ok(ran.includes(always), always);
    }
    // The iperf3 rows run where iperf3 is installed (CI always has it) and are noted otherwise.
    const iperf3 = report.versions.iperf3 !== undefined;
    if (process.env.CI === 'true') assert.ok(iperf3, 'iperf3 must be installed in CI');
    if (!iperf3) assert.ok(report.notes.some((n) => n.includes('iperf3 is not installed here')));
    const scenarios = SCENARIOS.filter((s) => iperf3 || s.needs !== 'iperf3');
    assert.equal(steps.length, scenarios.length * ran.length + 1);
    assert.equal(steps.at(-1), 'done');

    for (const scenario of scenarios) {
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
        const naive = cells.find((c) => c.target === 'naive');
        assert.equal(naive?.vsNaive, 1);
        for (const cell of cells) assert.ok(cell.vsNaive !== undefined && cell.vsNaive > 0);
      }
    }
    const table = formatTable(report.results, ran);
    for (const scenario of scenarios) for (const row of scenario.rows) assert.ok(table.includes(row.name));
    assert.ok(Array.isArray(report.warnings));
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
