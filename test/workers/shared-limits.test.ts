import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { type CliProcess, startCli } from '../helpers/cli.js';
import { tcpGet, until } from '../helpers/clients.js';
import { startEchoUpstream, startNamedHttpUpstream, type TestUpstream } from '../helpers/upstreams.js';

/** A balancer with two workers in front of one named upstream, with `limits` at the top level. */
async function startBalancer(
  upstream: TestUpstream,
  limits: Record<string, unknown>,
): Promise<{ cli: CliProcess; port: number; admin: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-limits-'));
  const path = join(dir, 'switchyard.yaml');
  writeFileSync(
    path,
    stringify({
      workers: 2,
      listeners: [{ name: 'web', bind: '127.0.0.1:0', group: 'web', handshakeRate: { perSource: 0 } }],
      groups: { web: { upstreams: [{ address: upstream.address, id: 'A' }] } },
      admin: { bind: '127.0.0.1:0' },
      timeouts: { shutdownGrace: '1s' },
      log: { format: 'json' },
      ...limits,
    }),
  );
  const cli = startCli(['run', '--config', path]);
  await cli.waitForLog('switchyard started');
  const lines = cli.stdout.flatMap((l) => {
    try {
      return [JSON.parse(l) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
  const port = Number(lines.find((l) => l.msg === 'listening')!.port);
  const admin = `http://${String(lines.find((l) => l.msg === 'admin API listening')!.address)}`;
  return { cli, port, admin };
}

/**
 * Opens a connection and waits for the balancer's decision: admitted (it connects to `upstream`
 * and the socket stays open, kept in `held`) or refused (the balancer closes it).
 */
async function openHeld(port: number, upstream: TestUpstream, held: Socket[]): Promise<boolean> {
  const accepted = upstream.accepted;
  const s = connect({ host: '127.0.0.1', port });
  s.on('error', () => {});
  await once(s, 'connect');
  let closed = false;
  s.once('close', () => {
    closed = true;
  });
  await until(() => closed || upstream.accepted > accepted, 'admitted or refused');
  if (closed) return false;
  held.push(s);
  return true;
}

/** The limits `GET /api/clients/127.0.0.1` shows (every test connection comes from there). */
async function limitsOf(admin: string): Promise<{
  rate: { remaining: number; retryAfter: number };
  concurrency: { used: number; limit: number };
}> {
  const body = (await (await fetch(`${admin}/api/clients/127.0.0.1`)).json()) as {
    limits: { rate: { remaining: number; retryAfter: number }; concurrency: { used: number; limit: number } };
  };
  const { remaining, retryAfter } = body.limits.rate;
  return { rate: { remaining, retryAfter }, concurrency: body.limits.concurrency };
}

interface WorkerView {
  pid: number;
  sessions: number;
}

describe('per-client limits with workers: 2', { timeout: 60_000 }, () => {
  let upstream: TestUpstream;
  before(async () => {
    upstream = await startNamedHttpUpstream('A');
  });
  after(() => upstream.close());

  it('admits exactly the rate limit across both workers', async () => {
    // Every connection comes from 127.0.0.1: one client for the limits of a plain TCP listener.
    const b = await startBalancer(upstream, {
      rateLimit: { algorithm: 'fixed-window', limit: 30, window: '1m' },
    });
    // An open dashboard: the workers relay their refusals per client to the primary meanwhile.
    const watching = new AbortController();
    const stream = await fetch(`${b.admin}/api/stream`, { signal: watching.signal });
    assert.equal(stream.status, 200);
    try {
      const answers: string[] = [];
      for (let i = 0; i < 50; i++) answers.push(await tcpGet(b.port));
      // With a limiter per worker, up to 60 would pass (the kernel spreads the connections).
      assert.equal(answers.filter((a) => a === 'A').length, 30);
      assert.ok(answers.slice(30).every((a) => a === ''));
      // Every refusal, whichever worker it happened in, reaches the client view.
      type Detail = { refusals: number | null; recentRefusals: { code: string }[] | null };
      const detail = async (): Promise<Detail> =>
        (await (await fetch(`${b.admin}/api/clients/127.0.0.1`)).json()) as Detail;
      let seen = await detail();
      for (let i = 0; i < 200 && seen.refusals !== 20; i++) {
        await new Promise((r) => setTimeout(r, 25));
        seen = await detail();
      }
      assert.equal(seen.refusals, 20, 'every refusal relayed');
      assert.ok(
        seen.recentRefusals?.length && seen.recentRefusals.every((r) => r.code === 'ERR_RATE_LIMITED'),
      );
    } finally {
      watching.abort();
      b.cli.child.kill('SIGTERM');
      await b.cli.exited;
    }
  });

  it('holds the concurrency cap across both workers and gives back the slots of a worker that dies', async () => {
    const b = await startBalancer(upstream, { concurrency: { perClient: 6 } });
    const held: Socket[] = [];
    const open = (): Promise<boolean> => openHeld(b.port, upstream, held);
    const workers = async (): Promise<WorkerView[]> =>
      (await (await fetch(`${b.admin}/api/workers`)).json()) as WorkerView[];
    try {
      for (let i = 0; i < 6; i++) assert.equal(await open(), true, `connection ${i + 1} admitted`);
      // Whichever worker each lands on, the seventh and later are over the cap.
      for (let i = 0; i < 6; i++) assert.equal(await open(), false, 'over the cap');
      const views = await workers();
      assert.equal(
        views.reduce((n, v) => n + v.sessions, 0),
        6,
      );
      // A worker that dies gives its slots back: as many new connections fit as it held.
      const victim = views.find((v) => v.sessions > 0)!;
      process.kill(victim.pid, 'SIGKILL');
      await until(() => b.cli.stdout.some((l) => l.includes('worker exited; replacing it')), 'the exit');
      for (let i = 0; i < 50 && !(await workers()).every((v) => v.pid !== victim.pid); i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      const freed = victim.sessions;
      for (let i = 0; i < freed; i++)
        assert.equal(await open(), true, `slot ${i + 1} of the dead worker reused`);
      assert.equal(await open(), false, 'over the cap again');
    } finally {
      for (const s of held) s.destroy();
      b.cli.child.kill('SIGTERM');
      await b.cli.exited;
    }
  });

  it('with both limits, counts a rate token for every admission and a slot for every admitted session', async () => {
    const own = await startEchoUpstream('B');
    const b = await startBalancer(own, {
      rateLimit: { algorithm: 'fixed-window', limit: 8, window: '1m' },
      concurrency: { perClient: 3 },
    });
    const held: Socket[] = [];
    const sessions = async (): Promise<number> =>
      ((await (await fetch(`${b.admin}/api/status`)).json()) as { sessions: number }).sessions;
    const settleAt = async (n: number): Promise<void> => {
      for (let i = 0; i < 500 && (await sessions()) !== n; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(await sessions(), n);
    };
    const open = (): Promise<boolean> => openHeld(b.port, own, held);
    try {
      // 3 held (tokens 1-3), 2 over the cap (tokens 4-5: the rate counts them first)
      for (let i = 0; i < 3; i++) assert.equal(await open(), true);
      for (let i = 0; i < 2; i++) assert.equal(await open(), false);
      // the primary's client view reads the gates that decide for both workers
      assert.deepEqual(await limitsOf(b.admin), {
        rate: { remaining: 3, retryAfter: 0 },
        concurrency: { used: 3, limit: 3 },
      });
      // two slots back: 2 more admitted (tokens 6-7), then the cap again (token 8)
      held.shift()?.destroy();
      held.shift()?.destroy();
      await settleAt(1);
      assert.equal(await open(), true);
      assert.equal(await open(), true);
      assert.equal(await open(), false);
      // the window is spent: even with a slot free, the rate refuses
      held.shift()?.destroy();
      await settleAt(2);
      assert.equal(await open(), false);
      const spent = await limitsOf(b.admin);
      assert.equal(spent.rate.remaining, 0);
      assert.ok(spent.rate.retryAfter > 0, 'the view says when the window opens again');
      assert.deepEqual(spent.concurrency, { used: 2, limit: 3 });
    } finally {
      for (const s of held) s.destroy();
      b.cli.child.kill('SIGTERM');
      await b.cli.exited;
      await own.close();
    }
  });
});
