import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  clockTicksPerSecond,
  parseProcStat,
  parseVmRssBytes,
  processGone,
  readProcessUsage,
  readProcStat,
} from '../../../src/bench/measure/process-usage.js';

// A real line's layout (fields 3-52), with utime 250 and stime 50 in fields 14 and 15.
const REST = 'S 77 4242 4242 0 -1 4194560 1000 0 0 0 250 50 7 3 20 0 11 0 12345 1000000 2500';

describe('parseProcStat', () => {
  it('reads pid, ppid, state and utime + stime', () => {
    assert.deepEqual(parseProcStat(`4242 (node) ${REST}\n`), {
      pid: 4242,
      ppid: 77,
      state: 'S',
      cpuTicks: 300,
    });
  });

  it('takes the fields after the last parenthesis, whatever the command name holds', () => {
    for (const comm of ['a b', 'x) S 1 2 (y', ')', '((', 'nginx: worker']) {
      assert.deepEqual(
        parseProcStat(`9 (${comm}) ${REST}`),
        { pid: 9, ppid: 77, state: 'S', cpuTicks: 300 },
        comm,
      );
    }
  });

  it('answers undefined for an empty or cut-off line', () => {
    assert.equal(parseProcStat(''), undefined);
    assert.equal(parseProcStat('12 (node) S 1 2'), undefined);
    assert.equal(parseProcStat('garbage'), undefined);
  });
});

describe('parseVmRssBytes', () => {
  it('converts the VmRSS line from kB to bytes', () => {
    assert.equal(
      parseVmRssBytes('Name:\tnode\nVmPeak:\t 900 kB\nVmRSS:\t   1234 kB\nRssAnon: 1 kB\n'),
      1234 * 1024,
    );
  });

  it('is 0 without a VmRSS line (zombies and kernel threads)', () => {
    assert.equal(parseVmRssBytes('Name:\tdefunct\nState:\tZ (zombie)\n'), 0);
  });
});

describe('reading /proc', () => {
  it('uses a positive clock tick rate', () => {
    const hz = clockTicksPerSecond();
    assert.ok(Number.isInteger(hz) && hz > 0);
  });

  it('reads this process', async () => {
    const stat = await readProcStat(process.pid);
    assert.equal(stat?.pid, process.pid);
    assert.equal(stat?.ppid, process.ppid);
    const usage = await readProcessUsage(process.pid);
    assert.ok(usage !== undefined && usage.rssBytes > 0 && usage.cpuMs > 0);
    assert.equal(await processGone(process.pid), false);
  });

  it('answers undefined, not an error, for a process that does not exist', async () => {
    // Above the kernel's pid_max ceiling (4194304), so never a live pid.
    const missing = 4_194_305;
    assert.equal(await readProcStat(missing), undefined);
    assert.equal(await readProcessUsage(missing), undefined);
    assert.equal(await processGone(missing), true);
  });
});
