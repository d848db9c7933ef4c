import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ACCEPT_MODES,
  isAcceptMode,
  modeAvailabilityByVersion,
  parseNodeVersion,
  reusePortByVersion,
} from '../../../src/bench/accept/modes.js';
import { probeReusePort } from '../../../src/bench/accept/reuse-port-probe.js';

describe('accept modes', () => {
  it('knows exactly the five modes', () => {
    assert.deepEqual(ACCEPT_MODES, ['single', 'cluster-rr', 'cluster-none', 'handle-send', 'reuseport']);
    assert.equal(isAcceptMode('cluster-rr'), true);
    assert.equal(isAcceptMode('cluster'), false);
  });

  it('reads Node versions with or without the v', () => {
    assert.deepEqual(parseNodeVersion('v20.20.2'), [20, 20, 2]);
    assert.deepEqual(parseNodeVersion('22.12.0'), [22, 12, 0]);
    assert.deepEqual(parseNodeVersion('23.1.0-nightly'), [23, 1, 0]);
    assert.equal(parseNodeVersion('twenty'), undefined);
  });

  it('allows reusePort from 22.12 on the 22 line and from 23.1 on', () => {
    const allowed = (version: string) => reusePortByVersion(version).available;
    for (const version of ['20.20.2', '21.7.3', '22.0.0', '22.11.0', '23.0.0']) {
      assert.equal(allowed(version), false, version);
    }
    for (const version of ['22.12.0', '22.23.3', '23.1.0', '24.0.0', '25.2.1']) {
      assert.equal(allowed(version), true, version);
    }
  });

  it('says why a mode is unavailable', () => {
    const verdict = reusePortByVersion('v20.20.2');
    assert.equal(verdict.available, false);
    assert.match(verdict.available ? '' : verdict.reason, /v20\.20\.2 .*22\.12\+ or 23\.1\+/);
    const unreadable = reusePortByVersion('unknown');
    assert.match(unreadable.available ? '' : unreadable.reason, /cannot read/);
  });

  it('limits only reuseport by version', () => {
    for (const mode of ACCEPT_MODES.filter((m) => m !== 'reuseport')) {
      assert.equal(modeAvailabilityByVersion(mode, '20.0.0').available, true, mode);
    }
    assert.equal(modeAvailabilityByVersion('reuseport', '20.0.0').available, false);
  });

  it('agrees by trying with what the running Node version promises', async () => {
    const byVersion = reusePortByVersion(process.versions.node);
    const tried = await probeReusePort();
    // The kernel could still refuse where the version allows, never the other way round.
    if (!byVersion.available) assert.equal(tried.available, false);
    if (tried.available) assert.equal(byVersion.available, true);
  });
});
