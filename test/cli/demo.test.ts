import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli, startCli } from '../helpers/cli.js';
import { tlsGet } from '../helpers/clients.js';
import { startSilentUpstream } from '../helpers/upstreams.js';

const ORGS = ['groupA', 'groupB', 'groupC', 'intruder'];

describe('switchyard demo', { timeout: 90_000 }, () => {
  let root: string;
  const dir = () => join(root, 'switchyard-demo');
  const read = (name: string) => readFileSync(join(dir(), name), 'utf8');
  const client = (org: string) => ({ cert: read(`client-${org}.pem`), key: read(`client-${org}.key`) });

  before(() => {
    root = mkdtempSync(join(tmpdir(), 'switchyard-demo-'));
  });
  after(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it('serves every allowed org from its own group, refuses intruder, and exits 0 on SIGTERM', async () => {
    const demo = startCli(
      ['demo', '--dir', 'switchyard-demo', '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0'],
      root,
    );
    try {
      const ready = await demo.waitForLog('demo ready');
      const port = ready.port as number;
      assert.ok(port > 0);
      const certs = await demo.waitForLog('demo certificates');
      assert.deepEqual(certs.created, ['ca', 'server', ...ORGS.map((o) => `client-${o}`)]);

      for (const name of [
        'ca.pem',
        'server.pem',
        'server.key',
        ...ORGS.flatMap((o) => [`client-${o}.pem`, `client-${o}.key`]),
      ]) {
        const mode = statSync(join(dir(), name)).mode & 0o777;
        assert.equal(mode, name.endsWith('.key') ? 0o600 : 0o644, name);
      }

      const ca = read('ca.pem');
      for (const group of ['groupA', 'groupB', 'groupC']) {
        const seen = new Set<string>();
        // least-connections rotates ties, so sequential requests visit both upstreams of the group.
        for (let i = 0; i < 4; i++) seen.add(await tlsGet({ port, ca, client: client(group) }));
        assert.deepEqual([...seen].sort(), [
          `hello from ${group}-1 (group ${group})`,
          `hello from ${group}-2 (group ${group})`,
        ]);
      }
      assert.equal(await tlsGet({ port, ca, client: client('intruder') }), '', 'intruder gets nothing');
      await waitForStdout(demo.stdout, (l) => l.includes('"termination":"ERR_UNAUTHORIZED_ORG"'));
      const refused = demo.stdout
        .map((l) => tryJson(l))
        .find((l) => l?.msg === 'session' && l.termination === 'ERR_UNAUTHORIZED_ORG');
      assert.equal(refused?.org, 'intruder');
      assert.equal(refused?.clientId, 'client-intruder');

      // The banner: one ready-to-paste curl line per org, with what it shows.
      for (const org of ORGS) {
        const line = `curl --cacert switchyard-demo/ca.pem --cert switchyard-demo/client-${org}.pem --key switchyard-demo/client-${org}.key https://localhost:${port}/`;
        assert.ok(demo.stdout.includes(line), `banner has: ${line}`);
      }
      assert.ok(
        demo.stdout.some((l) =>
          l.includes('hello from groupA-1 (group groupA)   or   hello from groupA-2 (group groupA)'),
        ),
      );
      assert.ok(demo.stdout.some((l) => l.includes('curl: (52) Empty reply from server')));

      // The dashboard, the admin API and metrics run beside the demo.
      const admin = `http://127.0.0.1:${ready.adminPort as number}`;
      assert.ok(demo.stdout.some((l) => l.startsWith(`Dashboard: ${admin}/ `)));
      const page = await fetch(`${admin}/`);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /<title>[^<]*Switchyard/);
      const status = (await (await fetch(`${admin}/api/status`)).json()) as { groups: unknown[] };
      assert.equal(status.groups.length, 3);
      const metrics = await (await fetch(`${admin}/metrics`)).text();
      assert.ok(
        metrics.includes('switchyard_rejections_total{listener="demo",reason="ERR_UNAUTHORIZED_ORG"} 1'),
        'the refused intruder is counted in /metrics',
      );

      demo.child.kill('SIGTERM');
      assert.equal(await demo.exited, 0);
      await demo.waitForLog('shutdown complete');
    } finally {
      demo.child.kill('SIGKILL');
    }
  });

  it('reuses the certificates of an earlier run, so printed curl lines keep working', async () => {
    const caBefore = read('ca.pem');
    const demo = startCli(
      ['demo', '--dir', dir(), '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0'],
      root,
    );
    try {
      const certs = await demo.waitForLog('demo certificates');
      assert.deepEqual(certs.created, []);
      assert.equal((certs.reused as string[]).length, 2 + ORGS.length);
      const port = (await demo.waitForLog('demo ready')).port as number;
      assert.equal(read('ca.pem'), caBefore);
      assert.match(
        await tlsGet({ port, ca: caBefore, client: client('groupB') }),
        /^hello from groupB-[12] \(group groupB\)$/,
      );
      demo.child.kill('SIGINT');
      assert.equal(await demo.exited, 0);
    } finally {
      demo.child.kill('SIGKILL');
    }
  });
});

describe('switchyard demo on a busy port', { timeout: 60_000 }, () => {
  let root: string;
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'switchyard-demo-busy-'));
  });
  after(() => {
    rmSync(root, { recursive: true, force: true });
  });

  /** Runs the demo with `--listen` and `--admin` and returns its stderr; it must exit 1. */
  const failedDemo = async (listen: string, admin: string) => {
    const { code, stderr } = await runCli(
      ['demo', '--dir', 'switchyard-demo', '--listen', listen, '--admin', admin],
      root,
    );
    assert.equal(code, 1, stderr);
    return stderr;
  };

  it('names the admin address and --admin when the admin port is taken', async () => {
    const busy = await startSilentUpstream('busy-admin');
    try {
      const stderr = await failedDemo('127.0.0.1:0', busy.address);
      assert.match(
        stderr,
        new RegExp(`^switchyard: ${busy.address} \\(the admin API, --admin\\) is already in use`, 'm'),
      );
      assert.ok(stderr.includes('pick another address with --admin'), stderr);
      assert.ok(!stderr.includes('--listen'), `does not blame --listen: ${stderr}`);
    } finally {
      await busy.close();
    }
  });

  it('names the balancer address and --listen when the listener port is taken', async () => {
    const busy = await startSilentUpstream('busy-listener');
    try {
      const stderr = await failedDemo(busy.address, '127.0.0.1:0');
      assert.match(
        stderr,
        new RegExp(`^switchyard: ${busy.address} \\(the balancer, --listen\\) is already in use`, 'm'),
      );
      assert.ok(stderr.includes('pick another address with --listen'), stderr);
      assert.ok(!stderr.includes('--admin'), `does not blame --admin: ${stderr}`);
    } finally {
      await busy.close();
    }
  });
});

function tryJson(line: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** Waits until a stdout line matches (the access-log line is written after the client sees the close). */
async function waitForStdout(lines: string[], match: (line: string) => boolean): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (lines.some(match)) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error('expected line never came');
}
