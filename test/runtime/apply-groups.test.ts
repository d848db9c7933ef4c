import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfigText } from '../../src/config/load-config.js';
import type { SwitchyardConfig } from '../../src/config/types.js';
import type { UpstreamGroup } from '../../src/lib/upstreams/upstream-group.js';
import { applyGroups } from '../../src/runtime/apply-groups.js';
import { buildRuntime } from '../../src/runtime/build-runtime.js';
import { planReload } from '../../src/runtime/reload-plan.js';

/** A TCP-only configuration (building it reads no files and binds nothing). */
function config(groups: Record<string, unknown>): SwitchyardConfig {
  const text = JSON.stringify({
    listeners: [{ name: 'plain', bind: '127.0.0.1:7000', group: 'web' }],
    groups,
  });
  return parseConfigText(text, '/tmp/apply-groups.json');
}

const web = (...upstreams: object[]) => ({ upstreams });

/** What a test reads of a live group after the reload. */
function view(group: UpstreamGroup | undefined) {
  if (group === undefined) return undefined;
  return {
    balancer: group.balancer.name,
    upstreams: group.upstreams.map(
      (u) => `${u.id}@${u.address} w${u.weight} ${u.state} cap${u.maxConnections}`,
    ),
  };
}

describe('applyGroups', () => {
  const cases: {
    name: string;
    from: Record<string, unknown>;
    /** What the admin API did between the two configurations. */
    admin?: (web: UpstreamGroup) => void;
    to: Record<string, unknown>;
    changes: string[];
    web: ReturnType<typeof view>;
  }[] = [
    {
      name: 'a weight the file changes',
      from: { web: web({ address: '127.0.0.1:9001', id: 'a' }) },
      to: { web: web({ address: '127.0.0.1:9001', id: 'a', weight: 4 }) },
      changes: ['upstream web/a weight 1 -> 4'],
      web: { balancer: 'least-connections', upstreams: ['a@127.0.0.1:9001 w4 up cap0'] },
    },
    {
      name: 'a weight set through the API survives a reload that changes only the state',
      from: { web: web({ address: '127.0.0.1:9001', id: 'a' }) },
      admin: (g) => g.setWeight('a', 9),
      to: { web: web({ address: '127.0.0.1:9001', id: 'a', state: 'draining' }) },
      changes: ['upstream web/a state up -> draining'],
      web: { balancer: 'least-connections', upstreams: ['a@127.0.0.1:9001 w9 draining cap0'] },
    },
    {
      name: 'an upstream removed through the API comes back when the file changes its group',
      from: { web: web({ address: '127.0.0.1:9001', id: 'a' }, { address: '127.0.0.1:9002', id: 'b' }) },
      admin: (g) => g.remove('b'),
      to: {
        web: web(
          { address: '127.0.0.1:9001', id: 'a', maxConnections: 5 },
          { address: '127.0.0.1:9002', id: 'b' },
        ),
      },
      changes: ['upstream web/a maxConnections 0 -> 5', 'upstream web/b added'],
      web: {
        balancer: 'least-connections',
        upstreams: ['a@127.0.0.1:9001 w1 up cap5', 'b@127.0.0.1:9002 w1 up cap0'],
      },
    },
    {
      name: 'an upstream the file removes after the API did says nothing',
      from: { web: web({ address: '127.0.0.1:9001', id: 'a' }, { address: '127.0.0.1:9002', id: 'b' }) },
      admin: (g) => g.remove('b'),
      to: { web: web({ address: '127.0.0.1:9001', id: 'a' }) },
      changes: [],
      web: { balancer: 'least-connections', upstreams: ['a@127.0.0.1:9001 w1 up cap0'] },
    },
    {
      name: 'an upstream at a new address under its id',
      from: { web: web({ address: '127.0.0.1:9001', id: 'a' }) },
      to: { web: web({ address: '127.0.0.1:9009', id: 'a' }) },
      changes: ['upstream web/a added'],
      web: { balancer: 'least-connections', upstreams: ['a@127.0.0.1:9009 w1 up cap0'] },
    },
    {
      name: 'a balancer swap, then a group setting',
      from: { web: web({ address: '127.0.0.1:9001', id: 'a' }) },
      to: {
        web: { ...web({ address: '127.0.0.1:9001', id: 'a' }), balancer: 'round-robin', slowStart: '5s' },
      },
      changes: ['group web balancer least-connections -> round-robin', 'group web slowStart updated'],
      web: { balancer: 'round-robin', upstreams: ['a@127.0.0.1:9001 w1 up cap0'] },
    },
  ];
  for (const c of cases) {
    it(`applies ${c.name}`, async () => {
      const before = config(c.from);
      const after = config(c.to);
      const running = (await buildRuntime(before)).runtime.groups;
      const live = running.get('web')!;
      c.admin?.(live);
      const changes: string[] = [];
      const groups = applyGroups(
        planReload(before, after),
        running,
        after,
        await buildRuntime(after),
        changes,
      );
      assert.deepEqual(changes, c.changes);
      assert.equal(groups.get('web'), live, 'the live group object is kept');
      assert.deepEqual(view(groups.get('web')), c.web);
    });
  }

  it('adds and removes groups in a new map, keeping the running one and the live counters', async () => {
    const before = config({
      web: web({ address: '127.0.0.1:9001', id: 'a' }),
      old: web({ address: '127.0.0.1:9003' }),
    });
    const after = config({
      web: { ...web({ address: '127.0.0.1:9001', id: 'a' }), balancer: 'round-robin' },
      spare: web({ address: '127.0.0.1:9004' }),
    });
    const running = (await buildRuntime(before)).runtime.groups;
    const held = running.get('web')!.pick();
    const built = await buildRuntime(after);
    const changes: string[] = [];
    const groups = applyGroups(planReload(before, after), running, after, built, changes);
    assert.deepEqual(changes, [
      'group web balancer least-connections -> round-robin',
      'group spare added',
      'group old removed (live sessions finish)',
    ]);
    assert.deepEqual([...running.keys()].sort(), ['old', 'web'], 'the map in force is not edited');
    assert.deepEqual([...groups.keys()].sort(), ['spare', 'web']);
    assert.equal(groups.get('spare'), built.runtime.groups.get('spare'));
    assert.equal(held.active, 1, 'a balancer swap keeps the counters');
    assert.equal(groups.get('web')!.pick(), held, 'the new balancer indexes the live upstream');
  });
});
