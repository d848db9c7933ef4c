/**
 * `npm run bench:dashboard`: what open dashboards cost the balancer. One `switchyard run` process
 * (a plain TCP listener in front of an echo upstream, admin API on) gets the same bounded load of
 * new connections (each sends one byte, reads it back and closes) with no dashboard open and with
 * 10 open (10 streams of `GET /api/stream`, read and dropped), alternating, three rounds each; the
 * proxy's CPU (user + system from /proc) per connection is the median of the rounds. A second
 * figure is the CPU the 10 streams cost an idle balancer per second (one sample a second, written
 * 10 times). Linux only; everything on 127.0.0.1, stopped before it exits.
 *
 * Usage: node dist/src/bench/dashboard/main.js [connections per round=6000] [concurrency=16]
 */

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { connect, createServer, type Server } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { readTreeUsage } from '../measure/process-tree.js';
import { freeLoopbackPorts, LOOPBACK } from '../targets/free-port.js';
import { spawnTargetProcess, stopTargetProcess } from '../targets/target-process.js';
import { serveEcho } from '../upstream/echo.js';

const perRound = Number(process.argv[2] ?? 6000);
const concurrency = Number(process.argv[3] ?? 16);
const ROUNDS = 3;
const VIEWERS = 10;
const IDLE_MS = 5000;

/** One connection through the proxy: a byte there and back, then close. */
function oneConnection(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: LOOPBACK, port });
    socket.once('connect', () => socket.write('x'));
    socket.once('data', () => socket.end());
    socket.once('close', () => resolve());
    socket.once('error', reject);
  });
}

/** `total` connections, `concurrency` at a time. */
async function load(port: number, total: number): Promise<void> {
  let started = 0;
  const lane = async () => {
    while (started < total) {
      started++;
      await oneConnection(port);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
}

/** Opens `n` dashboard streams; resolves once each has its first state, with the call that closes them. */
async function openViewers(adminPort: number, n: number): Promise<() => void> {
  const open = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<() => void>((resolve, reject) => {
          const req = request({ host: LOOPBACK, port: adminPort, path: '/api/stream' }, (res) => {
            res.once('data', () => resolve(() => req.destroy()));
            res.resume();
          });
          req.once('error', reject);
          req.end();
        }),
    ),
  );
  return () => {
    for (const close of open) close();
  };
}

async function cpuMs(pid: number): Promise<number> {
  return (await readTreeUsage([pid])).cpuMs;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const dir = await mkdtemp(join(tmpdir(), 'switchyard-dashboard-bench-'));
const upstream: Server = createServer(serveEcho);
await new Promise<void>((resolve) => upstream.listen(0, LOOPBACK, resolve));
const upstreamPort = (upstream.address() as { port: number }).port;
const [proxyPort, adminPort] = await freeLoopbackPorts(2);
const config = join(dir, 'switchyard.yaml');
await writeFile(
  config,
  [
    `listeners: [{ name: edge, bind: "${LOOPBACK}:${proxyPort}", group: echo }]`,
    `groups: { echo: { upstreams: [{ address: "${LOOPBACK}:${upstreamPort}" }] } }`,
    `admin: { bind: "${LOOPBACK}:${adminPort}" }`,
    'log: { level: error, accessLog: "off" }',
  ].join('\n'),
);
const bin = new URL('../../../../bin/switchyard.js', import.meta.url).pathname;
const proxy = await spawnTargetProcess(process.execPath, [bin, 'run', '-c', config], {
  workDir: dir,
  name: 'switchyard',
});
try {
  for (let i = 0; ; i++) {
    const up = await fetch(`http://${LOOPBACK}:${adminPort}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) break;
    if (i > 100 || proxy.hasExited()) throw new Error('switchyard did not start');
    await sleep(100);
  }
  await load(proxyPort, 1000); // warm-up: JIT, pools

  const perConnection: Record<'0' | '10', number[]> = { '0': [], '10': [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const viewers of [0, VIEWERS] as const) {
      const close = viewers > 0 ? await openViewers(adminPort, viewers) : () => {};
      const before = await cpuMs(proxy.pid);
      await load(proxyPort, perRound);
      const after = await cpuMs(proxy.pid);
      close();
      perConnection[viewers === 0 ? '0' : '10'].push(((after - before) * 1000) / perRound);
      await sleep(200);
    }
  }

  const idle: Record<'0' | '10', number> = { '0': 0, '10': 0 };
  for (const viewers of [0, VIEWERS] as const) {
    const close = viewers > 0 ? await openViewers(adminPort, viewers) : () => {};
    const before = await cpuMs(proxy.pid);
    await sleep(IDLE_MS);
    const after = await cpuMs(proxy.pid);
    close();
    idle[viewers === 0 ? '0' : '10'] = (after - before) / (IDLE_MS / 1000);
  }

  const none = median(perConnection['0']);
  const ten = median(perConnection['10']);
  process.stdout.write(
    [
      `${ROUNDS} rounds of ${perRound} new connections (${concurrency} at a time) per case; ${cpus().length} CPUs, Node ${process.version}`,
      '',
      '| open dashboards | proxy CPU per connection (median) | rounds | idle proxy CPU |',
      '|---|---|---|---|',
      `| 0 | ${none.toFixed(1)} µs | ${perConnection['0'].map((v) => v.toFixed(1)).join(', ')} | ${idle['0'].toFixed(1)} ms/s |`,
      `| ${VIEWERS} | ${ten.toFixed(1)} µs | ${perConnection['10'].map((v) => v.toFixed(1)).join(', ')} | ${idle['10'].toFixed(1)} ms/s |`,
      '',
      `10 dashboards: ${(((ten - none) / none) * 100).toFixed(1)} % CPU per connection; ${(idle['10'] - idle['0']).toFixed(1)} ms of CPU per second when idle`,
      '',
    ].join('\n'),
  );
} finally {
  await stopTargetProcess(proxy);
  await new Promise<void>((resolve) => upstream.close(() => resolve()));
  await rm(dir, { recursive: true, force: true });
}
