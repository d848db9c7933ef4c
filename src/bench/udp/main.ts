/**
 * `npm run bench:udp`: datagrams per second and proxy CPU per datagram through a Switchyard UDP
 * listener and through NGINX's `stream` module with `listen ... udp`, in the same run, against the
 * same UDP echo upstream (a child process), and through a naive Node.js UDP proxy (a socket per client,
 * nothing else), with the same load: `clients` sockets, each sending one
 * request and sending the next when the reply arrives (closed loop; a request without a reply in
 * 200 ms is sent again). Both proxies run one process (`worker_processes 1` for NGINX), with no
 * access log. The "direct" row is the generator's own ceiling. Linux only (/proc); everything
 * listens on 127.0.0.1 and is stopped before it exits. A quick comparison, not the suite.
 *
 * Usage: node dist/src/bench/udp/main.js [seconds=5] [clients=32] [payload bytes=64]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readTreeUsage } from '../measure/process-tree.js';

const seconds = Number(process.argv[2] ?? 5);
const clients = Number(process.argv[3] ?? 32);
const payload = Buffer.alloc(Number(process.argv[4] ?? 64), 0x61);

const ECHO = `import { createSocket } from 'node:dgram';
const s = createSocket('udp4');
s.on('message', (m, r) => s.send(m, r.port, r.address));
s.bind(0, '127.0.0.1', () => process.stdout.write(String(s.address().port) + '\\n'));`;

// The UDP counterpart of the suite's naive proxy: what a Node.js programmer writes in a few lines,
// one upstream socket per client address and port, and nothing else (no limits, no idle expiry).
const NAIVE = `import { createSocket } from 'node:dgram';
const [listenPort, upstreamPort] = process.argv.slice(-2).map(Number);
const listener = createSocket('udp4');
const flows = new Map();
listener.on('message', (datagram, from) => {
  const key = from.address + ':' + from.port;
  let upstream = flows.get(key);
  if (upstream === undefined) {
    upstream = createSocket('udp4');
    upstream.on('message', (reply) => listener.send(reply, from.port, from.address));
    flows.set(key, upstream);
  }
  upstream.send(datagram, upstreamPort, '127.0.0.1');
});
listener.bind(listenPort, '127.0.0.1');`;

async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  const port = s.address().port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** Sends and waits for one echo until it answers, within `ms`: the target is up. */
async function answers(port: number, ms: number): Promise<void> {
  const s = createSocket('udp4');
  const deadline = Date.now() + ms;
  try {
    for (;;) {
      const got = new Promise<boolean>((resolve) => {
        const t = setTimeout(() => resolve(false), 100);
        s.once('message', () => {
          clearTimeout(t);
          resolve(true);
        });
      });
      s.send('ready?', port, '127.0.0.1');
      if (await got) return;
      if (Date.now() > deadline) throw new Error(`nothing answers on udp port ${port}`);
    }
  } finally {
    s.close();
  }
}

/** The closed-loop load against `port` for `seconds`: request/reply pairs completed. */
async function load(port: number): Promise<number> {
  let replies = 0;
  let running = true;
  const sockets: Socket[] = [];
  for (let i = 0; i < clients; i++) {
    const s = createSocket('udp4');
    let last = 0;
    s.on('message', () => {
      replies++;
      if (!running) return;
      last = Date.now();
      s.send(payload, port, '127.0.0.1');
    });
    await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
    sockets.push(s);
    // Lost datagrams are sent again, so a client never stalls.
    const retry = setInterval(() => {
      if (running && Date.now() - last > 200) {
        last = Date.now();
        s.send(payload, port, '127.0.0.1');
      }
    }, 100);
    s.once('close', () => clearInterval(retry));
  }
  for (const s of sockets) s.send(payload, port, '127.0.0.1');
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  running = false;
  const done = replies;
  for (const s of sockets) s.close();
  return done;
}

interface Row {
  target: string;
  perSecond: number;
  /** Proxy CPU (user + system) per datagram relayed, microseconds; NaN for direct. */
  cpuUsPerDatagram: number;
}

async function measure(target: string, port: number, pids: number[]): Promise<Row> {
  await answers(port, 10_000);
  const before = pids.length > 0 ? await readTreeUsage(pids) : undefined;
  const pairs = await load(port);
  const after = pids.length > 0 ? await readTreeUsage(pids) : undefined;
  // Each request/reply pair is two datagrams through the proxy.
  const cpu = before && after ? ((after.cpuMs - before.cpuMs) * 1000) / (pairs * 2) : Number.NaN;
  return { target, perSecond: (pairs * 2) / seconds, cpuUsPerDatagram: cpu };
}

const dir = await mkdtemp(join(tmpdir(), 'switchyard-udp-bench-'));
const children: ChildProcess[] = [];
try {
  const echo = spawn(process.execPath, ['--input-type=module', '-e', ECHO], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(echo);
  const echoPort = await new Promise<number>((resolve) =>
    echo.stdout!.once('data', (d) => resolve(Number(String(d).trim()))),
  );
  const rows: Row[] = [await measure('direct', echoPort, [])];

  const syPort = await freeUdpPort();
  const syConfig = join(dir, 'switchyard.yaml');
  await writeFile(
    syConfig,
    [
      `listeners: [{ name: udp, bind: "127.0.0.1:${syPort}", protocol: udp, group: echo }]`,
      `groups: { echo: { upstreams: [{ address: "127.0.0.1:${echoPort}" }] } }`,
      'log: { level: error, accessLog: "off" }',
    ].join('\n'),
  );
  const bin = new URL('../../../../bin/switchyard.js', import.meta.url).pathname;
  const sy = spawn(process.execPath, [bin, 'run', '-c', syConfig], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(sy);
  rows.push(await measure('switchyard', syPort, [sy.pid!]));
  await stop(sy);

  const naivePort = await freeUdpPort();
  const naive = spawn(
    process.execPath,
    ['--input-type=module', '-e', NAIVE, '--', String(naivePort), String(echoPort)],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  children.push(naive);
  rows.push(await measure('naive node', naivePort, [naive.pid!]));
  await stop(naive);

  const module = '/usr/lib/nginx/modules/ngx_stream_module.so';
  const dynamic = await access(module).then(
    () => true,
    () => false,
  );
  const ngPort = await freeUdpPort();
  const ngConfig = join(dir, 'nginx.conf');
  await writeFile(
    ngConfig,
    [
      dynamic ? `load_module ${module};` : '',
      'worker_processes 1;',
      process.getuid?.() === 0 ? 'user root;' : '',
      `pid ${join(dir, 'nginx.pid')};`,
      `error_log ${join(dir, 'error.log')} error;`,
      'events { worker_connections 20000; }',
      'stream {',
      `  server { listen 127.0.0.1:${ngPort} udp; proxy_pass 127.0.0.1:${echoPort}; proxy_timeout 30s; }`,
      '}',
    ].join('\n'),
  );
  const ng = spawn('nginx', ['-p', dir, '-c', ngConfig, '-g', 'daemon off;'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(ng);
  rows.push(await measure('nginx', ngPort, [ng.pid!]));
  await stop(ng);

  const sy1 = rows.find((r) => r.target === 'switchyard')!;
  const ng1 = rows.find((r) => r.target === 'nginx')!;
  const nv1 = rows.find((r) => r.target === 'naive node')!;
  process.stdout.write(
    [
      `${seconds} s, ${clients} clients, ${payload.length}-byte datagrams, closed loop`,
      '',
      '| target | datagrams/s | proxy CPU per datagram |',
      '|---|---|---|',
      ...rows.map(
        (r) =>
          `| ${r.target} | ${Math.round(r.perSecond)} | ${Number.isNaN(r.cpuUsPerDatagram) ? '—' : `${r.cpuUsPerDatagram.toFixed(2)} µs`} |`,
      ),
      '',
      `switchyard / nginx: ${(sy1.perSecond / ng1.perSecond).toFixed(2)}× datagrams/s, ${(sy1.cpuUsPerDatagram / ng1.cpuUsPerDatagram).toFixed(2)}× CPU per datagram`,
      `switchyard / naive node: ${(sy1.perSecond / nv1.perSecond).toFixed(2)}× datagrams/s, ${(sy1.cpuUsPerDatagram / nv1.cpuUsPerDatagram).toFixed(2)}× CPU per datagram`,
      '',
    ].join('\n'),
  );
} finally {
  await Promise.all(children.map(stop));
  await rm(dir, { recursive: true, force: true });
}
