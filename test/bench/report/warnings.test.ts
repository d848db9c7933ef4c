import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  benchWarnings,
  disagreementWarnings,
  MAX_DISAGREEMENT,
  refusalWarnings,
} from '../../../src/bench/report/warnings.js';
import { AGREEMENT_PAIRS } from '../../../src/bench/scenarios.js';
import type { TargetName } from '../../../src/bench/types.js';
import { result } from './fixtures.js';

const OURS = 'bulk throughput, 1 stream';
const IPERF3 = 'bulk, 1 stream (iperf3)';
const gbit = { unit: 'Gbit/s' };

describe('bulk generator against iperf3', () => {
  it('pairs each bulk row of the suite with the iperf3 row of as many streams', () => {
    assert.deepEqual(AGREEMENT_PAIRS, [
      { ours: OURS, iperf3: IPERF3 },
      { ours: 'bulk throughput, 8 streams', iperf3: 'bulk, 8 streams (iperf3)' },
    ]);
    assert.equal(MAX_DISAGREEMENT, 0.25);
  });

  it('warns when the two differ by more than 25% of iperf3, in either direction', () => {
    const cases: { ours: number; iperf3: number; warns: boolean }[] = [
      { ours: 10, iperf3: 10, warns: false },
      { ours: 7.5, iperf3: 10, warns: false },
      { ours: 12.5, iperf3: 10, warns: false },
      { ours: 7.4, iperf3: 10, warns: true },
      { ours: 12.6, iperf3: 10, warns: true },
      { ours: 4, iperf3: 6.4, warns: true },
      { ours: 1, iperf3: 0, warns: false }, // no iperf3 figure to compare with
    ];
    for (const c of cases) {
      const warnings = disagreementWarnings(
        [result(OURS, 'naive', c.ours, gbit), result(IPERF3, 'naive', c.iperf3, gbit)],
        AGREEMENT_PAIRS,
      );
      assert.equal(warnings.length, c.warns ? 1 : 0, JSON.stringify(c));
    }
  });

  it('names the target, both figures and their ratio, and compares each target with itself', () => {
    const warnings = disagreementWarnings(
      [
        result(OURS, 'switchyard', 4, gbit),
        result(OURS, 'haproxy', 8, gbit),
        result(IPERF3, 'switchyard', 8, gbit),
        result(IPERF3, 'haproxy', 8, gbit),
        result(OURS, 'nginx', 8, gbit), // nginx has no iperf3 row: nothing to compare
      ],
      AGREEMENT_PAIRS,
    );
    assert.equal(warnings.length, 1);
    assert.match(
      warnings[0],
      /^switchyard: "bulk throughput, 1 stream" is 4\.00 Gbit\/s but iperf3 measured 8\.00 Gbit\/s/,
    );
    assert.match(warnings[0], /\(0\.50x\)/);
    assert.match(warnings[0], /a suite that disagrees with iperf3 is wrong/);
  });
});

describe('guard refusals', () => {
  it('gives one line per target and set of runs, naming the rows, reasons and total', () => {
    const refused = { ERR_HANDSHAKE_RATE: 120, ERR_HANDSHAKE_BACKLOG: 3 };
    const target: TargetName = 'switchyard-defaults';
    const warnings = refusalWarnings([
      result('full mTLS handshakes/s', target, 900, { refused }),
      result('proxy CPU per full mTLS handshake', target, 2000, { refused, higherIsBetter: false }),
      result('full mTLS handshakes/s', 'switchyard', 1900),
      result('new TCP connections/s', target, 100, { refused: { ERR_LISTENER_FULL: 1 } }),
    ]);
    assert.deepEqual(warnings, [
      'switchyard-defaults refused 123 connection(s) by its guards (ERR_HANDSHAKE_RATE 120, ERR_HANDSHAKE_BACKLOG 3) during "full mTLS handshakes/s", "proxy CPU per full mTLS handshake": those figures (marked !) measure the guard, not the proxy.',
      'switchyard-defaults refused 1 connection(s) by its guards (ERR_LISTENER_FULL 1) during "new TCP connections/s": those figures (marked !) measure the guard, not the proxy.',
    ]);
  });

  it('puts refusals before disagreements and says nothing about a clean run', () => {
    const results = [
      result(OURS, 'naive', 1, gbit),
      result(IPERF3, 'naive', 10, gbit),
      result('keep-alive requests/s', 'switchyard-defaults', 1, { refused: { ERR_RATE_LIMITED: 2 } }),
    ];
    const warnings = benchWarnings(results, AGREEMENT_PAIRS);
    assert.equal(warnings.length, 2);
    assert.match(warnings[0], /^switchyard-defaults refused 2/);
    assert.match(warnings[1], /^naive: /);
    assert.deepEqual(benchWarnings([result(OURS, 'naive', 10, gbit)], AGREEMENT_PAIRS), []);
  });
});
