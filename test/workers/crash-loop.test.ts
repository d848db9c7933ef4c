import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { startCli } from '../helpers/cli.js';
import { until } from '../helpers/clients.js';
import { testPkiFiles } from '../helpers/proxy-harness.js';

describe('workers: a worker that cannot start', { timeout: 60_000 }, () => {
  it('is retried with a doubling wait, not in a tight loop, and serves again once it can', async () => {
    const pki = await testPkiFiles();
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-crashloop-'));
    copyFileSync(pki.server.certPath, join(dir, 'server.pem'));
    copyFileSync(pki.server.keyPath, join(dir, 'server.key'));
    const path = join(dir, 'switchyard.yaml');
    writeFileSync(
      path,
      stringify({
        workers: 2,
        listeners: [
          {
            name: 'edge',
            bind: '127.0.0.1:0',
            tls: { cert: join(dir, 'server.pem'), key: join(dir, 'server.key'), clientCa: pki.caPath },
            routes: [{ org: '*', group: 'g' }],
          },
        ],
        groups: { g: { upstreams: [{ address: '127.0.0.1:1' }] } },
        admin: { bind: '127.0.0.1:0' },
        reload: { watchCertificates: false },
        log: { format: 'json' },
      }),
    );
    const cli = startCli(['run', '--config', path]);
    try {
      const adminLine = await cli.waitForLog('admin API listening');
      const admin = `http://${String(adminLine.address)}`;
      const lines = () =>
        cli.stdout.flatMap((l) => {
          try {
            return [JSON.parse(l) as Record<string, unknown>];
          } catch {
            return [];
          }
        });
      const workers = async () =>
        (await (await fetch(`${admin}/api/workers`)).json()) as {
          slot: number;
          pid: number | null;
          ready: boolean;
        }[];
      await cli.waitForLog('switchyard started');

      // Every new worker now fails to read its certificate.
      writeFileSync(join(dir, 'server.pem'), 'not a certificate\n');
      const victim = (await workers()).find((w) => w.slot === 1)!;
      process.kill(victim.pid!, 'SIGKILL');
      const failures = () => lines().filter((l) => l.msg === 'worker could not start');
      await until(() => failures().length >= 3, 'three failed starts');
      assert.deepEqual(
        failures()
          .slice(0, 3)
          .map((l) => l.retryInMs),
        [100, 200, 400],
      );
      assert.ok(failures().every((l) => l.worker === 1 && typeof l.error === 'string'));
      // The other worker serves on: a crash loop in one slot touches no other.
      const others = (await workers()).filter((w) => w.slot === 2);
      assert.equal(others.length, 1);
      assert.equal(others[0].ready, true);

      // Once the file is good again the next attempt starts the worker.
      copyFileSync(pki.server.certPath, join(dir, 'server.pem'));
      await until(
        () => lines().filter((l) => l.msg === 'worker started' && l.worker === 1).length >= 2,
        'slot 1 back',
      );
      const now = await workers();
      assert.ok(now.every((w) => w.ready));
      const metrics = await (await fetch(`${admin}/metrics`)).text();
      // one death; the failed starts are not deaths of a serving worker
      assert.match(metrics, /^switchyard_worker_restarts_total 1$/m);
    } finally {
      cli.child.kill('SIGTERM');
      await cli.exited;
    }
  });
});
