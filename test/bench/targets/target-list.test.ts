import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_TARGET_LIST, parseTargetList } from '../../../src/bench/targets/target-list.js';
import { createProgram } from '../../../src/cli/program.js';

describe('--targets', () => {
  it('reads a comma-separated list in the order given', () => {
    const cases: [string, string[]][] = [
      ['direct,switchyard', ['direct', 'switchyard']],
      [' naive , switchyard-defaults ', ['naive', 'switchyard-defaults']],
      ['haproxy,,nginx,', ['haproxy', 'nginx']],
      ['switchyard,naive,switchyard', ['switchyard', 'naive']],
      ['', []],
      [
        DEFAULT_TARGET_LIST,
        ['direct', 'switchyard', 'switchyard-defaults', 'switchyard-workers', 'naive', 'haproxy', 'nginx'],
      ],
    ];
    for (const [text, targets] of cases) assert.deepEqual(parseTargetList(text), targets, text);
  });

  it('refuses unknown names, naming them and the known ones', () => {
    const cases: [string, RegExp][] = [
      [
        'envoy',
        /unknown target envoy \(direct, switchyard, switchyard-defaults, switchyard-workers, naive, haproxy, nginx\)$/,
      ],
      ['Switchyard,traefik,naive', /unknown target Switchyard, traefik \(/],
    ];
    for (const [text, message] of cases) assert.throws(() => parseTargetList(text), message, text);
  });

  it('is the default of switchyard bench --targets', () => {
    const bench = createProgram('0.0.0').commands.find((c) => c.name() === 'bench');
    const option = bench?.options.find((o) => o.long === '--targets');
    assert.equal(option?.defaultValue, DEFAULT_TARGET_LIST);
  });
});
