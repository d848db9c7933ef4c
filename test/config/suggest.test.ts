import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { closestMatch, didYouMean, editDistance } from '../../src/config/suggest.js';

describe('closestMatch', () => {
  it('counts a swap of neighbours as one edit', () => {
    assert.equal(editDistance('tsl', 'tls'), 1);
    assert.equal(editDistance('kitten', 'sitting'), 3);
    assert.equal(editDistance('', 'abc'), 3);
  });

  it('suggests near keys, ignoring case', () => {
    const keys = ['listeners', 'groups', 'rateLimit', 'timeouts'];
    assert.equal(closestMatch('timeout', keys), 'timeouts');
    assert.equal(closestMatch('ratelimit', keys), 'rateLimit');
    assert.equal(closestMatch('listener', keys), 'listeners');
    assert.equal(closestMatch('tls', ['tls', 'group']), 'tls');
  });

  it('stays quiet when nothing is close', () => {
    assert.equal(closestMatch('zzz', ['tls', 'group']), undefined);
    assert.equal(didYouMean('banana', ['tls', 'group']), '');
    assert.equal(didYouMean('tsl', ['tls', 'group']), ' (did you mean "tls"?)');
  });
});

describe('didYouMean with ties', () => {
  it('suggests nothing when two candidates are equally close', () => {
    assert.equal(closestMatch('groupC', ['groupA', 'groupB']), undefined);
    assert.equal(closestMatch('groupc', ['groupA', 'groupC']), 'groupC');
  });
});
