import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { parseConfigText } from '../../src/config/load-config.js';
import { ErrorCodes } from '../../src/lib/errors.js';
import type { UpstreamPickedEvent } from '../../src/proxy/events.js';
import type { ProxyRuntime } from '../../src/proxy/runtime.js';
import { connectTcp, until } from '../helpers/clients.js';
import { startTestProxy, type TestProxy } from '../helpers/proxy-harness.js';
import { refusedPort, startEchoUpstream, type TestUpstream } from '../helpers/upstreams.js';

/**
 * A reload hands the proxy a new runtime object and never edits the one in force: a session keeps
 * the timeouts, connect attempts, limits and group table it started with (the manager used to write
 * new values into the live object, so a session in the middle of its retries saw them change).
 */
describe('a reload swaps the runtime instead of editing it', { timeout: 30_000 }, () => {
  let up: TestUpstream;
  let t: TestProxy;
  const config = (idle: string, attempts: number, perClient: number, extraGroup: boolean) => ({
    listeners: [{ name: 'plain', bind: '127.0.0.1:0', group: 'echo' }],
    groups: {
      echo: { upstreams: [{ address: up.address, id: 'echo-1' }] },
      ...(extraGroup ? { spare: { upstreams: [{ address: up.address, id: 'spare-1' }] } } : {}),
    },
    timeouts: { idle },
    connect: { attempts },
    concurrency: { perClient },
    rateLimit: { algorithm: 'fixed-window', limit: 1000 + attempts, window: '1m' },
  });

  before(async () => {
    up = await startEchoUpstream();
    t = await startTestProxy(config('5m', 2, 0, false));
  });

  after(async () => {
    await t.stop();
    await up.close();
  });

  it('leaves the running runtime as it was and puts a new one in force', async () => {
    const held = await connectTcp(t.port('plain'));
    await until(() => t.proxy.sessionSnapshots().some((s) => s.phase === 'relaying'), 'a session relaying');
    const running: ProxyRuntime = t.proxy.runtime;
    const seen = {
      timeouts: structuredClone(running.timeouts),
      connectAttempts: running.connectAttempts,
      rateLimit: running.rateLimit,
      concurrency: running.concurrency,
      groups: [...running.groups.keys()],
      outcomes: running.outcomes,
    };
    const next = parseConfigText(JSON.stringify(config('1m', 4, 3, true)), '/tmp/switchyard-swap.json');
    const result = await t.manager.reload(next);
    assert.equal(result.ok, true, JSON.stringify(result));

    // the object a running session holds is untouched ...
    assert.deepEqual(running.timeouts, seen.timeouts);
    assert.equal(running.connectAttempts, seen.connectAttempts);
    assert.equal(running.rateLimit, seen.rateLimit);
    assert.equal(running.concurrency, seen.concurrency);
    assert.deepEqual([...running.groups.keys()], seen.groups);
    assert.equal(running.outcomes, seen.outcomes);
    // ... and the proxy runs new sessions on a new one
    const now = t.proxy.runtime;
    assert.notEqual(now, running);
    assert.equal(now.timeouts.idle, 60_000);
    assert.equal(now.connectAttempts, 4);
    assert.notEqual(now.rateLimit, seen.rateLimit);
    assert.ok(now.concurrency !== undefined);
    assert.deepEqual([...now.groups.keys()].sort(), ['echo', 'spare']);
    // the live group object is shared, so its counters carry over
    assert.equal(now.groups.get('echo'), running.groups.get('echo'));
    assert.equal(now.groups.get('echo')?.get('echo-1')?.active, 1);

    const fresh = await connectTcp(t.port('plain'));
    fresh.write('after the swap');
    const [echoed] = await once(fresh, 'data');
    assert.equal(String(echoed), 'after the swap');
    fresh.destroy();
    held.destroy();
  });
});

/**
 * A session in the middle of its connect retries when a new runtime comes into force goes on with
 * the attempts it started with. The swap is made from the first pick's event, which the proxy
 * publishes synchronously inside the session's connect step, so no timing decides the order.
 */
describe('a session retrying across a runtime swap', { timeout: 30_000 }, () => {
  let t: TestProxy;

  before(async () => {
    const dead = `127.0.0.1:${await refusedPort()}`;
    t = await startTestProxy({
      listeners: [{ name: 'plain', bind: '127.0.0.1:0', group: 'gone' }],
      groups: { gone: { upstreams: [{ address: dead, id: 'dead-1' }] } },
      connect: { attempts: 2 },
    });
  });

  after(async () => {
    await t.stop();
  });

  it('keeps the connect attempts it started with; the next session uses the new ones', async () => {
    const started = t.proxy.runtime;
    const swap = (e: UpstreamPickedEvent) => {
      if (e.attempt === 1 && t.proxy.runtime === started) {
        t.proxy.apply({ ...started, connectAttempts: 4, timeouts: { ...started.timeouts, connect: 1234 } });
      }
    };
    t.proxy.events.upstreamPicked.subscribe(swap);
    const first = await connectTcp(t.port('plain'));
    const during = await t.record((r) => r.clientPort === first.localPort);
    assert.equal(during.termination, ErrorCodes.ERR_UPSTREAM_CONNECT);
    assert.equal(during.connectAttempts, 2, 'the running session kept its runtime');
    assert.notEqual(t.proxy.runtime, started);
    assert.equal(started.connectAttempts, 2, 'the runtime it held was not edited');

    const from = t.records.length;
    const second = await connectTcp(t.port('plain'));
    const after = await t.record((r) => r.clientPort === second.localPort, from);
    assert.equal(after.connectAttempts, 4, 'a new session starts on the runtime in force');
    first.destroy();
    second.destroy();
  });
  it('names the settings a reload cannot apply instead of ignoring them', async () => {
    const next = structuredClone(t.manager.config);
    next.log.level = next.log.level === 'debug' ? 'info' : 'debug';
    const logged = t.logger.lines.length;
    const result = await t.manager.reload(next);
    assert.equal(result.ok, true, JSON.stringify(result));
    const line = t.logger.lines.slice(logged).find((l) => l.message === 'configuration reloaded');
    assert.deepEqual(line?.fields.needsRestart, ['log.level changed; takes effect at the next restart']);
  });
});
