import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { writeBenchCerts } from '../../../src/bench/bench-certs.js';
import { findTreePids, readTreeUsage } from '../../../src/bench/measure/process-tree.js';
import { processGone } from '../../../src/bench/measure/process-usage.js';
import { GUARD_REASONS, refusalsBetween } from '../../../src/bench/measure/refusals.js';
import { TARGETS } from '../../../src/bench/targets/registry.js';
import type { SwitchyardRunningTarget } from '../../../src/bench/targets/switchyard.js';
import { udpRoundTrip } from '../../../src/bench/targets/udp-round-trip.js';
import {
  type BenchCertFiles,
  type BenchUpstreams,
  type Endpoint,
  type RunningTarget,
  UPSTREAM_KINDS,
} from '../../../src/bench/types.js';
import { startLocalUpstreams, UDP_TAG, upstreamTag } from './local-upstreams.js';
import { exchange, testPayload } from './traffic.js';

// HAProxy's open-source edition has no UDP proxying.
const WITHOUT_UDP = ['haproxy'];

// Detected once, up front: a target that is not installed here gets no tests (never skipped ones);
// the CI check below makes sure CI has them all.
const detected = await Promise.all(
  TARGETS.map(async (target) => ({ target, version: await target.detect() })),
);

describe('target detection', () => {
  it('always finds direct and switchyard', () => {
    for (const name of ['direct', 'switchyard']) {
      assert.equal(typeof detected.find((d) => d.target.name === name)?.version, 'string', name);
    }
  });

  it('finds haproxy and nginx (with its stream module) when CI is true', () => {
    const versions = Object.fromEntries(detected.map((d) => [d.target.name, d.version]));
    if (process.env.CI === 'true') {
      assert.match(versions.haproxy ?? '', /^\d+\.\d+/, 'haproxy must be installed in CI');
      assert.match(
        versions.nginx ?? '',
        /^\d+\.\d+/,
        'nginx and libnginx-mod-stream must be installed in CI',
      );
    } else {
      // Outside CI they may be missing; detect() must then say so with undefined, not throw.
      for (const name of ['haproxy', 'nginx']) {
        assert.ok(versions[name] === undefined || /^\d+\.\d+/.test(versions[name]), name);
      }
    }
  });
});

describe('benchmark targets against real upstreams', { timeout: 120_000 }, () => {
  let root: string;
  let certs: BenchCertFiles;
  let upstreams: BenchUpstreams;

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'switchyard-bench-targets-'));
    certs = await writeBenchCerts(join(root, 'certs'));
    upstreams = await startLocalUpstreams(certs);
  });

  after(async () => {
    await upstreams?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  for (const { target, version } of detected.filter((d) => d.version !== undefined)) {
    describe(`${target.name} ${version}`, () => {
      let running: RunningTarget;
      let workDir: string;
      // Taken while it runs, to check afterwards that stop() left none of them behind.
      let treePids: number[] = [];

      before(async () => {
        workDir = mkdtempSync(join(root, `${target.name}-`));
        running = await target.start({ upstreams, certs, workDir });
        treePids = await findTreePids(running.pids);
      });

      after(async () => {
        await running?.stop();
      });

      it('reaches each upstream kind through its plain endpoint', async () => {
        for (const kind of UPSTREAM_KINDS) {
          await assertEchoed(running.plain[kind], { kind: 'tcp' }, upstreamTag(kind), kind);
        }
      });

      it('reaches the echo upstream over mutual TLS with the bench client certificate', async () => {
        await assertEchoed(
          running.mtls,
          { kind: 'tls', certs, withClientCert: true },
          upstreamTag('echo'),
          'mtls',
        );
      });

      it(
        WITHOUT_UDP.includes(target.name)
          ? 'claims no UDP endpoint'
          : 'relays datagrams both ways to the UDP echo through its UDP endpoint',
        async () => {
          if (WITHOUT_UDP.includes(target.name)) {
            assert.equal(running.udp, undefined);
            return;
          }
          assert.ok(running.udp !== undefined, 'no UDP endpoint');
          for (const payload of [Buffer.from('first datagram'), Buffer.alloc(1000, 0x5a)]) {
            const reply = await udpRoundTrip(running.udp, payload, 5000);
            assert.deepEqual(reply, Buffer.concat([Buffer.from(UDP_TAG), payload]));
          }
        },
      );

      it('refuses a TLS client without a certificate', async () => {
        const payload = Buffer.from('no certificate\n');
        const result = await exchange(
          running.mtls,
          { kind: 'tls', certs, withClientCert: false },
          payload,
          1,
        );
        assert.equal(result.ended, 'closed', 'the connection must be closed, not left hanging');
        assert.equal(result.received.length, 0, 'nothing may come back');
      });

      it('names the processes that do the work', async () => {
        const usage = await readTreeUsage(running.pids);
        if (target.name === 'direct') {
          assert.deepEqual(running.pids, []);
          assert.deepEqual(usage.pids, []);
          return;
        }
        assert.equal(running.pids.length, 1);
        // NGINX: the master and its two workers.
        if (target.name === 'nginx') assert.equal(usage.pids.length, 3, `pids ${usage.pids}`);
        else assert.ok(usage.pids.length >= 1);
        assert.ok(usage.pids.includes(running.pids[0]));
        assert.ok(usage.rssBytes > 0);
        assert.ok(usage.cpuMs >= 0);
      });

      if (target.name === 'switchyard' || target.name === 'switchyard-defaults') {
        it('serves /metrics on its admin API and writes one access-log line per session', async () => {
          const admin = (running as SwitchyardRunningTarget).admin;
          const metrics = await httpGet(`http://${admin.host}:${admin.port}/metrics`);
          assert.equal(metrics.status, 200);
          assert.match(metrics.body, /^switchyard_/m);
          // The log is written in batches, flushed within a fraction of a second.
          const logPath = join(workDir, 'switchyard.stdout.log');
          const deadline = Date.now() + 5000;
          while (!loggedSessions(readFileSync(logPath, 'utf8')).some((s) => s.termination === 'OK')) {
            assert.ok(Date.now() < deadline, 'no successful session in the access log');
            await sleep(50);
          }
        });
      }

      if (target.name === 'switchyard-defaults') {
        it('reports, through /metrics, the connections its default guards refuse', async () => {
          assert.ok(running.refusals !== undefined);
          const before = await running.refusals();
          // More connections than the default handshake backlog (512) holds, none sending a hello:
          // the guards must refuse the rest before any TLS work.
          const held = await holdConnections(running.mtls, 700);
          try {
            // The proxy accepts (and refuses) a moment after the clients' connects complete.
            const deadline = Date.now() + 10_000;
            let grown = refusalsBetween(before, await running.refusals());
            while (Object.keys(grown).length === 0 && Date.now() < deadline) {
              await sleep(50);
              grown = refusalsBetween(before, await running.refusals());
            }
            const total = Object.values(grown).reduce((a, b) => a + b, 0);
            assert.ok(total > 0, JSON.stringify(grown));
            for (const reason of Object.keys(grown)) assert.ok(GUARD_REASONS.includes(reason), reason);
          } finally {
            for (const socket of held) socket.destroy();
          }
        });
      }

      if (target.name === 'switchyard') {
        it('refuses nothing with its guards opened wide', async () => {
          assert.ok(running.refusals !== undefined);
          const held = await holdConnections(running.mtls, 700);
          for (const socket of held) socket.destroy();
          assert.deepEqual(await running.refusals(), {});
        });
      }

      it('stop() leaves no process behind', async () => {
        await running.stop();
        for (const pid of treePids) assert.ok(await processGone(pid), `process ${pid} still runs`);
        assert.deepEqual((await readTreeUsage(running.pids)).pids, []);
      });
    });
  }
});

/** Sends a payload through `endpoint` and checks it comes back after `tag`, whole and in order. */
async function assertEchoed(
  endpoint: Endpoint,
  mode: Parameters<typeof exchange>[1],
  tag: string,
  label: string,
): Promise<void> {
  const payload = testPayload();
  const expected = Buffer.concat([Buffer.from(tag), payload]);
  const result = await exchange(endpoint, mode, payload, expected.length);
  assert.equal(
    result.ended,
    'complete',
    `${label}: ${result.received.length} of ${expected.length} bytes, ${result.error}`,
  );
  assert.ok(result.received.equals(expected), `${label}: the bytes came back changed`);
}

/** Opens `count` TCP connections to `endpoint` (64 at a time) that send nothing; resolves once each is connected. */
async function holdConnections(endpoint: Endpoint, count: number): Promise<Socket[]> {
  const sockets: Socket[] = [];
  const open = () =>
    new Promise<void>((resolve) => {
      const socket = connect({ host: endpoint.host, port: endpoint.port });
      sockets.push(socket);
      socket.on('error', () => {});
      socket.once('close', () => resolve());
      socket.once('connect', () => resolve());
    });
  for (let i = 0; i < count; i += 64) {
    await Promise.all(Array.from({ length: Math.min(64, count - i) }, open));
  }
  return sockets;
}

/** The `session` (access-log) entries of a JSON log; a line still being written is left out. */
function loggedSessions(log: string): { termination?: string }[] {
  const entries: { msg?: string; termination?: string }[] = [];
  for (const line of log.split('\n')) {
    try {
      entries.push(JSON.parse(line) as { msg?: string; termination?: string });
    } catch {
      // empty or partial line
    }
  }
  return entries.filter((e) => e.msg === 'session');
}

function httpGet(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}
