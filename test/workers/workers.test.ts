import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TLSSocket } from 'node:tls';
import { stringify } from 'yaml';
import { getTestPki, type TestPki } from '../helpers/certs.js';
import { type CliProcess, startCli } from '../helpers/cli.js';
import { connectTcp, connectTls, EchoClient, tcpGet, until } from '../helpers/clients.js';
import { testTlsBlock } from '../helpers/proxy-harness.js';
import { UdpClient, type UdpUpstream, udpUpstream } from '../helpers/udp.js';
import {
  refusedPort,
  startEchoUpstream,
  startNamedHttpUpstream,
  type TestUpstream,
} from '../helpers/upstreams.js';

interface WorkerView {
  slot: number;
  pid: number | null;
  ready: boolean;
  draining: boolean;
  restarts: number;
  sessions?: number;
}

/** The JSON lines the balancer wrote so far. */
function logLines(cli: CliProcess): Record<string, unknown>[] {
  const lines: Record<string, unknown>[] = [];
  for (const line of cli.stdout) {
    try {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // not JSON
    }
  }
  return lines;
}

describe('worker processes (workers: 2)', { timeout: 120_000 }, () => {
  let pki: TestPki;
  let dir: string;
  let configPath: string;
  let named: TestUpstream;
  let other: TestUpstream;
  let echo: TestUpstream;
  let udpEcho: UdpUpstream;
  let dnsPort: number;
  let config: Record<string, unknown>;
  let cli: CliProcess;
  let admin: string;
  let tcpPort: number;
  let tlsPort: number;
  let echoPort: number;
  let successorPid: number | undefined;
  /** The primary serving now: the one `run` started, or the one an upgrade started. */
  const primaryPid = (): number => successorPid ?? cli.child.pid!;

  const api = async <T>(path: string, init?: RequestInit): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${admin}${path}`, init);
    return { status: res.status, body: (await res.json()) as T };
  };
  const metrics = async (): Promise<string> => (await fetch(`${admin}/metrics`)).text();
  const sample = (text: string, series: string): number | undefined => {
    const line = text.split('\n').find((l) => l.startsWith(`${series} `));
    return line === undefined ? undefined : Number(line.slice(series.length + 1));
  };
  const workers = async (): Promise<WorkerView[]> => (await api<WorkerView[]>('/api/workers')).body;
  const sessionPids = (): Set<unknown> =>
    new Set(
      logLines(cli)
        .filter((l) => l.msg === 'session')
        .map((l) => l.pid),
    );

  /** One UDP client's question through the `dns` listener, answered by the UDP upstream. */
  const udpAnswer = async (text: string): Promise<string> => {
    const client = await new UdpClient().bind();
    try {
      return await client.ask(text, dnsPort);
    } finally {
      await client.close();
    }
  };

  /** A connection through the echo listener that sends random data and checks what comes back. */
  const longTransfer = async () => {
    const socket = await connectTcp(echoPort);
    const sentHash = createHash('sha256');
    const receivedHash = createHash('sha256');
    let received = 0;
    socket.on('data', (chunk: Buffer) => {
      receivedHash.update(chunk);
      received += chunk.length;
    });
    return {
      /** Sends `bytes` more and waits until they have come back. */
      send: async (bytes: number) => {
        const data = randomBytes(bytes);
        sentHash.update(data);
        const target = received + bytes;
        socket.write(data);
        await until(() => received >= target || socket.destroyed, `${target} bytes echoed`);
      },
      /** Ends it; true when every byte came back as sent. */
      finish: async () => {
        socket.end();
        await new Promise((resolve) => socket.once('close', resolve));
        return receivedHash.digest('hex') === sentHash.digest('hex');
      },
    };
  };

  /** Four clients opening mTLS connections one after another, each proven with an echo, until stopped. */
  const mtlsLoad = () => {
    let stopped = false;
    let ok = 0;
    const failures: string[] = [];
    const loop = async () => {
      for (let i = 0; i < 5000 && !stopped; i++) {
        try {
          const s = await connectTls({ port: tlsPort, ca: pki.ca.cert, client: pki.groupA });
          const client = new EchoClient(s);
          await client.roundTrip(`ping ${i}`);
          s.end();
          await client.closed;
          if (client.errorCode !== undefined) failures.push(client.errorCode);
          else ok++;
        } catch (err) {
          failures.push(String((err as NodeJS.ErrnoException).code ?? err));
        }
      }
    };
    const loops = [loop(), loop(), loop(), loop()];
    return {
      stop: async () => {
        stopped = true;
        await Promise.all(loops);
        return { ok, failures };
      },
    };
  };

  before(async () => {
    pki = await getTestPki();
    [named, other, echo] = await Promise.all([
      startNamedHttpUpstream('A'),
      startNamedHttpUpstream('B'),
      startEchoUpstream('E'),
    ]);
    udpEcho = await udpUpstream('U');
    dir = mkdtempSync(join(tmpdir(), 'switchyard-workers-'));
    configPath = join(dir, 'switchyard.yaml');
    config = {
      workers: 2,
      listeners: [
        { name: 'web', bind: '127.0.0.1:0', group: 'web' },
        { name: 'echo', bind: '127.0.0.1:0', group: 'echo' },
        { name: 'dns', bind: '127.0.0.1:0', protocol: 'udp', group: 'udp' },
        {
          name: 'edge',
          bind: '127.0.0.1:0',
          tls: await testTlsBlock(),
          routes: [{ org: '*', group: 'echo' }],
        },
      ],
      groups: {
        web: { balancer: 'least-connections', upstreams: [{ address: named.address, id: 'A' }] },
        echo: { balancer: 'least-connections', upstreams: [{ address: echo.address, id: 'E' }] },
        udp: { upstreams: [{ address: udpEcho.address, id: 'U' }] },
        checked: {
          balancer: 'round-robin',
          healthCheck: { interval: '100ms', timeout: '500ms', fall: 1, rise: 1 },
          upstreams: [
            { address: other.address, id: 'up' },
            { address: `127.0.0.1:${await refusedPort()}`, id: 'gone' },
          ],
        },
      },
      admin: { bind: '127.0.0.1:0' },
      timeouts: { shutdownGrace: '60s' },
      log: { format: 'json' },
    };
    writeFileSync(configPath, stringify(config));
    cli = startCli(['run', '--config', configPath]);
    await cli.waitForLog('switchyard started');
    const lines = logLines(cli);
    const adminLine = lines.find((l) => l.msg === 'admin API listening')!;
    admin = `http://${String(adminLine.address)}`;
    const port = (name: string) =>
      Number(lines.find((l) => l.msg === 'listening' && l.listener === name)!.port);
    tcpPort = port('web');
    echoPort = port('echo');
    tlsPort = port('edge');
    dnsPort = port('dns');
  });

  after(async () => {
    cli.child.kill('SIGTERM');
    await cli.exited;
    // the balancer an upgrade started, if a test failed before stopping it
    if (successorPid !== undefined && alive(successorPid)) {
      process.kill(successorPid, 'SIGKILL');
      await until(() => !alive(successorPid!), 'the successor is gone');
    }
    await Promise.all([named.close(), other.close(), echo.close(), udpEcho.close()]);
  });

  it('starts two ready workers, and the workers (not the primary) serve the connections', async () => {
    const views = await workers();
    assert.equal(views.length, 2);
    assert.ok(views.every((v) => v.ready && v.pid !== null && v.pid !== cli.child.pid));
    assert.notEqual(views[0].pid, views[1].pid);
    // Which worker accepts is the kernel's choice; within a bounded number of connections both do.
    for (let i = 0; i < 400 && sessionPids().size < 2; i++) {
      assert.equal(await tcpGet(tcpPort), 'A');
      if (i % 20 === 19) await until(() => logLines(cli).some((l) => l.msg === 'session'), 'a session line');
    }
    await until(() => sessionPids().size >= 2, 'session lines from both workers');
    const pids = new Set(views.map((v) => v.pid));
    for (const pid of sessionPids()) assert.ok(pids.has(pid as number), `session line from pid ${pid}`);
  });

  it("has one worker read the UDP listener's socket, so each client's datagrams reach one flow", async () => {
    const clients = await Promise.all([1, 2, 3, 4, 5, 6].map(() => new UdpClient().bind()));
    try {
      for (let round = 0; round < 10; round++) {
        const answers = await Promise.all(clients.map((c, i) => c.ask(`c${i}r${round}`, dnsPort)));
        assert.deepEqual(
          answers,
          clients.map((_, i) => `U:c${i}r${round}`),
        );
      }
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
    // A client whose datagrams two workers read would have a flow, and an upstream socket, in each.
    assert.equal(udpEcho.peers.size, 6);
    const status = await api<{
      listeners: { name: string; listening: boolean; address: string; stats: { active: number } }[];
    }>('/api/status');
    const dns = status.body.listeners.find((l) => l.name === 'dns');
    assert.equal(dns?.listening, true);
    assert.equal(dns?.address, `127.0.0.1:${dnsPort}`);
    assert.equal(dns?.stats.active, 6);
  });

  it('sums the workers in /metrics, keeps shared states unsummed, and labels process metrics by worker', async () => {
    const before = sample(await metrics(), 'switchyard_listener_connections_total{listener="web"}') ?? 0;
    for (let i = 0; i < 10; i++) assert.equal(await tcpGet(tcpPort), 'A');
    const text = await metrics();
    assert.equal(sample(text, 'switchyard_listener_connections_total{listener="web"}'), before + 10);
    assert.equal(sample(text, 'switchyard_upstream_up{group="web",upstream="A"}'), 1);
    assert.equal(sample(text, 'switchyard_worker_restarts_total'), 0);
    assert.match(text, /process_cpu_user_seconds_total\{worker="1"\}/);
    assert.match(text, /process_cpu_user_seconds_total\{worker="primary"\}/);
  });

  it('resumes TLS sessions whichever worker issued the ticket', async () => {
    let session: Buffer | undefined;
    const first = await connectTls({ port: tlsPort, ca: pki.ca.cert, client: pki.groupA });
    await new Promise<void>((resolve) => {
      first.once('session', (s: Buffer) => {
        session = s;
        resolve();
      });
      first.write('x');
    });
    first.destroy();
    const edgePids = () =>
      new Set(
        logLines(cli)
          .filter((l) => l.msg === 'session' && l.listener === 'edge')
          .map((l) => l.pid),
      );
    // Until both workers have served this listener (the kernel picks; bounded), every handshake
    // resumes the one session: a worker with keys of its own would refuse the other's ticket.
    let handshakes = 0;
    let resumed = 0;
    for (let i = 0; i < 400 && edgePids().size < 2; i++) {
      const s: TLSSocket = await connectTls({ port: tlsPort, ca: pki.ca.cert, client: pki.groupA, session });
      handshakes++;
      if (s.isSessionReused()) resumed++;
      const client = new EchoClient(s);
      await client.roundTrip('ping');
      s.end();
      await client.closed;
      await until(() => logLines(cli).filter((l) => l.listener === 'edge').length > i, 'its session line');
    }
    assert.equal(edgePids().size, 2);
    assert.equal(resumed, handshakes);
  });

  it('applies health found by the primary in every worker', async () => {
    for (let i = 0; i < 200; i++) {
      const g = (
        await api<{ upstreams: { id: string; health: { healthy: boolean } }[] }>('/api/groups/checked')
      ).body;
      if (g.upstreams.find((u) => u.id === 'gone')?.health.healthy === false) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const text = await metrics();
    assert.equal(sample(text, 'switchyard_upstream_healthy{group="checked",upstream="gone"}'), 0);
    assert.equal(sample(text, 'switchyard_upstream_healthy{group="checked",upstream="up"}'), 1);
  });

  it('answers an admin change only once every worker has it', async () => {
    const drained = await api<{ state: string }>('/api/groups/web/upstreams/A/drain', { method: 'POST' });
    assert.equal(drained.status, 200);
    assert.equal(drained.body.state, 'draining');
    const accepted = named.accepted;
    // No worker sends a new connection to a draining upstream.
    for (let i = 0; i < 20; i++) assert.equal(await tcpGet(tcpPort), '');
    assert.equal(named.accepted, accepted);
    const ready = await api<{ state: string }>('/api/groups/web/upstreams/A/ready', { method: 'POST' });
    assert.equal(ready.body.state, 'up');
    for (let i = 0; i < 10; i++) assert.equal(await tcpGet(tcpPort), 'A');
    const unknown = await api<{ error: { code: string } }>('/api/groups/web/upstreams/nope/drain', {
      method: 'POST',
    });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, 'ERR_UNKNOWN_UPSTREAM');
  });

  it('reloads every worker on SIGHUP and through the API, and a bad file changes nothing', async () => {
    const groups = config.groups as Record<string, unknown>;
    writeFileSync(
      configPath,
      stringify({
        ...config,
        groups: {
          ...groups,
          web: { balancer: 'least-connections', upstreams: [{ address: other.address, id: 'B' }] },
        },
      }),
    );
    const reloads = () => logLines(cli).filter((l) => l.msg === 'configuration reloaded').length;
    const seen = reloads();
    process.kill(primaryPid(), 'SIGHUP');
    // the primary and both workers each log the reload
    await until(() => reloads() >= seen + 3, 'three reload lines');
    for (let i = 0; i < 20; i++) assert.equal(await tcpGet(tcpPort), 'B');

    writeFileSync(configPath, 'listeners: [ nope');
    const refused = await api<{ error: { code: string } }>('/api/reload', { method: 'POST' });
    assert.equal(refused.status, 422);
    assert.equal(refused.body.error.code, 'ERR_RELOAD_FAILED');
    for (let i = 0; i < 10; i++) assert.equal(await tcpGet(tcpPort), 'B');

    writeFileSync(configPath, stringify(config));
    const applied = await api<{ ok: boolean; changes: string[] }>('/api/reload', { method: 'POST' });
    assert.equal(applied.status, 200);
    assert.ok(applied.body.changes.length > 0);
    for (let i = 0; i < 20; i++) assert.equal(await tcpGet(tcpPort), 'A');
  });

  it('refuses and resets no connection through a reload and a rolling restart', async () => {
    // A long transfer that starts before the restart and ends after it, on a worker the restart drains.
    const transfer = await longTransfer();
    await transfer.send(4 << 20);
    const load = mtlsLoad();
    const before = (await workers()).filter((v) => !v.draining).map((v) => v.pid);
    const restarted = await api<{ ok: boolean; replaced: number }>('/api/restart', { method: 'POST' });
    assert.equal(restarted.status, 200);
    assert.equal(restarted.body.replaced, 2);
    const after = await workers();
    const serving = after.filter((v) => !v.draining);
    assert.equal(serving.length, 2);
    assert.ok(serving.every((v) => v.ready && !before.includes(v.pid)));
    const reloaded = await api<{ ok: boolean }>('/api/reload', { method: 'POST' });
    assert.equal(reloaded.status, 200);
    process.kill(primaryPid(), 'SIGUSR2');
    await until(
      () => logLines(cli).filter((l) => l.msg === 'rolling restart done').length >= 2,
      'a second restart',
    );
    await transfer.send(4 << 20);
    const { ok, failures } = await load.stop();
    assert.equal(await transfer.finish(), true);
    assert.deepEqual(failures, []);
    assert.ok(ok > 0);
    // the UDP socket passed to the new first worker
    assert.equal(await udpAnswer('after restarts'), 'U:after restarts');
    // the drained workers are gone once their last session ended
    for (let i = 0; i < 200 && (await workers()).some((v) => v.draining); i++)
      await new Promise((r) => setTimeout(r, 25));
    assert.equal((await workers()).length, 2);
  });

  it('replaces a killed worker, counts it, and the other worker keeps its connections', async () => {
    const held = new EchoClient((await connectTcp(echoPort)) as unknown as TLSSocket);
    await held.roundTrip('before');
    const views = await workers();
    const holder = views.find((v) => v.sessions === 1);
    const victim = views.find((v) => v !== holder);
    assert.ok(holder !== undefined && victim !== undefined && victim.pid !== null);
    const totalBefore = sample(await metrics(), 'switchyard_listener_connections_total{listener="web"}')!;
    process.kill(victim.pid, 'SIGKILL');
    await until(() => logLines(cli).some((l) => l.msg === 'worker exited; replacing it'), 'the exit line');
    const exit = logLines(cli).find((l) => l.msg === 'worker exited; replacing it')!;
    assert.equal(exit.signal, 'SIGKILL');
    assert.equal(exit.workerPid, victim.pid);
    await held.roundTrip('after');
    for (let i = 0; i < 100; i++) {
      const now = await workers();
      if (now.every((v) => v.ready) && now.some((v) => v.restarts === 1)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const now = await workers();
    assert.ok(now.every((v) => v.ready));
    assert.equal(now.find((v) => v.slot === victim.slot)?.restarts, 1);
    assert.notEqual(now.find((v) => v.slot === victim.slot)?.pid, victim.pid);
    const text = await metrics();
    assert.equal(sample(text, 'switchyard_worker_restarts_total'), 1);
    // the killed worker's connections still count
    assert.ok(sample(text, 'switchyard_listener_connections_total{listener="web"}')! >= totalBefore);
    // whichever worker was killed, the UDP listener is read again (by the replacement, if it was the reader)
    assert.equal(await udpAnswer('after a crash'), 'U:after a crash');
    held.socket.end();
    await held.closed;
  });

  it('keeps serving when the new process of an upgrade cannot start', async () => {
    writeFileSync(configPath, 'listeners: [ nope');
    try {
      const refused = await api<{ error: { code: string; message: string } }>('/api/upgrade', {
        method: 'POST',
      });
      assert.equal(refused.status, 422);
      assert.equal(refused.body.error.code, 'ERR_UPGRADE_FAILED');
      assert.match(refused.body.error.message, /exited while starting/);
    } finally {
      writeFileSync(configPath, stringify(config));
    }
    assert.equal(await tcpGet(tcpPort), 'A');
    assert.ok((await workers()).every((v) => v.ready));
  });

  it('hands everything to a new process on POST /api/upgrade, refusing and resetting nothing', async () => {
    const transfer = await longTransfer();
    await transfer.send(4 << 20);
    const load = mtlsLoad();
    const oldWorkers = (await workers()).map((v) => v.pid);
    const upgraded = await api<{ ok: boolean; pid: number }>('/api/upgrade', { method: 'POST' });
    assert.equal(upgraded.status, 200);
    successorPid = upgraded.body.pid;
    assert.notEqual(successorPid, cli.child.pid);
    // The old primary drains (the long transfer keeps one of its workers) while the new one serves.
    await transfer.send(4 << 20);
    assert.equal(await transfer.finish(), true);
    assert.equal(await cli.exited, 0);
    await until(
      () => logLines(cli).some((l) => l.msg === 'switchyard started' && l.takeover === true),
      'the new start',
    );
    // the admin API answers from the new balancer, on the same address
    const now = await workers();
    assert.equal(now.length, 2);
    assert.ok(now.every((v) => v.ready && !oldWorkers.includes(v.pid)));
    for (let i = 0; i < 10; i++) assert.equal(await tcpGet(tcpPort), 'A');
    // the UDP socket went over too: the same port, read by the new balancer's worker
    assert.equal(await udpAnswer('after the upgrade'), 'U:after the upgrade');
    const { ok, failures } = await load.stop();
    assert.deepEqual(failures, []);
    assert.ok(ok > 0);
    for (const pid of oldWorkers) assert.equal(alive(pid!), false);
  });

  it('drains every worker and exits 0 on SIGTERM', async () => {
    const pids = (await workers()).map((v) => v.pid!);
    const primary = primaryPid();
    process.kill(primary, 'SIGTERM');
    await until(() => !alive(primary), 'the primary is gone');
    assert.ok(logLines(cli).some((l) => l.msg === 'shutdown complete' && l.pid === primary));
    for (const pid of pids) assert.equal(alive(pid), false);
  });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
