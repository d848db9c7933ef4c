import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { ConfigError } from '../../src/config/config-error.js';
import { loadConfigFile, parseConfigText } from '../../src/config/load-config.js';
import type { SwitchyardConfig, TcpListenerConfig, TlsListenerConfig } from '../../src/config/types.js';
import { ErrorCodes, hasCode, SwitchyardError } from '../../src/lib/errors.js';

// Compiled to dist/test/config, so the repository root is three levels up.
const examples = fileURLToPath(new URL('../../../examples/', import.meta.url));
const EXAMPLE_FILES = ['mtls-by-org.yaml', 'plain-tcp.yaml', 'seed-three-groups.yaml', 'upstream-tls.yaml'];

function tlsListener(config: SwitchyardConfig, index = 0): TlsListenerConfig {
  const l = config.listeners[index];
  assert.equal(l.kind, 'tls');
  return l as TlsListenerConfig;
}

describe('loadConfigFile: the issue example (examples/mtls-by-org.yaml)', () => {
  it('loads with durations in ms, defaults filled in and paths absolute', async () => {
    const config = await loadConfigFile(join(examples, 'mtls-by-org.yaml'));
    const edge = tlsListener(config);
    assert.deepEqual(edge, {
      kind: 'tls',
      name: 'edge',
      bind: '127.0.0.1:8443',
      protocol: 'tcp',
      maxConnections: 10000,
      handshakeRate: { perSource: 1000, window: 1000 },
      maxPendingHandshakes: 512,
      proxyProtocol: 'none',
      acceptProxyProtocol: 'none',
      trustedProxies: [],
      allow: [],
      deny: [],
      tls: {
        cert: join(examples, 'certs/server.pem'),
        key: join(examples, 'certs/server.key'),
        clientCa: join(examples, 'certs/ca.pem'),
        minVersion: 'TLSv1.2',
        maxVersion: 'TLSv1.3',
        orgRule: 'any',
      },
      routes: [
        { org: 'groupA', group: 'groupA' },
        { org: 'groupB', group: 'groupB' },
      ],
    });
    assert.ok('tls' in edge, "'tls' in listener narrows too");
    assert.deepEqual(config.groups, {
      groupA: {
        balancer: 'least-connections',
        hashKey: 'client-id',
        boundedLoad: 0,
        slowStart: 0,
        shutdownSessionsOnDown: false,
        upstreams: [
          { address: '127.0.0.1:9001', id: '127.0.0.1:9001', weight: 1, maxConnections: 0, state: 'up' },
          { address: '127.0.0.1:9002', id: '127.0.0.1:9002', weight: 1, maxConnections: 0, state: 'up' },
        ],
      },
      groupB: {
        balancer: 'round-robin',
        hashKey: 'client-id',
        boundedLoad: 0,
        slowStart: 0,
        shutdownSessionsOnDown: false,
        upstreams: [
          { address: '127.0.0.1:9011', id: '127.0.0.1:9011', weight: 2, maxConnections: 0, state: 'up' },
          { address: '[::1]:9012', id: '[::1]:9012', weight: 1, maxConnections: 0, state: 'up' },
        ],
      },
    });
    assert.deepEqual(config.rateLimit, { algorithm: 'fixed-window', limit: 20, window: 1000 });
    assert.deepEqual(config.timeouts, {
      handshake: 5000,
      connect: 2000,
      idle: 300_000,
      maxLifetime: 0,
      shutdownGrace: 30_000,
      shutdownJitter: 1000,
    });
    assert.deepEqual(config.concurrency, { perClient: 0 });
    assert.deepEqual(config.connect, { attempts: 3 });
    assert.deepEqual(config.log, { level: 'info', format: 'auto', accessLog: 'stdout' });
    assert.equal(config.admin, undefined);
  });
});

describe('loadConfigFile: every example', () => {
  for (const name of EXAMPLE_FILES) {
    it(`loads examples/${name}`, async () => {
      const config = await loadConfigFile(join(examples, name));
      assert.ok(config.listeners.length >= 1);
    });

    it(`loads the JSON equivalent of examples/${name} to the same result`, async () => {
      const yamlPath = join(examples, name);
      const text = await readFile(yamlPath, 'utf8');
      const json = JSON.stringify(parse(text), null, 2);
      const fromJson = parseConfigText(json, join(examples, name.replace(/\.yaml$/, '.json')));
      assert.deepEqual(fromJson, await loadConfigFile(yamlPath));
    });
  }

  it('plain-tcp.yaml: a TCP listener hashing on the source IP', async () => {
    const config = await loadConfigFile(join(examples, 'plain-tcp.yaml'));
    const tcp = config.listeners[0] as TcpListenerConfig;
    assert.equal(tcp.kind, 'tcp');
    assert.equal(tcp.group, 'sticky');
    assert.ok(!('tls' in tcp));
    assert.equal(config.groups.sticky.balancer, 'consistent-hash');
    assert.equal(config.groups.sticky.hashKey, 'source-ip');
    assert.equal(config.rateLimit, undefined);
  });

  it('seed-three-groups.yaml: three groups and the one-line org = group route', async () => {
    const config = await loadConfigFile(join(examples, 'seed-three-groups.yaml'));
    assert.deepEqual(Object.keys(config.groups), ['groupA', 'groupB', 'groupC']);
    for (const g of Object.values(config.groups)) assert.equal(g.upstreams.length, 2);
    const edge = tlsListener(config);
    assert.equal(edge.bind, '[::]:8443');
    assert.deepEqual(edge.routes, [{ org: '*', group: '{org}' }]);
  });
});

describe('parseConfigText', () => {
  const minimal = (extra = '') =>
    [
      'listeners:',
      '  - name: tcp',
      '    bind: "127.0.0.1:0"',
      '    group: g',
      'groups:',
      '  g:',
      '    upstreams:',
      '      - address: "127.0.0.1:9001"',
      extra,
    ].join('\n');

  it('reads JSON written by hand', () => {
    const json = `{
  "listeners": [{ "name": "tcp", "bind": "[::]:7000", "group": "g" }],
  "groups": { "g": { "upstreams": [{ "address": "localhost:9001", "id": "one" }] } },
  "timeouts": { "idle": 0, "connect": 1500 }
}`;
    const config = parseConfigText(json, 'switchyard.json');
    assert.equal(config.listeners[0].bind, '[::]:7000');
    assert.equal(config.groups.g.upstreams[0].id, 'one');
    assert.equal(config.timeouts.idle, 0);
    assert.equal(config.timeouts.connect, 1500);
  });

  it('allows port 0 for listeners, for tests', () => {
    assert.equal(parseConfigText(minimal(), 'a.yaml').listeners[0].bind, '127.0.0.1:0');
  });

  it('resolves relative TLS paths against the file, keeps absolute ones', () => {
    const text = [
      'listeners:',
      '  - name: edge',
      '    bind: "[::]:0"',
      '    tls: { cert: ../pki/server.pem, key: /etc/sy/server.key, clientCa: ca.pem, crl: crl.pem }',
      '    routes: [{ org: "*", group: "{org}" }]',
      'groups:',
      '  g: { upstreams: [{ address: "127.0.0.1:1" }] }',
    ].join('\n');
    const tls = tlsListener(parseConfigText(text, '/srv/switchyard/conf/edge.yaml')).tls;
    assert.equal(tls.cert, '/srv/switchyard/pki/server.pem');
    assert.equal(tls.key, '/etc/sy/server.key');
    assert.equal(tls.clientCa, '/srv/switchyard/conf/ca.pem');
    assert.equal(tls.crl, '/srv/switchyard/conf/crl.pem');
  });

  it('fills every documented default', () => {
    const config = parseConfigText(
      minimal('admin: {}\nconcurrency: { perClient: 5 }\nrateLimit: { limit: 3, window: 1m30s }'),
      'a.yaml',
    );
    assert.deepEqual(config.admin, { bind: '127.0.0.1:9090' });
    assert.deepEqual(config.concurrency, { perClient: 5 });
    assert.deepEqual(config.rateLimit, { algorithm: 'fixed-window', limit: 3, window: 90_000 });
    assert.deepEqual(config.listeners[0], {
      kind: 'tcp',
      name: 'tcp',
      bind: '127.0.0.1:0',
      protocol: 'tcp',
      maxConnections: 10000,
      handshakeRate: { perSource: 0, window: 1000 },
      maxPendingHandshakes: 512,
      proxyProtocol: 'none',
      acceptProxyProtocol: 'none',
      trustedProxies: [],
      allow: [],
      deny: [],
      group: 'g',
    });
  });

  it('takes plain numbers as milliseconds and 0 where it means "disabled"', () => {
    const config = parseConfigText(
      minimal('timeouts: { handshake: 750, idle: 0, maxLifetime: 1h }'),
      'a.yaml',
    );
    assert.equal(config.timeouts.handshake, 750);
    assert.equal(config.timeouts.idle, 0);
    assert.equal(config.timeouts.maxLifetime, 3_600_000);
  });

  it('shares settings through YAML anchors and merge keys', () => {
    const text = [
      'listeners:',
      '  - &first { name: a, bind: "127.0.0.1:0", group: g, maxConnections: 7 }',
      '  - { <<: *first, name: b }',
      'groups: { g: { upstreams: [{ address: "127.0.0.1:1" }] } }',
    ].join('\n');
    const config = parseConfigText(text, 'a.yaml');
    assert.deepEqual(
      config.listeners.map((l) => [l.name, l.maxConnections]),
      [
        ['a', 7],
        ['b', 7],
      ],
    );
  });

  it('defaults the per-source guard by listener kind: 1000/s on tls, off on tcp; a set value wins', () => {
    const text = [
      'listeners:',
      '  - { name: tls, bind: "127.0.0.1:0", tls: { cert: c, key: k, clientCa: ca }, routes: [{ org: "*", group: g }] }',
      '  - { name: tcp, bind: "127.0.0.1:0", group: g }',
      '  - { name: tcp-guarded, bind: "127.0.0.1:0", group: g, handshakeRate: { perSource: 50 } }',
      '  - { name: tls-open, bind: "127.0.0.1:0", tls: { cert: c, key: k, clientCa: ca }, routes: [{ org: "*", group: g }], handshakeRate: { perSource: 0, window: 2s } }',
      'groups: { g: { upstreams: [{ address: "127.0.0.1:1" }] } }',
    ].join('\n');
    const config = parseConfigText(text, 'a.yaml');
    assert.deepEqual(
      config.listeners.map((l) => [l.name, l.handshakeRate]),
      [
        ['tls', { perSource: 1000, window: 1000 }],
        ['tcp', { perSource: 0, window: 1000 }],
        ['tcp-guarded', { perSource: 50, window: 1000 }],
        ['tls-open', { perSource: 0, window: 2000 }],
      ],
    );
  });

  it('accepts upstream ids, weights, caps and states', () => {
    const config = parseConfigText(
      minimal().replace(
        '      - address: "127.0.0.1:9001"',
        '      - { address: "127.0.0.1:9001", id: a, weight: 0.5, maxConnections: 10, state: draining }\n      - { address: "127.0.0.1:9001", id: b }',
      ),
      'a.yaml',
    );
    assert.deepEqual(config.groups.g.upstreams, [
      { address: '127.0.0.1:9001', id: 'a', weight: 0.5, maxConnections: 10, state: 'draining' },
      { address: '127.0.0.1:9001', id: 'b', weight: 1, maxConnections: 0, state: 'up' },
    ]);
  });
});

describe('loadConfigFile: read errors', () => {
  it('throws ERR_CONFIG_READ for a missing file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'switchyard-config-'));
    try {
      const missing = join(dir, 'nope.yaml');
      await assert.rejects(loadConfigFile(missing), (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.ok(err instanceof SwitchyardError);
        assert.ok(hasCode(err, ErrorCodes.ERR_CONFIG_READ));
        assert.match(err.message, /^cannot read configuration file .*nope\.yaml: ENOENT/);
        assert.deepEqual(err.issues, []);
        return true;
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reports issues under the path it was given', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'switchyard-config-'));
    try {
      const file = join(dir, 'edge.yaml');
      await writeFile(file, 'listeners: []\ngroups: {}\n');
      await assert.rejects(loadConfigFile(file), (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.ok(hasCode(err, ErrorCodes.ERR_CONFIG_INVALID));
        assert.deepEqual(
          err.issues.map((i) => [i.file, i.line, i.column, i.path]),
          [
            [file, 1, 12, 'listeners'],
            [file, 2, 9, 'groups'],
          ],
        );
        return true;
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
