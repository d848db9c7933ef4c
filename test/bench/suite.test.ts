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
    // HAProxy has no UDP, so the udp scenario runs on one target fewer where it is installed.
    const noUdp = ran.includes('haproxy') ? 1 : 0;
    assert.equal(steps.length, scenarios.length * ran.length - noUdp + 1);
    assert.equal(steps.at(-1), 'done');

    for (const scenario of scenarios) {
      for (const row of scenario.rows) {
        const cells = report.results.filter((r) => r.scenario === row.name);
        // rates exist for every target; CPU and memory only where there is a proxy process to read
        const perProxy = row.proxyOnly === true;
        const runs = ran.filter((t) => scenario.id !== 'udp' || t !== 'haproxy');
        const expected = perProxy ? runs.filter((t) => t !== 'direct') : runs;
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
          if (runs.includes('haproxy')) assert.ok(cell.vsHaproxy !== undefined && cell.vsHaproxy > 0);
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

  it('runs the udp scenario alone: both rows for switchyard, — for haproxy, and switchyard/nginx in the notes', async () => {
    const targets: TargetName[] = ['switchyard', 'switchyard-workers', 'naive', 'haproxy', 'nginx'];
    const report = await runSuite({
      targets,
      scenarios: ['udp'],
      repetitions: 1,
      durationMs: 300,
      idleConnections: 10,
      warmupMs: 100,
      wrk: false,
      iperf3: false,
      quick: true,
      command: 'test',
    });
    const cell = (row: string, target: TargetName) =>
      report.results.find((r) => r.scenario === row && r.target === target);
    for (const row of ['UDP datagrams/s', 'proxy CPU per datagram']) {
      const switchyard = cell(row, 'switchyard');
      assert.ok(switchyard !== undefined && switchyard.value > 0, row);
      assert.equal(switchyard.errors, 0, row);
      assert.ok(cell(row, 'naive') !== undefined, row);
      assert.ok(cell(row, 'switchyard-workers') !== undefined, row);
      // HAProxy's open-source edition has no UDP proxying.
      assert.equal(cell(row, 'haproxy'), undefined, row);
    }
    const table = formatTable(report.results, targets);
    const udpLine = table.split('\n').find((line) => line.startsWith('UDP datagrams/s'));
    // switchyard, switchyard-workers, naive, then haproxy's empty cell
    assert.match(udpLine ?? '', /(?:[\d.]+ (?:[kM] )?dgram\/s\s+){3}—\s/);
    assert.ok(report.notes.some((n) => n.includes("HAProxy's open-source edition has no UDP proxying")));
    // NGINX must be installed in CI; elsewhere its absence is noted and there is no ratio to give.
    if (report.versions.nginx === undefined) {
      assert.notEqual(process.env.CI, 'true', 'nginx must be installed in CI');
      assert.ok(report.notes.some((n) => n.includes('nginx is not installed here')));
    } else {
      assert.ok(cell('UDP datagrams/s', 'nginx') !== undefined);
      const note = report.notes.find((n) => n.startsWith('switchyard/nginx where HAProxy has no figure'));
      assert.match(note ?? '', /UDP datagrams\/s \d+\.\d\dx.*proxy CPU per datagram \d+\.\d\dx/);
    }
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
