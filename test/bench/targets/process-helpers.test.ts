import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { findTreePids } from '../../../src/bench/measure/process-tree.js';
import { processGone } from '../../../src/bench/measure/process-usage.js';
import { connectionsThatFit, parseFileLimit, readFileLimit } from '../../../src/bench/targets/file-limit.js';
import { freeLoopbackPorts, freeLoopbackUdpPort } from '../../../src/bench/targets/free-port.js';
import { findTool, toolOutput } from '../../../src/bench/targets/system-tool.js';
import {
  readTail,
  spawnTargetProcess,
  stopTargetProcess,
  type TargetProcess,
} from '../../../src/bench/targets/target-process.js';
import { udpRoundTrip, waitForUdpEcho } from '../../../src/bench/targets/udp-round-trip.js';
import { accepts, waitForPorts } from '../../../src/bench/targets/wait-for-ports.js';

const root = mkdtempSync(join(tmpdir(), 'switchyard-bench-process-'));
after(() => rmSync(root, { recursive: true, force: true }));

describe('freeLoopbackPorts', () => {
  it('returns distinct ports that can then be bound', async () => {
    const ports = await freeLoopbackPorts(5);
    assert.equal(new Set(ports).size, 5);
    for (const port of ports) {
      const server = createServer();
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', () => resolve());
      });
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe('waitForPorts', () => {
  it('resolves once every port accepts', async (t) => {
    const server = createServer((s) => s.destroy());
    t.after(() => server.close());
    const [port] = await freeLoopbackPorts(1);
    // Starts listening only after the wait has begun.
    setTimeout(() => server.listen(port, '127.0.0.1'), 100);
    await waitForPorts([{ host: '127.0.0.1', port }], { timeoutMs: 5000 });
    assert.equal(await accepts({ host: '127.0.0.1', port }), true);
  });

  it('rejects after its bound when nothing listens', async () => {
    const [port] = await freeLoopbackPorts(1);
    await assert.rejects(waitForPorts([{ host: '127.0.0.1', port }], { timeoutMs: 200 }), /did not answer/);
  });

  it('stops waiting at once when told the process gave up', async () => {
    const [port] = await freeLoopbackPorts(1);
    await assert.rejects(
      waitForPorts([{ host: '127.0.0.1', port }], { timeoutMs: 60_000, gaveUp: () => true }),
      /gave up/,
    );
  });
});

describe('waitForUdpEcho', () => {
  it('resolves once a datagram comes back from a UDP echo bound after the wait began', async (t) => {
    const port = await freeLoopbackUdpPort();
    const echo = createSocket('udp4');
    echo.on('message', (datagram, from) => echo.send(datagram, from.port, from.address));
    t.after(() => echo.close());
    setTimeout(() => echo.bind(port, '127.0.0.1'), 100);
    await waitForUdpEcho({ host: '127.0.0.1', port }, { timeoutMs: 5000 });
    const reply = await udpRoundTrip({ host: '127.0.0.1', port }, Buffer.from('x'), 1000);
    assert.equal(reply?.toString(), 'x');
  });

  it('rejects after its bound when nothing answers, and at once when told the process gave up', async () => {
    const endpoint = { host: '127.0.0.1', port: await freeLoopbackUdpPort() };
    assert.equal(await udpRoundTrip(endpoint, Buffer.from('x'), 100), undefined);
    await assert.rejects(waitForUdpEcho(endpoint, { timeoutMs: 200 }), /udp 127\.0\.0\.1:\d+ did not answer/);
    await assert.rejects(waitForUdpEcho(endpoint, { timeoutMs: 60_000, gaveUp: () => true }), /gave up/);
  });
});

describe('spawnTargetProcess and stopTargetProcess', { timeout: 30_000 }, () => {
  it('writes the output to files and stops a process that exits on SIGTERM', async (t) => {
    const workDir = mkdtempSync(join(root, 'polite-'));
    const target = await spawnTargetProcess(
      process.execPath,
      ['-e', 'console.log("out"); console.error("err"); setInterval(() => {}, 1000);'],
      { workDir, name: 'polite' },
    );
    t.after(() => stopTargetProcess(target, { signal: 'SIGKILL' }));
    await waitForOutput(target, 'out');
    // stderr is a separate pipe to a separate file: it may land after stdout
    await waitForOutput(target, 'err', target.stderrPath);
    assert.match(readFileSync(target.stderrPath, 'utf8'), /err/);
    assert.match(await readTail(target.stdoutPath, 2), /t\n/);
    await stopTargetProcess(target, { signal: 'SIGTERM', graceMs: 5000 });
    assert.equal(target.hasExited(), true);
    assert.equal(target.child.signalCode, 'SIGTERM');
  });

  it('kills a process that ignores the signal, and its children, after the grace period', async (t) => {
    const workDir = mkdtempSync(join(root, 'stubborn-'));
    const script = `
      process.on('SIGTERM', () => {});
      const { spawn } = require('node:child_process');
      const c = spawn(process.execPath, ['-e', 'process.on("SIGTERM", () => {}); setInterval(() => {}, 1000)'], { stdio: 'ignore' });
      console.log('ready ' + c.pid);
      setInterval(() => {}, 1000);`;
    const target = await spawnTargetProcess(process.execPath, ['-e', script], { workDir, name: 'stubborn' });
    t.after(() => stopTargetProcess(target, { signal: 'SIGKILL' }));
    await waitForOutput(target, 'ready');
    const tree = await findTreePids([target.pid]);
    assert.equal(tree.length, 2);
    await stopTargetProcess(target, { signal: 'SIGTERM', graceMs: 300 });
    assert.equal(target.child.signalCode, 'SIGKILL');
    for (const pid of tree) assert.ok(await processGone(pid), `${pid} still runs`);
  });

  it('can be stopped twice and after it exited by itself', async () => {
    const workDir = mkdtempSync(join(root, 'short-'));
    const target = await spawnTargetProcess(process.execPath, ['-e', 'process.exit(3)'], {
      workDir,
      name: 'short',
    });
    await target.exited;
    await stopTargetProcess(target);
    await stopTargetProcess(target);
    assert.equal(target.child.exitCode, 3);
  });

  it('rejects when the command does not exist', async () => {
    const workDir = mkdtempSync(join(root, 'missing-'));
    await assert.rejects(
      spawnTargetProcess(join(workDir, 'no-such-proxy'), [], { workDir, name: 'missing' }),
      /cannot start/,
    );
  });
});

describe('file limits', () => {
  it('parses the open-files line of /proc/<pid>/limits', () => {
    const limits =
      'Limit                     Soft Limit           Hard Limit           Units\nMax open files            1024                 524288               files\n';
    assert.deepEqual(parseFileLimit(limits), { soft: 1024, hard: 524288 });
    assert.deepEqual(parseFileLimit('Max open files  unlimited  unlimited  files'), {
      soft: Number.MAX_SAFE_INTEGER,
      hard: Number.MAX_SAFE_INTEGER,
    });
    assert.equal(parseFileLimit('nothing here'), undefined);
  });

  it('reads this process limit', () => {
    const limit = readFileLimit();
    assert.ok(limit.soft > 0 && limit.hard >= limit.soft);
  });

  it('fits two descriptors per connection under the limit, up to the ceiling', () => {
    assert.equal(connectionsThatFit(20_000, 50_000), 9872);
    assert.equal(connectionsThatFit(1_048_576, 50_000), 50_000);
    assert.equal(connectionsThatFit(100, 50_000), 1);
  });
});

describe('system tools', () => {
  it('finds an executable on PATH and runs it', async () => {
    const sh = await findTool('sh');
    assert.ok(sh !== undefined);
    assert.equal(await toolOutput(sh, ['-c', 'echo out; echo err >&2']), 'out\nerr\n');
  });

  it('answers undefined for a missing tool and a failing command', async () => {
    assert.equal(await findTool('no-such-tool-for-switchyard'), undefined);
    const sh = await findTool('sh');
    assert.equal(await toolOutput(sh!, ['-c', 'exit 1']), undefined);
  });
});

async function waitForOutput(target: TargetProcess, text: string, path = target.stdoutPath): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!readFileSync(path, 'utf8').includes(text)) {
    assert.ok(Date.now() < deadline, `no "${text}" in ${path}`);
    assert.equal(target.hasExited(), false, 'exited early');
    await sleep(20);
  }
}
