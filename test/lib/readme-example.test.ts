// The library example in README.md, kept runnable: if this breaks, the README is wrong too.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { ConcurrencyLimiter, ManualClock, RateLimiter, UpstreamGroup } from '../../src/lib/index.js';
import { AsyncStore } from './ratelimit/async-store.js';

// Stands for the README's store that answers with a promise.
const MyAsyncStore = AsyncStore;

it('README library example works as written', async () => {
  const clock = new ManualClock(0);
  // --- README example start ---
  const web = new UpstreamGroup('web', {
    balancer: 'least-connections',
    upstreams: [
      { address: '10.0.0.1:8080' },
      { address: '10.0.0.2:8080', weight: 2 },
      { address: '[fd00::3]:8080' },
    ],
  });
  const limiter = new RateLimiter(
    { algorithm: 'gcra', limit: 100, window: 1000 },
    { now: () => clock.now() },
  );
  const perClient = new ConcurrencyLimiter(10);

  const client = 'client-a';
  if (limiter.take(client) === 0 && perClient.tryAcquire(client)) {
    const upstream = web.pick(); // throws ERR_NO_HEALTHY_UPSTREAM when nothing can take it
    // ...connect to upstream.host:upstream.port, then:
    web.connected(upstream);
    // ...relay; when the connection ends:
    web.release(upstream, 1200, 800);
    perClient.release(client);
  }
  web.setState('10.0.0.1:8080', 'draining'); // no new connections, live ones finish
  web.setBalancer('power-of-two'); // counters survive the swap

  // Over a store that answers with a promise (an AsyncRateLimitStore, such as one on Redis), take()
  // returns Promise<number>: await it. Without the await, `=== 0` does not compile.
  const shared = new RateLimiter(
    { algorithm: 'gcra', limit: 100, window: 1000 },
    { store: (algorithm) => new MyAsyncStore(algorithm) },
  );
  let admitted = 0;
  if ((await shared.take(client)) === 0) {
    // ...admitted, as above
    admitted++;
  }
  // --- README example end ---
  assert.equal(admitted, 1);
  assert.equal(
    web.upstreams.reduce((n, u) => n + u.total, 0),
    1,
  );
  assert.equal(web.balancer.name, 'power-of-two');
  assert.equal(perClient.count(client), 0);
});
