import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type AuthorizationRule, Authorizer, type OrgRule } from '../../src/proxy/authorize.js';

const groups = new Set(['groupA', 'groupB', 'groupC', 'admins']);
const make = (rules: AuthorizationRule[], orgRule: OrgRule = 'any') =>
  new Authorizer(rules, orgRule, (g) => groups.has(g));

describe('Authorizer', () => {
  it('denies by default', () => {
    assert.equal(make([]).authorize('a', ['groupA']), undefined);
    assert.equal(make([{ org: 'groupA', group: 'groupA' }]).authorize('a', ['intruder']), undefined);
    assert.equal(make([{ org: 'groupA', group: 'groupA' }]).authorize('a', []), undefined);
  });

  it('maps orgs to groups in rule order', () => {
    const a = make([
      { org: 'groupA', group: 'groupA' },
      { org: 'groupA', group: 'groupB' },
    ]);
    assert.equal(a.authorize('x', ['groupA']), 'groupA');
  });

  it('expresses the seed convention "org name = group name" in one rule', () => {
    const a = make([{ org: '*', group: '{org}' }]);
    assert.equal(a.authorize('x', ['groupC']), 'groupC');
    assert.equal(a.authorize('x', ['intruder']), undefined, 'an org without a group of its name is denied');
  });

  it('restricts a rule to listed client ids', () => {
    const a = make([
      { org: 'groupA', clientIds: ['ops-1'], group: 'admins' },
      { org: 'groupA', group: 'groupA' },
    ]);
    assert.equal(a.authorize('ops-1', ['groupA']), 'admins');
    assert.equal(a.authorize('someone', ['groupA']), 'groupA');
  });

  it('with orgRule "any", the first org in certificate order that a rule allows decides', () => {
    const a = make([
      { org: 'groupA', group: 'groupA' },
      { org: 'groupB', group: 'groupB' },
    ]);
    assert.equal(a.authorize('x', ['intruder', 'groupB', 'groupA']), 'groupB');
  });

  it('with orgRule "first", only the first org counts', () => {
    const a = make([{ org: 'groupB', group: 'groupB' }], 'first');
    assert.equal(a.authorize('x', ['groupA', 'groupB']), undefined);
    assert.equal(a.authorize('x', ['groupB', 'groupA']), 'groupB');
  });

  it('skips a rule whose group does not exist', () => {
    const a = make([
      { org: 'groupA', group: 'gone' },
      { org: 'groupA', group: 'groupA' },
    ]);
    assert.equal(a.authorize('x', ['groupA']), 'groupA');
  });
});
