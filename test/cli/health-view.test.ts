import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { parseConfigText } from '../../src/config/load-config.js';
import { createLogger } from '../../src/control/logger.js';
import { type RunningServer, startServer } from '../../src/server/start-server.js';
import { startNamedHttpUpstream, type TestUpstream } from '../helpers/upstreams.js';

interface Health {
  healthy: boolean;
  lastCheckAt?: number;
  lastResult?: string;
  lastChangeAt?: number;
  slowStartUntil?: number;
}

// What the admin API (and so the dashboard) shows of an upstream's checks: the last result, when
// the checks last changed its health, and the slow-start ramp after it came back.
describe("an upstream's health as the admin API shows it", { timeout: 30_000 }, () => {
  let upstream: TestUpstream;
  let server: RunningServer;
  let base: string;

  const health = async (): Promise<Health> =>
    ((await (await fetch(`${base}/api/groups/web/upstreams/web-1`)).json()) as { health: Health }).health;
  const until = async (what: string, check: (h: Health) => boolean): Promise<Health> => {
    for (let i = 0; i < 400; i++) {
      const h = await health();
      if (check(h)) return h;
      await sleep(25);
    }
    throw new Error(`timed out waiting for ${what}`);
  };

  before(async () => {
    upstream = await startNamedHttpUpstream('web-1');
    const config = parseConfigText(
      stringify({
        listeners: [{ name: 'plain', bind: '127.0.0.1:0', group: 'web' }],
        groups: {
          web: {
            healthCheck: { type: 'tcp', interval: '100ms', timeout: '500ms', rise: 1, fall: 1, jitter: 0 },
            slowStart: '1m',
            upstreams: [{ address: upstream.address, id: 'web-1' }],
          },
        },
        admin: { bind: '127.0.0.1:0' },
        timeouts: { shutdownGrace: '0s', shutdownJitter: '0s' },
      }),
      join(tmpdir(), 'switchyard-health-view.yaml'),
    );
    server = await startServer(config, { logger: createLogger('silent', 'json') });
    base = `http://127.0.0.1:${server.admin?.port}`;
  });

  after(async () => {
    await server?.stop();
    await upstream?.close();
  });

  it('says when the checks last changed its health, and that it ramps up after it came back', async () => {
    const first = await until('a first check', (h) => h.lastResult !== undefined);
    assert.equal(first.healthy, true);
    assert.equal(first.lastChangeAt, undefined, 'never changed yet');
    assert.equal(first.slowStartUntil, undefined);

    const port = Number(upstream.address.slice(upstream.address.lastIndexOf(':') + 1));
    await upstream.close();
    const down = await until('down', (h) => !h.healthy);
    assert.equal(down.lastResult, 'failure');
    assert.ok(down.lastChangeAt !== undefined && down.lastChangeAt <= Date.now());

    upstream = await startNamedHttpUpstream('web-1', '127.0.0.1', port);
    const back = await until('up again', (h) => h.healthy);
    assert.ok(back.lastChangeAt !== undefined && back.lastChangeAt >= (down.lastChangeAt ?? 0));
    assert.ok(
      back.slowStartUntil !== undefined && back.slowStartUntil > Date.now(),
      'ramping up for a minute',
    );
  });
});
