import assert from 'node:assert/strict';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseConfigText } from '../../src/config/load-config.js';
import { planReload } from '../../src/runtime/reload-plan.js';
import { cpuLimitOf, workerCount } from '../../src/workers/worker-count.js';

const file = join(tmpdir(), 'switchyard-workers.yaml');
const base =
  'listeners: [{ name: a, bind: "127.0.0.1:0", group: g }]\ngroups: { g: { upstreams: [{ address: "127.0.0.1:1" }] } }\n';

describe('workers', () => {
  it('is a count, or auto for one per available core', () => {
    assert.equal(workerCount(3, 8), 3);
    assert.equal(workerCount('auto', 8), 8);
    assert.equal(workerCount('auto', 0), 1);
    assert.ok(workerCount('auto') >= 1 && workerCount('auto') <= availableParallelism());
  });

  it('reads a container CPU limit from cgroup v2 cpu.max', () => {
    assert.equal(cpuLimitOf('200000 100000\n'), 2);
    assert.equal(cpuLimitOf('150000 100000'), 2);
    assert.equal(cpuLimitOf('50000 100000'), 1);
    assert.equal(cpuLimitOf('max 100000'), undefined);
    assert.equal(cpuLimitOf('garbage'), undefined);
  });

  it('defaults to 1 and accepts auto and counts from 1 to 256', () => {
    assert.equal(parseConfigText(base, file).workers, 1);
    assert.equal(parseConfigText(`${base}workers: auto\n`, file).workers, 'auto');
    assert.equal(parseConfigText(`${base}workers: 4\n`, file).workers, 4);
  });

  for (const bad of ['0', '257', '1.5', 'many', '-1']) {
    it(`refuses workers: ${bad}, naming the key and line`, () => {
      assert.throws(
        () => parseConfigText(`${base}workers: ${bad}\n`, file),
        (err: Error) => /workers/.test(err.message) && /:3/.test(err.message),
      );
    });
  }

  it('is a change a reload cannot make: it says a restart is needed', () => {
    const one = parseConfigText(base, file);
    const two = parseConfigText(`${base}workers: 2\n`, file);
    assert.deepEqual(planReload(one, two), [{ kind: 'needs-restart', key: 'workers' }]);
  });
});
