import assert from 'node:assert/strict';
import { afterEach, it } from 'node:test';
import { ErrorCodes } from '../../src/lib/errors.js';
import { until } from '../helpers/clients.js';
import { startOpensslClient } from '../helpers/openssl-client.js';
import { startTestProxy, type TestProxy, testPkiFiles, testTlsBlock } from '../helpers/proxy-harness.js';
import { describeWith, installed, OPENSSL } from '../helpers/system-tools.js';
import { startSilentUpstream, type TestUpstream } from '../helpers/upstreams.js';

const HAVE_OPENSSL = await installed(OPENSSL);

// openssl s_client tells a TLS close (close_notify: "closed", exit 0) from a TCP close without one
// ("unexpected eof while reading", exit 1); a Node client reports both as a plain 'end'.

/** A mutual-TLS listener in front of one upstream that never answers, so sessions stay open. */
async function proxyToSilent(
  upstream: TestUpstream,
  timeouts: Record<string, string> = {},
): Promise<TestProxy> {
  return startTestProxy({
    listeners: [
      { name: 'edge', bind: '127.0.0.1:0', tls: await testTlsBlock(), routes: [{ org: '*', group: 'g' }] },
    ],
    groups: { g: { upstreams: [{ address: upstream.address, id: upstream.name }] } },
    timeouts,
  });
}

describeWith(
  OPENSSL,
  HAVE_OPENSSL,
  'sessions cut by the proxy end with close_notify',
  { timeout: 60_000 },
  () => {
    const cleanup: (() => unknown)[] = [];

    afterEach(async () => {
      for (const fn of cleanup.splice(0).reverse()) await fn();
    });

    async function silentProxy(
      timeouts?: Record<string, string>,
    ): Promise<{ t: TestProxy; upstream: TestUpstream }> {
      const upstream = await startSilentUpstream('silent');
      cleanup.push(() => upstream.close());
      const t = await proxyToSilent(upstream, timeouts);
      cleanup.push(() => t.stop());
      return { t, upstream };
    }

    for (const version of ['TLSv1.3', 'TLSv1.2'] as const) {
      it(`when the shutdown grace runs out (${version})`, async () => {
        const { t, upstream } = await silentProxy();
        const files = await testPkiFiles();
        const flag = version === 'TLSv1.3' ? '-tls1_3' : '-tls1_2';
        const client = startOpensslClient(t.port(), files.caPath, files.groupA, [flag]);
        await until(
          () => upstream.sockets.size === 1 && client.connected(),
          'the session reached the upstream',
        );

        await t.proxy.shutdown({ graceMs: 100, jitterMs: 0 });
        const run = await client.result;
        assert.equal(t.records[0].termination, ErrorCodes.ERR_SHUTDOWN);
        assert.match(run.stdout, /^closed$/m);
        assert.doesNotMatch(run.stderr, /unexpected eof/);
        assert.equal(run.exit, 0, run.stderr);
        await until(() => upstream.sockets.size === 0, 'the upstream connection closed');
      });
    }

    const timers: [string, Record<string, string>, string][] = [
      ['on the idle timeout', { idle: '300ms' }, ErrorCodes.ERR_IDLE_TIMEOUT],
      ['at the maximum lifetime', { maxLifetime: '300ms', idle: '1m' }, ErrorCodes.ERR_MAX_LIFETIME],
    ];
    for (const [when, timeouts, code] of timers) {
      it(when, async () => {
        const { t, upstream } = await silentProxy(timeouts);
        const files = await testPkiFiles();
        const client = startOpensslClient(t.port(), files.caPath, files.groupA);
        await until(() => upstream.sockets.size === 1, 'the session reached the upstream');
        const run = await client.result;
        assert.equal((await t.record(() => true)).termination, code);
        assert.match(run.stdout, /^closed$/m);
        assert.equal(run.exit, 0, run.stderr);
      });
    }
  },
);
