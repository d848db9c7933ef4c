import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nginxInsteadOfHaproxy } from '../../../src/bench/report/nginx-ratios.js';
import { fixtureResults, result } from './fixtures.js';

describe('switchyard/nginx where HAProxy has no figure', () => {
  it('names every such row with its ratio, oriented so above 1.00x is better for rates and costs', () => {
    const results = [
      ...fixtureResults(),
      result('UDP datagrams/s', 'switchyard', 60_000, { unit: 'dgram/s', vsNginx: 1.2 }),
      result('UDP datagrams/s', 'nginx', 50_000, { unit: 'dgram/s' }),
      // No stored ratio: computed from the medians, lower being better.
      result('proxy CPU per datagram', 'switchyard', 10, { unit: 'µs', higherIsBetter: false }),
      result('proxy CPU per datagram', 'nginx', 8, { unit: 'µs', higherIsBetter: false }),
    ];
    assert.deepEqual(nginxInsteadOfHaproxy(results), [
      'switchyard/nginx where HAProxy has no figure (above 1.00x: Switchyard did better): UDP datagrams/s 1.20x ✓, proxy CPU per datagram 0.80x.',
    ]);
  });

  it('says nothing when every row has HAProxy or lacks NGINX or Switchyard', () => {
    // The fixture's mtls row has neither HAProxy nor NGINX.
    assert.deepEqual(nginxInsteadOfHaproxy(fixtureResults()), []);
    assert.deepEqual(
      nginxInsteadOfHaproxy([result('UDP datagrams/s', 'nginx', 50_000, { unit: 'dgram/s' })]),
      [],
    );
  });
});
