import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GUARD_REASONS, parseRefusals, refusalsBetween } from '../../../src/bench/measure/refusals.js';

const METRICS = `# HELP switchyard_rejections_total Refused connections and bad session endings, by listener and stable reason code.
# TYPE switchyard_rejections_total counter
switchyard_rejections_total{listener="mtls-echo",reason="ERR_HANDSHAKE_RATE"} 120
switchyard_rejections_total{listener="mtls-echo",reason="ERR_HANDSHAKE_BACKLOG"} 4
switchyard_rejections_total{listener="plain-http",reason="ERR_LISTENER_FULL"} 2
switchyard_rejections_total{listener="plain-echo",reason="ERR_LISTENER_FULL"} 3
switchyard_rejections_total{listener="plain-http",reason="ERR_CLIENT_RESET"} 9
switchyard_rejections_total{listener="plain-http",reason="ERR_RATE_LIMITED"} 0
# HELP switchyard_listener_connections_total Connections accepted by a listener, refused or not.
switchyard_listener_connections_total{listener="plain-http"} 5000
`;

describe('guard refusals from /metrics', () => {
  it('sums the guard reasons over listeners and leaves out other reasons and zeros', () => {
    assert.deepEqual(parseRefusals(METRICS), {
      ERR_HANDSHAKE_RATE: 120,
      ERR_HANDSHAKE_BACKLOG: 4,
      ERR_LISTENER_FULL: 5,
    });
    assert.deepEqual(parseRefusals(''), {});
    assert.ok(!GUARD_REASONS.includes('ERR_CLIENT_RESET'));
  });

  it('takes the growth between two readings', () => {
    const cases: [Record<string, number>, Record<string, number>, Record<string, number>][] = [
      [{}, {}, {}],
      [{}, { ERR_HANDSHAKE_RATE: 3 }, { ERR_HANDSHAKE_RATE: 3 }],
      [{ ERR_HANDSHAKE_RATE: 3 }, { ERR_HANDSHAKE_RATE: 3 }, {}],
      [
        { ERR_HANDSHAKE_RATE: 3, ERR_LISTENER_FULL: 1 },
        { ERR_HANDSHAKE_RATE: 10, ERR_LISTENER_FULL: 1 },
        { ERR_HANDSHAKE_RATE: 7 },
      ],
    ];
    for (const [before, after, grown] of cases) assert.deepEqual(refusalsBetween(before, after), grown);
  });
});
