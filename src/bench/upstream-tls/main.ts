/**
 * `npm run bench:upstream-tls`: Switchyard's CPU per connection when it connects to its upstreams
 * over plain TCP, over TLS with session resumption, and over TLS with every handshake a full one.
 *
 * One `switchyard run` process (measured from /proc, its whole tree) serves three plain TCP
 * listeners, one per group; the upstreams and the load run in this process. The same Switchyard
 * binary and configuration serve both TLS rows: for "full handshakes" the upstream changes its
 * session-ticket keys before every handshake, so the session Switchyard offers cannot be resumed
 * (what an upstream without resumption, or a fleet that does not share ticket keys, gives).
 * Each connection sends a request line and reads a short answer to its close, `--concurrency` at a
 * time; the rows report CPU ms of Switchyard per 1000 connections and the share of handshakes the
 * upstream saw resumed.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { connect, createServer as createNetServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import {
  createCertificateAuthority,
  createClientCertificate,
  createServerCertificate,
} from '../../pki/dev-authority.js';
import { readTreeUsage } from '../measure/process-tree.js';
import { readMachineInfo } from '../report/machine-info.js';
import { freeLoopbackPorts, LOOPBACK } from '../targets/free-port.js';
import { spawnTargetProcess, stopTargetProcess } from '../targets/target-process.js';
import { waitForPorts } from '../targets/wait-for-ports.js';

const BIN = fileURLToPath(new URL('../../../../bin/switchyard.js', import.meta.url));
const ANSWER = 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n';

interface Row {
  name: string;
  connections: number;
  cpuMsPer1000: number;
  resumedShare: number | undefined;
  seconds: number;
}

/** What the upstream of one row saw. */
interface UpstreamCounts {
  handshakes: number;
  resumed: number;
}

function answer(socket: Socket): void {
  socket.on('error', () => {});
  socket.once('data', () => socket.end(ANSWER));
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, LOOPBACK, resolve));
  return (server.address() as { port: number }).port;
}

/** One connection through Switchyard: request, answer, close. */
function oneConnection(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: LOOPBACK, port });
    let got = 0;
    socket.on('connect', () => socket.write('GET / HTTP/1.1\r\nHost: bench\r\n\r\n'));
    socket.on('data', (c: Buffer) => {
      got += c.length;
    });
    socket.on('error', reject);
    socket.on('close', () => (got > 0 ? resolve() : reject(new Error('no answer through Switchyard'))));
  });
}

async function load(port: number, connections: number, concurrency: number): Promise<void> {
  let left = connections;
  const loop = async () => {
    while (left > 0) {
      left--;
      await oneConnection(port);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      connections: { type: 'string', default: '5000' },
      concurrency: { type: 'string', default: '8' },
      warmup: { type: 'string', default: '500' },
    },
  });
  const connections = Number(values.connections);
  const concurrency = Number(values.concurrency);
  const warmup = Number(values.warmup);
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-bench-upstream-tls-'));
  const ca = await createCertificateAuthority({ commonName: 'Bench CA' });
  const server = await createServerCertificate(ca, {
    commonName: 'api.internal',
    dnsNames: ['api.internal'],
  });
  const client = await createClientCertificate(ca, { commonName: 'switchyard-lb', organizations: ['lb'] });
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  const tlsFiles = {
    ca: file('ca.pem', ca.cert),
    serverName: 'api.internal',
    cert: file('lb.pem', client.cert),
    key: file('lb.key', client.key),
  };

  const counts = new Map<string, UpstreamCounts>();
  const tlsUpstream = (name: string, resumable: boolean) => {
    const seen: UpstreamCounts = { handshakes: 0, resumed: 0 };
    counts.set(name, seen);
    const s = createTlsServer(
      { cert: server.cert, key: server.key, ca: ca.cert, requestCert: true, rejectUnauthorized: true },
      (socket: TLSSocket) => {
        seen.handshakes++;
        if (socket.isSessionReused()) seen.resumed++;
        answer(socket);
      },
    );
    // New ticket keys before each handshake: no ticket Switchyard holds can be decrypted.
    if (!resumable) s.on('connection', () => s.setTicketKeys(randomBytes(48)));
    return s;
  };
  const upstreams = {
    plain: createNetServer(answer),
    resumed: tlsUpstream('resumed', true),
    full: tlsUpstream('full', false),
  };
  const upstreamPorts = {
    plain: await listen(upstreams.plain),
    resumed: await listen(upstreams.resumed),
    full: await listen(upstreams.full),
  };
  const names = ['plain', 'resumed', 'full'] as const;
  const listenPorts = await freeLoopbackPorts(names.length);
  const config = {
    listeners: names.map((name, i) => ({
      name,
      bind: `${LOOPBACK}:${listenPorts[i]}`,
      group: name,
      handshakeRate: { perSource: 0 },
    })),
    groups: Object.fromEntries(
      names.map((name) => [
        name,
        {
          upstreams: [{ address: `${LOOPBACK}:${upstreamPorts[name]}` }],
          ...(name === 'plain' ? {} : { upstreamTls: tlsFiles }),
        },
      ]),
    ),
    log: { level: 'warn', accessLog: 'off' },
  };
  const configPath = file('switchyard.yaml', stringify(config));
  const target = await spawnTargetProcess(process.execPath, [BIN, 'run', '--config', configPath], {
    workDir: dir,
    name: 'switchyard',
  });
  const rows: Row[] = [];
  try {
    await waitForPorts(
      listenPorts.map((port) => ({ host: LOOPBACK, port })),
      { gaveUp: () => target.hasExited() },
    );
    for (const [i, name] of names.entries()) {
      await load(listenPorts[i], warmup, concurrency);
      const seen = counts.get(name);
      const before = { ...(seen ?? { handshakes: 0, resumed: 0 }) };
      const cpuBefore = (await readTreeUsage([target.pid])).cpuMs;
      const started = performance.now();
      await load(listenPorts[i], connections, concurrency);
      const seconds = (performance.now() - started) / 1000;
      const cpuMs = (await readTreeUsage([target.pid])).cpuMs - cpuBefore;
      rows.push({
        name,
        connections,
        cpuMsPer1000: (cpuMs / connections) * 1000,
        resumedShare:
          seen === undefined
            ? undefined
            : (seen.resumed - before.resumed) / (seen.handshakes - before.handshakes),
        seconds,
      });
    }
  } finally {
    await stopTargetProcess(target);
    for (const s of Object.values(upstreams)) s.close();
  }
  const label = {
    plain: 'plain TCP to the upstream',
    resumed: 'TLS to the upstream, resumed',
    full: 'TLS to the upstream, full handshakes',
  };
  const m = readMachineInfo();
  console.log(`${m.cpu}, ${m.cores} cores, ${m.os}, Node.js ${m.node}`);
  console.log(
    `${connections} connections per row after ${warmup} to warm up, ${concurrency} at a time; client, upstream and Switchyard on one host`,
  );
  console.log('');
  console.log(
    '| Upstream connection | Switchyard CPU per 1000 connections | Resumed handshakes | Connections/s |',
  );
  console.log('|---|---:|---:|---:|');
  for (const r of rows) {
    const resumed = r.resumedShare === undefined ? '—' : `${Math.round(r.resumedShare * 100)} %`;
    console.log(
      `| ${label[r.name as keyof typeof label]} | ${r.cpuMsPer1000.toFixed(0)} ms | ${resumed} | ${Math.round(r.connections / r.seconds)} |`,
    );
  }
}

await main();
