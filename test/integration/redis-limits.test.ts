import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { type CliProcess, startCli } from '../helpers/cli.js';
import { startRedis, startTlsRedis, type TestRedis } from '../helpers/redis-server.js';
import { describeWith, installed, REDIS_SERVER } from '../helpers/system-tools.js';
import { startEchoUpstream, type TestUpstream } from '../helpers/upstreams.js';

const HAVE_REDIS = await installed(REDIS_SERVER);

// Several balancers (real `switchyard run` processes) sharing their per-client limits through one
// real redis-server: a limit means the same for all of them together.

const WINDOW = '24h'; // nothing refills during a test; a fixed window edge falls at midnight UTC only

interface Instance {
  cli: CliProcess;
  port: number;
  admin: number;
}

let dir: string;
let upstream: TestUpstream;
let prefixes = 0;

async function startInstance(
  limitStore: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): Promise<Instance> {
  const file = join(dir, `switchyard-${prefixes++}.yaml`);
  writeFileSync(
    file,
    stringify({
      listeners: [{ name: 'tcp', bind: '127.0.0.1:0', group: 'echo' }],
      groups: { echo: { upstreams: [{ address: upstream.address }] } },
      limitStore,
      admin: { bind: '127.0.0.1:0' },
      log: { format: 'json' },
      ...extra,
    }),
  );
  const cli = startCli(['run', '-c', file]);
  const port = (await cli.waitForLog('listening')).port as number;
  const adminAt = (await cli.waitForLog('admin API listening')).address as string;
  const admin = Number(adminAt.slice(adminAt.lastIndexOf(':') + 1));
  await cli.waitForLog('switchyard started');
  return { cli, port, admin };
}

async function stopInstance(i: Instance): Promise<void> {
  if (i.cli.child.exitCode === null && i.cli.child.signalCode === null) i.cli.child.kill('SIGTERM');
  await i.cli.exited;
}

/** Opens a connection and says whether it was let through (the echo answered) or closed unanswered. */
function tryConnection(port: number, hold = false): Promise<{ admitted: boolean; socket: Socket }> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let settled = false;
    const settle = (admitted: boolean) => {
      if (settled) return;
      settled = true;
      if (!hold || !admitted) socket.destroy();
      resolve({ admitted, socket });
    };
    socket.on('connect', () => socket.write('ping\n'));
    socket.once('data', () => settle(true));
    socket.on('error', () => settle(false));
    socket.on('close', () => settle(false));
  });
}

/** Waits until the balancer counts no open connection on its listener. */
async function idle(i: Instance): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!/ 0$/.test(await metric(i.admin, 'switchyard_listener_connections_active{listener="tcp"}'))) {
    assert.ok(Date.now() < deadline, 'the listener never went idle');
    await sleep(20);
  }
}

async function metric(admin: number, name: string): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${admin}/metrics`);
  return (await res.text())
    .split('\n')
    .filter((l) => l.startsWith(name))
    .join('\n');
}

/** The limit state `GET /api/clients/:id` shows for one client. */
async function clientLimits(
  admin: number,
  id: string,
): Promise<{ rate: { algorithm: string; remaining: number; limit: number } | null; concurrency: unknown }> {
  const res = await fetch(`http://127.0.0.1:${admin}/api/clients/${encodeURIComponent(id)}`);
  assert.equal(res.status, 200);
  return ((await res.json()) as { limits: never }).limits;
}

describeWith(
  REDIS_SERVER,
  HAVE_REDIS,
  'limits shared through Redis by several balancers',
  { timeout: 180_000 },
  () => {
    let redis: TestRedis;

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'switchyard-redis-limits-'));
      upstream = await startEchoUpstream();
      redis = await startRedis();
    });

    after(async () => {
      await redis.stop();
      await upstream.close();
      rmSync(dir, { recursive: true, force: true });
    });

    const algorithms = ['fixed-window', 'token-bucket', 'sliding-window', 'gcra'];
    for (const algorithm of algorithms) {
      it(`${algorithm}: of 12 connections spread over two balancers, exactly the limit of 5 is admitted`, async () => {
        const store = { type: 'redis', url: redis.url, keyPrefix: `t${prefixes}-${algorithm}:` };
        const rateLimit = { algorithm, limit: 5, window: WINDOW };
        const [a, b] = await Promise.all([
          startInstance(store, { rateLimit }),
          startInstance(store, { rateLimit }),
        ]);
        try {
          let admitted = 0;
          for (let i = 0; i < 12; i++) {
            if ((await tryConnection(i % 2 === 0 ? a.port : b.port)).admitted) admitted++;
          }
          // each balancer alone would let 5 of its 6 through: 10
          assert.equal(admitted, 5);
        } finally {
          await Promise.all([stopInstance(a), stopInstance(b)]);
        }
      });
    }

    it('concurrency: one cap across two balancers, and a killed one frees its slots within its lease', async () => {
      const store = { type: 'redis', url: redis.url, keyPrefix: `t${prefixes}-cc:` };
      const concurrency = { perClient: 3 };
      const [a, b] = await Promise.all([
        startInstance(store, { concurrency }),
        startInstance(store, { concurrency }),
      ]);
      const held: Socket[] = [];
      try {
        for (const port of [a.port, a.port, b.port]) {
          const r = await tryConnection(port, true);
          assert.ok(r.admitted);
          held.push(r.socket);
        }
        assert.equal(
          (await tryConnection(b.port)).admitted,
          false,
          'the fourth, on either balancer, is refused',
        );
        assert.equal((await tryConnection(a.port)).admitted, false);
        // A dies holding two slots: they come back once its lease (10 s) has run out, not before the
        // process is gone and not never. Polled, with a deadline well past the lease.
        a.cli.child.kill('SIGKILL');
        await a.cli.exited;
        const deadline = Date.now() + 40_000;
        let freed = 0;
        while (freed < 2 && Date.now() < deadline) {
          const r = await tryConnection(b.port, true);
          if (r.admitted) {
            freed++;
            held.push(r.socket);
          } else {
            await sleep(500);
          }
        }
        assert.equal(freed, 2, "the dead balancer's two slots are free again");
        assert.equal((await tryConnection(b.port)).admitted, false, 'and the cap still holds');
      } finally {
        for (const s of held) s.destroy();
        await Promise.all([stopInstance(a), stopInstance(b)]);
      }
    });

    it('rate limit and cap together, one round trip each: the cap refuses first, then the rate, across balancers', async () => {
      const store = { type: 'redis', url: redis.url, keyPrefix: `t${prefixes}-both:` };
      const limits = {
        rateLimit: { algorithm: 'gcra', limit: 4, window: WINDOW },
        concurrency: { perClient: 2 },
      };
      const [a, b] = await Promise.all([startInstance(store, limits), startInstance(store, limits)]);
      const held: Socket[] = [];
      try {
        for (const port of [a.port, b.port]) {
          const r = await tryConnection(port, true);
          assert.ok(r.admitted);
          held.push(r.socket);
        }
        // third: the rate allows it (3 of 4) and the cap (2) refuses; the rate counted it all the same
        assert.equal((await tryConnection(a.port)).admitted, false);
        // either balancer's client view reads the shared state: one request left, both slots held
        const view = await clientLimits(b.admin, '127.0.0.1');
        assert.deepEqual(
          { algorithm: view.rate?.algorithm, remaining: view.rate?.remaining, limit: view.rate?.limit },
          { algorithm: 'gcra', remaining: 1, limit: 4 },
        );
        assert.deepEqual(view.concurrency, { used: 2, limit: 2 });
        // a's session ends; once a counts no connection its release has gone to Redis ahead of
        // anything a asks next (one connection to Redis, in order)
        held.shift()?.destroy();
        await idle(a);
        // fourth: a slot is free again and the rate allows its last one
        const fourth = await tryConnection(a.port, true);
        assert.ok(fourth.admitted);
        fourth.socket.destroy();
        await idle(a);
        // fifth: a slot is free but the rate is spent
        assert.equal((await tryConnection(a.port)).admitted, false);
        // the refusals are counted as the refused sessions end: polled
        const rejections = async () =>
          `${await metric(a.admin, 'switchyard_rejections_total')}\n${await metric(b.admin, 'switchyard_rejections_total')}`;
        const deadline = Date.now() + 10_000;
        let all = await rejections();
        while (!/reason="ERR_RATE_LIMITED"} 1/.test(all) && Date.now() < deadline) {
          await sleep(20);
          all = await rejections();
        }
        assert.match(all, /reason="ERR_CONCURRENCY_LIMIT"} 1/);
        assert.match(all, /reason="ERR_RATE_LIMITED"} 1/);
      } finally {
        for (const s of held) s.destroy();
        await Promise.all([stopInstance(a), stopInstance(b)]);
      }
    });

    it('Redis down: open admits, closed refuses, nothing hangs; Redis back: limits apply again without a restart', async () => {
      const keyPrefix = `t${prefixes}-down:`;
      const rateLimit = { algorithm: 'gcra', limit: 1, window: WINDOW };
      const open = await startInstance(
        { type: 'redis', url: redis.url, keyPrefix, failurePolicy: 'open' },
        { rateLimit },
      );
      const closed = await startInstance(
        { type: 'redis', url: redis.url, keyPrefix, failurePolicy: 'closed' },
        { rateLimit },
      );
      try {
        assert.equal((await tryConnection(open.port)).admitted, true);
        assert.equal((await tryConnection(closed.port)).admitted, false, 'one a day, shared');
        await redis.kill();
        // every attempt ends (the test would time out otherwise), each by its balancer's policy
        for (let i = 0; i < 3; i++) {
          assert.equal((await tryConnection(open.port)).admitted, true, 'open admits while Redis is down');
          assert.equal(
            (await tryConnection(closed.port)).admitted,
            false,
            'closed refuses while Redis is down',
          );
        }
        assert.match(
          await metric(open.admin, 'switchyard_limit_store_fallback_decisions_total'),
          /policy="open"} [1-9]/,
        );
        assert.match(
          await metric(closed.admin, 'switchyard_limit_store_fallback_decisions_total'),
          /policy="closed"} [1-9]/,
        );
        assert.match(
          await metric(open.admin, 'switchyard_limit_store_errors_total{operation="rate"}'),
          / [1-9]/,
        );
        await redis.restart();
        // Back, empty: once reconnected the limit decides again. Polled: the reconnect backs off.
        const deadline = Date.now() + 30_000;
        let refusedByRedis = false;
        while (!refusedByRedis && Date.now() < deadline) {
          await tryConnection(open.port);
          refusedByRedis = !(await tryConnection(open.port)).admitted;
          if (!refusedByRedis) await sleep(300);
        }
        assert.ok(refusedByRedis, 'the open balancer refuses a second connection again: Redis decides');
        // logging is asynchronous: the line may reach the pipe after the decisions did
        await open.cli.waitForLog('limit store failed; the failure policy decides');
      } finally {
        await Promise.all([stopInstance(open), stopInstance(closed)]);
      }
    });
  },
);

describeWith(
  REDIS_SERVER,
  HAVE_REDIS,
  'limits shared through Redis over TLS (rediss://)',
  { timeout: 60_000 },
  () => {
    let redis: TestRedis;

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'switchyard-redis-tls-'));
      upstream = await startEchoUpstream();
      redis = await startTlsRedis();
    });

    after(async () => {
      await redis.stop();
      await upstream.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('decides through a redis-server that requires a client certificate', async () => {
      const tls = redis.tls!;
      for (const [name, pem] of Object.entries(tls)) writeFileSync(join(dir, `${name}.pem`), pem);
      const store = {
        type: 'redis',
        url: redis.url,
        tls: { ca: join(dir, 'ca.pem'), cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') },
        failurePolicy: 'open',
      };
      const i = await startInstance(store, {
        rateLimit: { algorithm: 'token-bucket', limit: 1, window: WINDOW },
      });
      try {
        assert.equal((await tryConnection(i.port)).admitted, true);
        // refused: only Redis can have said so (the open policy would admit)
        assert.equal((await tryConnection(i.port)).admitted, false);
        assert.match(await metric(i.admin, 'switchyard_limit_store_errors_total{operation="rate"}'), / 0$/);
      } finally {
        await stopInstance(i);
      }
    });
  },
);
