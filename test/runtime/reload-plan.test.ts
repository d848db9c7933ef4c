import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseConfigText } from '../../src/config/load-config.js';
import { configSchema } from '../../src/config/schema.js';
import { schemaKeyPaths } from '../../src/config/schema-walk.js';
import type { SwitchyardConfig } from '../../src/config/types.js';
import { describeChange, planReload, type ReloadChange } from '../../src/runtime/reload-plan.js';

/** The complete example of docs/CONFIGURATION.md: every key set. */
function fullConfig(): SwitchyardConfig {
  const doc = readFileSync(new URL('../../../docs/CONFIGURATION.md', import.meta.url), 'utf8');
  const start = doc.indexOf('```yaml', doc.indexOf('## A complete example'));
  const text = doc.slice(start + '```yaml'.length, doc.indexOf('```', start + 7));
  return parseConfigText(text, '/etc/switchyard/switchyard.yaml');
}

const small = (): SwitchyardConfig =>
  parseConfigText(
    [
      'listeners:',
      '  - { name: plain, bind: "127.0.0.1:7000", group: web }',
      'groups:',
      '  web: { upstreams: [{ address: "127.0.0.1:9001" }] }',
    ].join('\n'),
    '/tmp/small.yaml',
  );

function edited(base: SwitchyardConfig, edit: (c: SwitchyardConfig) => void): SwitchyardConfig {
  const copy = structuredClone(base);
  edit(copy);
  return copy;
}

describe('planReload', () => {
  const cases: { name: string; edit: (c: SwitchyardConfig) => void; plan: ReloadChange[] }[] = [
    { name: 'nothing changing', edit: () => {}, plan: [] },
    {
      name: 'a listener moving address',
      edit: (c) => {
        c.listeners[0].bind = '127.0.0.1:7001';
      },
      plan: [{ kind: 'listener-moved', listener: 'plain', from: '127.0.0.1:7000', to: '127.0.0.1:7001' }],
    },
    {
      name: 'a group changing balancer',
      edit: (c) => {
        c.groups.web.balancer = 'round-robin';
      },
      plan: [{ kind: 'balancer', group: 'web', from: 'least-connections', to: 'round-robin' }],
    },
    {
      name: 'a bounded load changing (a new balancer with it)',
      edit: (c) => {
        c.groups.web.balancer = 'consistent-hash';
        c.groups.web.boundedLoad = 1.25;
      },
      plan: [{ kind: 'balancer', group: 'web', from: 'least-connections', to: 'consistent-hash' }],
    },
    {
      name: 'group settings applied as a whole',
      edit: (c) => {
        c.groups.web.hashKey = 'source-ip';
        c.groups.web.slowStart = 5000;
      },
      plan: [
        { kind: 'group-setting', group: 'web', field: 'hashKey' },
        { kind: 'group-setting', group: 'web', field: 'slowStart' },
      ],
    },
    {
      name: "an upstream's weight, cap and state",
      edit: (c) => {
        Object.assign(c.groups.web.upstreams[0], { weight: 3, maxConnections: 7, state: 'draining' });
      },
      plan: [
        {
          kind: 'upstream-setting',
          group: 'web',
          upstream: '127.0.0.1:9001',
          field: 'weight',
          from: 1,
          to: 3,
        },
        {
          kind: 'upstream-setting',
          group: 'web',
          upstream: '127.0.0.1:9001',
          field: 'maxConnections',
          from: 0,
          to: 7,
        },
        {
          kind: 'upstream-setting',
          group: 'web',
          upstream: '127.0.0.1:9001',
          field: 'state',
          from: 'up',
          to: 'draining',
        },
      ],
    },
    {
      name: "an upstream's own health check",
      edit: (c) => {
        c.groups.web.upstreams[0].healthCheck = { port: 9101 };
      },
      plan: [{ kind: 'upstream-health-check', group: 'web', upstream: '127.0.0.1:9001' }],
    },
    {
      name: 'an upstream at a new address under the same id (the old one goes first)',
      edit: (c) => {
        c.groups.web.upstreams[0].address = '127.0.0.1:9009';
      },
      plan: [{ kind: 'upstream-added', group: 'web', upstream: '127.0.0.1:9001' }],
    },
    {
      name: 'an upstream replaced by another',
      edit: (c) => {
        c.groups.web.upstreams[0] = { ...c.groups.web.upstreams[0], address: '127.0.0.1:9002', id: 'b' };
      },
      plan: [
        { kind: 'upstream-added', group: 'web', upstream: 'b' },
        { kind: 'upstream-removed', group: 'web', upstream: '127.0.0.1:9001' },
      ],
    },
    {
      name: 'a rate limit appearing',
      edit: (c) => {
        c.rateLimit = { algorithm: 'fixed-window', limit: 5, window: 1000, burst: 0 } as never;
      },
      plan: [{ kind: 'rate-limit' }],
    },
    {
      name: 'the concurrency cap changing',
      edit: (c) => {
        c.concurrency.perClient = 3;
      },
      plan: [{ kind: 'concurrency', from: 0, to: 3 }],
    },
    {
      name: 'timeouts and connect attempts',
      edit: (c) => {
        c.timeouts.idle = 1000;
        c.connect.attempts = 5;
      },
      plan: [{ kind: 'timeouts', fields: ['timeouts.idle', 'connect.attempts'] }],
    },
    {
      name: 'an upstream added to a group',
      edit: (c) => {
        c.groups.web.upstreams.push({
          ...c.groups.web.upstreams[0],
          address: '127.0.0.1:9002',
          id: '127.0.0.1:9002',
        });
      },
      plan: [{ kind: 'upstream-added', group: 'web', upstream: '127.0.0.1:9002' }],
    },
    {
      name: 'a group and a listener added, in apply order',
      edit: (c) => {
        c.groups.api = structuredClone(c.groups.web);
        c.listeners.push({ ...c.listeners[0], name: 'api', bind: '127.0.0.1:7100', group: 'api' } as never);
      },
      plan: [
        { kind: 'group-added', group: 'api' },
        { kind: 'listener-added', listener: 'api' },
      ],
    },
    {
      name: 'a listener and its group removed',
      edit: (c) => {
        c.groups.api = structuredClone(c.groups.web);
        c.listeners[0] = { ...c.listeners[0], name: 'renamed', group: 'api' } as never;
        delete (c.groups as Record<string, unknown>).web;
      },
      plan: [
        { kind: 'group-added', group: 'api' },
        { kind: 'group-removed', group: 'web' },
        { kind: 'listener-added', listener: 'renamed' },
        { kind: 'listener-removed', listener: 'plain' },
      ],
    },
    {
      name: 'a listener setting on the same socket',
      edit: (c) => {
        c.listeners[0].maxConnections = 10;
        c.listeners[0].proxyProtocol = 'v2';
      },
      plan: [{ kind: 'listener-updated', listener: 'plain', fields: ['maxConnections', 'proxyProtocol'] }],
    },
    {
      name: 'a listener turning into another kind on its socket',
      edit: (c) => {
        c.listeners[0] = {
          ...c.listeners[0],
          kind: 'tls',
          tls: { cert: '/pki/s.pem', key: '/pki/s.key', clientCa: '/pki/ca.pem' },
          routes: [{ org: '*', group: 'web' }],
        } as never;
        delete (c.listeners[0] as { group?: string }).group;
      },
      plan: [
        {
          kind: 'listener-updated',
          listener: 'plain',
          fields: ['kind', 'tls', 'routes', 'group'],
          kindChange: { from: 'tcp', to: 'tls' },
        },
      ],
    },
    {
      name: 'a listener moving and changing kind',
      edit: (c) => {
        c.listeners[0] = {
          ...c.listeners[0],
          bind: '127.0.0.1:7443',
          kind: 'tls',
          tls: { cert: '/pki/s.pem', key: '/pki/s.key', clientCa: '/pki/ca.pem' },
          routes: [{ org: '*', group: 'web' }],
        } as never;
      },
      plan: [
        {
          kind: 'listener-moved',
          listener: 'plain',
          from: '127.0.0.1:7000',
          to: '127.0.0.1:7443',
          kindChange: { from: 'tcp', to: 'tls' },
        },
      ],
    },
    {
      name: 'the log level (a restart applies it)',
      edit: (c) => {
        c.log.level = 'debug';
      },
      plan: [{ kind: 'needs-restart', key: 'log.level' }],
    },
    {
      name: 'file watching',
      edit: (c) => {
        c.reload.watchConfig = !c.reload.watchConfig;
      },
      plan: [{ kind: 'reload-settings', fields: ['reload.watchConfig'] }],
    },
  ];
  for (const c of cases) {
    it(`plans ${c.name}`, () => {
      const base = small();
      assert.deepEqual(planReload(base, edited(base, c.edit)), c.plan);
    });
  }

  it('plans something for a change of every key of a complete configuration', () => {
    const base = fullConfig();
    const leaves: (string | number)[][] = [];
    const walk = (value: unknown, path: (string | number)[]) => {
      if (value !== null && typeof value === 'object') {
        for (const [k, v] of Object.entries(value)) walk(v, [...path, Array.isArray(value) ? Number(k) : k]);
      } else {
        leaves.push(path);
      }
    };
    walk(base, []);
    assert.ok(leaves.length > 80, `${leaves.length} keys walked`);
    for (const path of leaves) {
      const next = edited(base, (c) => {
        let at = c as unknown as Record<string | number, unknown>;
        for (const key of path.slice(0, -1)) at = at[key] as Record<string | number, unknown>;
        const last = path[path.length - 1];
        const v = at[last];
        at[last] = typeof v === 'number' ? v + 1 : typeof v === 'boolean' ? !v : `${String(v)}-changed`;
      });
      const plan = planReload(base, next);
      assert.ok(plan.length > 0, `changing ${path.join('.')} plans nothing`);
    }
    for (const section of ['admin', 'rateLimit'] as const) {
      const without = edited(base, (c) => {
        delete c[section];
      });
      assert.ok(planReload(base, without).length > 0, `removing ${section} plans nothing`);
    }
  });

  it('plans something for a change of every key the schema accepts, set or not', () => {
    const base = fullConfig();
    const paths = schemaKeyPaths(configSchema);
    assert.ok(paths.length > 80, `${paths.length} schema keys`);
    for (const path of paths) {
      const next = edited(base, (c) => {
        // `[]` is an array's first element, `<name>` the first group; missing objects are made
        const steps = path.split('.').flatMap((p) => (p.endsWith('[]') ? [p.slice(0, -2), 0] : [p]));
        let at = c as unknown as Record<string | number, unknown>;
        for (const step of steps.slice(0, -1)) {
          const key = step === '<name>' ? Object.keys(at)[0] : step;
          at[key] ??= {};
          at = at[key] as Record<string | number, unknown>;
        }
        const last = steps[steps.length - 1];
        const v = at[last];
        at[last] = typeof v === 'number' ? v + 1 : typeof v === 'boolean' ? !v : `${String(v)}-changed`;
      });
      assert.ok(planReload(base, next).length > 0, `changing ${path} plans nothing`);
    }
  });

  it('refuses a key of a group, upstream or listener it has no place for', () => {
    const base = small();
    const inGroup = edited(base, (c) => {
      (c.groups.web as unknown as Record<string, unknown>).newKey = 1;
    });
    assert.throws(() => planReload(base, inGroup), /group web key "newKey" has no place in the plan/);
    const inUpstream = edited(base, (c) => {
      (c.groups.web.upstreams[0] as unknown as Record<string, unknown>).newKey = 1;
    });
    assert.throws(() => planReload(base, inUpstream), /upstream web\/127.0.0.1:9001 key "newKey"/);
    const inListener = edited(base, (c) => {
      (c.listeners[0] as unknown as Record<string, unknown>).newKey = 1;
    });
    assert.throws(() => planReload(base, inListener), /listener plain key "newKey"/);
  });

  it('refuses a configuration key it has no place for, so a new key cannot be forgotten', () => {
    const base = small();
    const next = { ...base, newSection: { on: true } } as unknown as SwitchyardConfig;
    assert.throws(() => planReload(base, next), /configuration key "newSection" has no place in the plan/);
  });
});

describe('describeChange', () => {
  it('says each change in the words the reload log uses', () => {
    const lines = (
      [
        [{ kind: 'group-added', group: 'g' }, 'group g added'],
        [{ kind: 'group-removed', group: 'g' }, 'group g removed (live sessions finish)'],
        [{ kind: 'upstream-added', group: 'g', upstream: 'u' }, 'upstream g/u added'],
        [
          { kind: 'upstream-removed', group: 'g', upstream: 'u' },
          'upstream g/u removed (live sessions finish)',
        ],
        [
          { kind: 'upstream-setting', group: 'g', upstream: 'u', field: 'weight', from: 1, to: 2 },
          'upstream g/u weight 1 -> 2',
        ],
        [{ kind: 'upstream-health-check', group: 'g', upstream: 'u' }, 'upstream g/u health check updated'],
        [{ kind: 'balancer', group: 'g', from: 'random', to: 'p2c' }, 'group g balancer random -> p2c'],
        [{ kind: 'group-setting', group: 'g', field: 'slowStart' }, 'group g slowStart updated'],
        [{ kind: 'rate-limit' }, 'rate limit replaced'],
        [{ kind: 'concurrency', from: 1, to: 2 }, 'concurrency per client 1 -> 2'],
        [{ kind: 'timeouts', fields: ['timeouts.idle'] }, 'timeouts and connect attempts updated'],
        [{ kind: 'listener-added', listener: 'l' }, 'listener l added'],
        [{ kind: 'listener-removed', listener: 'l' }, 'listener l removed (live sessions finish)'],
        [
          { kind: 'listener-moved', listener: 'l', from: 'a:1', to: 'a:2' },
          'listener l moved a:1 -> a:2 (sessions on the old address finish)',
        ],
        [
          {
            kind: 'listener-moved',
            listener: 'l',
            from: 'a:1',
            to: 'a:2',
            kindChange: { from: 'tcp', to: 'tls' },
          },
          'listener l moved a:1 -> a:2 (tcp -> tls) (sessions on the old address finish)',
        ],
        [{ kind: 'listener-updated', listener: 'l', fields: ['tls'] }, 'listener l updated'],
        [
          {
            kind: 'listener-updated',
            listener: 'l',
            fields: ['kind', 'tls'],
            kindChange: { from: 'tls', to: 'tcp' },
          },
          'listener l changed from tls to tcp on the same socket',
        ],
        [{ kind: 'reload-settings', fields: ['reload.interval'] }, 'file watching updated (reload.interval)'],
        [
          { kind: 'needs-restart', key: 'admin.bind' },
          'admin.bind changed; takes effect at the next restart',
        ],
      ] as [ReloadChange, string][]
    ).map(([change, line]) => [describeChange(change), line]);
    for (const [got, want] of lines) assert.equal(got, want);
  });
});
