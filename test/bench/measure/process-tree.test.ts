import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { describe, it } from 'node:test';
import { findTreePids, readTreeUsage, treeMembers } from '../../../src/bench/measure/process-tree.js';
import type { ProcStat } from '../../../src/bench/measure/process-usage.js';

const proc = (pid: number, ppid: number, cpuTicks = 0): ProcStat => ({ pid, ppid, state: 'S', cpuTicks });

// The grandchild waits for a line on stdin, spins a fixed number of iterations, says "done" and waits
// again. The child starts it with its own stdin and stdout, so the test talks to the grandchild directly.
const GRANDCHILD = `
process.stdin.on('data', () => {
  let x = 0;
  for (let i = 0; i < 30_000_000; i++) x = (x + i) % 1000003;
  process.stdout.write('done ' + x + '\\n');
});
`;
const CHILD = `
const { spawn } = require('node:child_process');
const grandchild = spawn(process.execPath, ['-e', ${JSON.stringify(GRANDCHILD)}], { stdio: 'inherit' });
process.stdout.write('grandchild ' + grandchild.pid + '\\n');
grandchild.on('exit', () => process.exit(0));
`;

describe('treeMembers', () => {
  it('finds every descendant of the roots, breadth first, and skips roots that are gone', () => {
    const all = [
      proc(1, 0),
      proc(10, 1),
      proc(11, 10),
      proc(12, 10),
      proc(13, 12),
      proc(20, 1),
      proc(30, 20),
    ];
    assert.deepEqual(
      treeMembers([10, 99], all).map((p) => p.pid),
      [10, 11, 12, 13],
    );
    assert.deepEqual(
      treeMembers([10, 20, 12], all).map((p) => p.pid),
      [10, 20, 12, 11, 30, 13],
    );
    assert.deepEqual(treeMembers([], all), []);
  });
});

describe('readTreeUsage', { timeout: 60_000 }, () => {
  it('is empty for no roots and for roots that do not exist', async () => {
    assert.deepEqual(await readTreeUsage([]), { cpuMs: 0, rssBytes: 0, pids: [] });
    assert.deepEqual(await readTreeUsage([4_194_305]), { cpuMs: 0, rssBytes: 0, pids: [] });
  });

  it('sums a child and its own child, and sees the grandchild work', async (t) => {
    const child = spawn(process.execPath, ['-e', CHILD], { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    let grandchildPid: number | undefined;
    t.after(async () => {
      // Whatever happened above, neither process outlives the test. The grandchild goes first so the
      // child is still there to reap it; the child then exits on its own (or is killed after a bound).
      const grandchildren =
        grandchildPid !== undefined ? [grandchildPid] : (await findTreePids([child.pid!])).slice(1);
      for (const pid of grandchildren) kill(pid);
      if (child.exitCode !== null || child.signalCode !== null) return;
      const timer = setTimeout(() => kill(child.pid!), 2000);
      await once(child, 'exit');
      clearTimeout(timer);
    });
    const first = (await lines.next()).value as string;
    grandchildPid = Number(/^grandchild (\d+)$/.exec(first)?.[1]);
    assert.ok(grandchildPid > 0, first);

    const before = await readTreeUsage([child.pid!]);
    assert.deepEqual(new Set(before.pids), new Set([child.pid, grandchildPid]));
    assert.deepEqual(new Set(await findTreePids([child.pid!])), new Set([child.pid, grandchildPid]));
    assert.ok(before.rssBytes > 0);

    child.stdin!.write('go\n');
    assert.match((await lines.next()).value as string, /^done /);
    const afterWork = await readTreeUsage([child.pid!]);
    assert.equal(afterWork.pids.length, 2);
    assert.ok(afterWork.cpuMs >= before.cpuMs, `${afterWork.cpuMs} < ${before.cpuMs}`);
  });
});

function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
