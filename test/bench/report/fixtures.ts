import type { RunReport } from '../../../src/bench/report/run-report.js';
import type { BenchResult, TargetName } from '../../../src/bench/types.js';

/** A result row with plausible defaults, for tests to override what they look at. */
export function result(
  scenario: string,
  target: TargetName,
  value: number,
  extra: Partial<BenchResult> = {},
): BenchResult {
  return {
    scenario,
    target,
    value,
    samples: [value * 0.9, value, value * 1.05],
    unit: 'req/s',
    higherIsBetter: true,
    errors: 0,
    ...extra,
  };
}

/**
 * Three scenarios: keepalive where Switchyard beats HAProxy (1.25x), a cost scenario where lower is
 * better and Switchyard loses (0.80x), and a TLS one where HAProxy and NGINX did not run.
 */
export function fixtureResults(): BenchResult[] {
  return [
    result('keepalive', 'direct', 100_000, { vsDirect: 1 }),
    result('keepalive', 'switchyard', 50_000, { vsHaproxy: 1.25, vsDirect: 0.5 }),
    result('keepalive', 'haproxy', 40_000, { vsDirect: 0.4 }),
    result('keepalive', 'nginx', 45_000, { vsDirect: 0.45, errors: 3 }),
    result('cpu per connection', 'switchyard', 50, {
      unit: 'µs/conn',
      higherIsBetter: false,
      vsHaproxy: 0.8,
    }),
    result('cpu per connection', 'haproxy', 40, { unit: 'µs/conn', higherIsBetter: false }),
    result('mtls handshake', 'direct', 2_000, { unit: 'conn/s' }),
    result('mtls handshake', 'switchyard', 1_500, { unit: 'conn/s', vsDirect: 0.75 }),
  ];
}

/** A whole run around `fixtureResults`. */
export function fixtureRun(results = fixtureResults()): RunReport {
  return {
    startedAt: '2026-11-22T21:41:07.123Z',
    command: 'npm run bench -- --quick',
    machine: {
      cpu: 'AMD EPYC 7B13',
      cores: 2,
      memoryGiB: 23.5,
      os: 'Linux 6.1.0 (Debian GNU/Linux 12)',
      node: 'v20.20.2',
    },
    versions: { switchyard: '0.1.0', haproxy: '2.6.12', nginx: '1.22.1', wrk: '4.2.0' },
    options: { quick: true, repetitions: 3, durationMs: 5000 },
    results,
    notes: [
      'keepalive: requests per second over 64 kept-alive connections.',
      'mtls handshake: full handshakes per second.',
    ],
  };
}
