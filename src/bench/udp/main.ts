/**
 * `npm run bench:udp`: datagrams per second and proxy CPU per datagram through a Switchyard UDP
 * listener and through NGINX's `stream` module with `listen ... udp`, in the same run, against the
 * bench upstreams' UDP echo (a child process), and through the suite's naive Node.js proxy (a socket
 * per client, nothing else), with the suite's UDP load (`load/udp-echo-loop.ts`): `clients` sockets,
 * each sending one request and sending the next when the reply arrives. Both proxies run one process
 * (`worker_processes 1` for NGINX), with no access log: a leaner Switchyard than the suite's fully
 * featured one. The "direct" row is the generator's own ceiling. Linux only (/proc); everything
 * listens on 127.0.0.1 and is stopped before it exits. A quick comparison; `switchyard bench
 * --scenarios udp` is the suite's.
 *
 * Usage: node dist/src/bench/udp/main.js [seconds=5] [clients=32] [payload bytes=64]
 */
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeBenchCerts } from '../bench-certs.js';
import { DATAGRAMS_PER_EXCHANGE, runUdpEchoLoop } from '../load/udp-echo-loop.js';
import { readTreeUsage } from '../measure/process-tree.js';
import { freeLoopbackUdpPort, LOOPBACK } from '../targets/free-port.js';
import type { NaiveProxyConfig } from '../targets/naive-config.js';
import { findTool } from '../targets/system-tool.js';
import { spawnTargetProcess, stopTargetProcess, type TargetProcess } from '../targets/target-process.js';
import { waitForUdpEcho } from '../targets/udp-round-trip.js';
import type { Endpoint } from '../types.js';
import { startBenchUpstreams } from '../upstream/bench-upstreams.js';

const seconds = Number(process.argv[2] ?? 5);
const clients = Number(process.argv[3] ?? 32);
const payloadBytes = Number(process.argv[4] ?? 64);

const BIN = fileURLToPath(new URL('../../../../bin/switchyard.js', import.meta.url));
const NAIVE_PROXY = fileURLToPath(new URL('../targets/naive-proxy.js', import.meta.url));
// Far above what a run reaches in its span: the duration ends it, the count only bounds a runaway.
const MAX_EXCHANGES = 100_000_000;

interface Row {
  target: string;
  perSecond: number;
  /** Proxy CPU (user + system) per datagram relayed, microseconds; NaN for direct. */
  cpuUsPerDatagram: number;
  /** Datagrams sent again after 200 ms without a reply. */
  resent: number;
}

async function measure(target: string, port: number, pids: number[]): Promise<Row> {
  const endpoint = { host: LOOPBACK, port };
  await waitForUdpEcho(endpoint);
  const before = pids.length > 0 ? await readTreeUsage(pids) : undefined;
  const load = await runUdpEchoLoop({
    endpoint,
    clients,
    payloadBytes,
    durationMs: seconds * 1000,
    maxExchanges: MAX_EXCHANGES,
  });
  const after = pids.length > 0 ? await readTreeUsage(pids) : undefined;
  const datagrams = load.units * DATAGRAMS_PER_EXCHANGE;
  const cpu = before && after ? ((after.cpuMs - before.cpuMs) * 1000) / datagrams : Number.NaN;
  return {
    target,
    perSecond: (datagrams * 1000) / load.elapsedMs,
    cpuUsPerDatagram: cpu,
    resent: load.errors,
  };
}

/** Runs `command args` as a measured process, measures it on `port`, and stops it. */
async function measureProcess(
  target: string,
  port: number,
  dir: string,
  command: string,
  args: string[],
): Promise<Row> {
  const proc: TargetProcess = await spawnTargetProcess(command, args, { workDir: dir, name: target });
  try {
    return await measure(target, port, [proc.pid]);
  } finally {
    await stopTargetProcess(proc);
  }
}

function switchyardConfig(port: number, echo: Endpoint): string {
  return [
    `listeners: [{ name: udp, bind: "${LOOPBACK}:${port}", protocol: udp, group: echo }]`,
    `groups: { echo: { upstreams: [{ address: "${echo.host}:${echo.port}" }] } }`,
    'log: { level: error, accessLog: "off" }',
  ].join('\n');
}

async function nginxConfig(dir: string, port: number, echo: Endpoint): Promise<string> {
  const module = '/usr/lib/nginx/modules/ngx_stream_module.so';
  const dynamic = await access(module).then(
    () => true,
    () => false,
  );
  return [
    dynamic ? `load_module ${module};` : '',
    'worker_processes 1;',
    'daemon off;',
    process.getuid?.() === 0 ? 'user root;' : '',
    `pid ${join(dir, 'nginx.pid')};`,
    `error_log ${join(dir, 'error.log')} error;`,
    'events { worker_connections 20000; }',
    'stream {',
    `  server { listen ${LOOPBACK}:${port} udp; proxy_pass ${echo.host}:${echo.port}; proxy_timeout 30s; }`,
    '}',
  ].join('\n');
}

function ratios(mine: Row, other: Row): string {
  return `${(mine.perSecond / other.perSecond).toFixed(2)}× datagrams/s, ${(mine.cpuUsPerDatagram / other.cpuUsPerDatagram).toFixed(2)}× CPU per datagram`;
}

const dir = await mkdtemp(join(tmpdir(), 'switchyard-udp-bench-'));
const upstreams = await startBenchUpstreams(await writeBenchCerts(join(dir, 'certs')), { iperf3: false });
try {
  const echo = upstreams.udpEcho;
  const rows: Row[] = [await measure('direct', echo.port, [])];

  const syPort = await freeLoopbackUdpPort();
  const syConfig = join(dir, 'switchyard.yaml');
  await writeFile(syConfig, switchyardConfig(syPort, echo));
  rows.push(await measureProcess('switchyard', syPort, dir, process.execPath, [BIN, 'run', '-c', syConfig]));

  const naivePort = await freeLoopbackUdpPort();
  const naiveConfig: NaiveProxyConfig = {
    listeners: [],
    udp: [{ host: LOOPBACK, port: naivePort, upstream: echo }],
  };
  const naivePath = join(dir, 'naive.json');
  await writeFile(naivePath, JSON.stringify(naiveConfig));
  rows.push(await measureProcess('naive node', naivePort, dir, process.execPath, [NAIVE_PROXY, naivePath]));

  const ngPort = await freeLoopbackUdpPort();
  const ngConfig = join(dir, 'nginx.conf');
  await writeFile(ngConfig, await nginxConfig(dir, ngPort, echo));
  const nginx = (await findTool('nginx')) ?? 'nginx';
  rows.push(
    await measureProcess('nginx', ngPort, dir, nginx, [
      '-p',
      dir,
      '-c',
      ngConfig,
      '-e',
      join(dir, 'error.log'),
    ]),
  );

  const [, sy, naive, ng] = rows;
  process.stdout.write(
    [
      `${seconds} s, ${clients} clients, ${payloadBytes}-byte datagrams, closed loop`,
      '',
      '| target | datagrams/s | proxy CPU per datagram | resent |',
      '|---|---|---|---|',
      ...rows.map(
        (r) =>
          `| ${r.target} | ${Math.round(r.perSecond)} | ${Number.isNaN(r.cpuUsPerDatagram) ? '—' : `${r.cpuUsPerDatagram.toFixed(2)} µs`} | ${r.resent} |`,
      ),
      '',
      `switchyard / nginx: ${ratios(sy, ng)}`,
      `switchyard / naive node: ${ratios(sy, naive)}`,
      '',
    ].join('\n'),
  );
} finally {
  await upstreams.stop();
  await rm(dir, { recursive: true, force: true });
}
