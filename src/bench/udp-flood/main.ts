/**
 * `npm run bench:udp-flood`: what a flood of distinct UDP sources costs a Switchyard UDP listener.
 * Starts a UDP echo upstream and `switchyard run` (a separate process, as the suite measures it)
 * with one UDP listener at `maxFlows`, then sends one datagram from each of N distinct sources
 * (addresses of 127.0.0.0/8, which Linux routes to loopback, so no spoofing is needed: each source
 * binds its own address) and reports the proxy's RSS and open file descriptors before and after,
 * with its flow count and drops from the admin API (`/api/status`). Linux only (/proc). Everything listens on
 * loopback and is stopped before it exits.
 *
 * Usage: node dist/src/bench/udp-flood/main.js [sources=100000] [maxFlows=10000]
 */
import { spawn } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const sources = Number(process.argv[2] ?? 100_000);
const maxFlows = Number(process.argv[3] ?? 10_000);
const BATCH = 256;

/** A free port of `type` on 127.0.0.1 (bound and released; good enough on a quiet machine). */
async function freePort(type: 'udp' | 'tcp'): Promise<number> {
  if (type === 'tcp') {
    const s = createServer();
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
    const port = (s.address() as { port: number }).port;
    await new Promise<void>((resolve) => s.close(() => resolve()));
    return port;
  }
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  const port = s.address().port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** RSS in KiB and open file descriptors of process `pid`. */
function usage(pid: number): { rssKiB: number; fds: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rss = /VmRSS:\s+(\d+)/.exec(status)?.[1] ?? '0';
  return { rssKiB: Number(rss), fds: readdirSync(`/proc/${pid}/fd`).length };
}

/** The i-th source address: 127.1.0.1 onwards, skipping .0 and .255 last octets. */
function sourceAddress(i: number): string {
  const n = Math.floor(i / 254);
  return `127.${1 + (n >> 8)}.${n & 255}.${1 + (i % 254)}`;
}

async function sendFrom(address: string, port: number): Promise<void> {
  const s: Socket = createSocket('udp4');
  s.on('error', () => {});
  await new Promise<void>((resolve) => s.bind(0, address, resolve));
  await new Promise<void>((resolve) => s.send('flood', port, '127.0.0.1', () => resolve()));
  await new Promise<void>((resolve) => s.close(() => resolve()));
}

async function listenerStats(
  adminPort: number,
): Promise<{ active: number; rejections: Record<string, number> }> {
  const res = await fetch(`http://127.0.0.1:${adminPort}/api/status`);
  const body = (await res.json()) as {
    listeners: { name: string; stats: { active: number; rejections: Record<string, number> } }[];
  };
  const l = body.listeners.find((x) => x.name === 'flood');
  if (l === undefined) throw new Error('listener "flood" not in /api/status');
  return l.stats;
}

const echo = createSocket('udp4');
echo.on('message', (msg, from) => echo.send(msg, from.port, from.address));
await new Promise<void>((resolve) => echo.bind(0, '127.0.0.1', resolve));
const dir = await mkdtemp(join(tmpdir(), 'switchyard-udp-flood-'));
const [listenPort, adminPort] = [await freePort('udp'), await freePort('tcp')];
const config = join(dir, 'flood.yaml');
await writeFile(
  config,
  [
    'listeners:',
    `  - { name: flood, bind: "127.0.0.1:${listenPort}", protocol: udp, group: echo, maxFlows: ${maxFlows}, flowIdleTimeout: 5m }`,
    `groups: { echo: { upstreams: [{ address: "127.0.0.1:${echo.address().port}" }] } }`,
    `admin: { bind: "127.0.0.1:${adminPort}" }`,
    'log: { level: error, accessLog: "off" }',
  ].join('\n'),
);
const bin = new URL('../../../../bin/switchyard.js', import.meta.url).pathname;
const child = spawn(process.execPath, [bin, 'run', '-c', config], { stdio: ['ignore', 'ignore', 'inherit'] });
try {
  // Ready when the admin API answers.
  for (let i = 0; ; i++) {
    try {
      await listenerStats(adminPort);
      break;
    } catch (err) {
      if (i > 100) throw err;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  const pid = child.pid!;
  const before = usage(pid);
  const started = Date.now();
  for (let i = 0; i < sources; i += BATCH) {
    const batch: Promise<void>[] = [];
    for (let j = i; j < Math.min(sources, i + BATCH); j++) batch.push(sendFrom(sourceAddress(j), listenPort));
    await Promise.all(batch);
  }
  // Let the last datagrams land before reading the counters.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const after = usage(pid);
  const stats = await listenerStats(adminPort);
  const dropped = stats.rejections.ERR_FLOW_TABLE_FULL ?? 0;
  process.stdout.write(
    [
      `| sources | maxFlows | flows held | dropped (ERR_FLOW_TABLE_FULL) | RSS before → after | fds before → after | seconds |`,
      '|---|---|---|---|---|---|---|',
      `| ${sources} | ${maxFlows} | ${stats.active} | ${dropped} | ${(before.rssKiB / 1024).toFixed(1)} → ${(after.rssKiB / 1024).toFixed(1)} MiB | ${before.fds} → ${after.fds} | ${((Date.now() - started) / 1000).toFixed(1)} |`,
      '',
    ].join('\n'),
  );
} finally {
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
  echo.close();
  await rm(dir, { recursive: true, force: true });
}
