import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatSummary } from '../../src/cli/check/summary.js';
import { findBindConflicts } from '../../src/config/bind-conflicts.js';
import { ConfigError, formatConfigIssue } from '../../src/config/config-error.js';
import { parseConfigText } from '../../src/config/load-config.js';
import { planReload } from '../../src/runtime/reload-plan.js';

const GROUPS = 'groups: { g: { upstreams: [{ address: "127.0.0.1:1" }] } }';

/** A configuration with one listener named `u` made of `lines` (4 spaces in). */
function withListener(...lines: string[]): string {
  return ['listeners:', '  - name: u', '    bind: "127.0.0.1:5300"', ...lines, GROUPS].join('\n');
}

function issues(text: string): string[] {
  try {
    parseConfigText(text, 'udp.yaml');
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.issues.map(formatConfigIssue);
  }
  assert.fail('expected the configuration to be refused');
}

describe('UDP listener configuration', () => {
  it('is protocol: udp with a group, with the flow defaults filled in', () => {
    const config = parseConfigText(withListener('    protocol: udp', '    group: g'), 'udp.yaml');
    const l = config.listeners[0];
    assert.equal(l.kind, 'udp');
    assert.ok(l.kind === 'udp');
    assert.equal(l.protocol, 'udp');
    assert.equal(l.flowIdleTimeout, 30_000);
    assert.equal(l.maxFlows, 10_000);
    assert.equal(l.handshakeRate.perSource, 0);
    const set = parseConfigText(
      withListener('    protocol: udp', '    group: g', '    flowIdleTimeout: 200ms', '    maxFlows: 2'),
      'udp.yaml',
    ).listeners[0];
    assert.ok(set.kind === 'udp');
    assert.equal(set.flowIdleTimeout, 200);
    assert.equal(set.maxFlows, 2);
  });

  it('keeps tcp the default protocol', () => {
    const l = parseConfigText(withListener('    group: g'), 'udp.yaml').listeners[0];
    assert.equal(l.kind, 'tcp');
    assert.equal(l.protocol, 'tcp');
  });

  it('refuses the keys that mean nothing for datagrams, each with its reason', () => {
    assert.deepEqual(
      issues(withListener('    protocol: udp', '    group: g', '    tls: { cert: c, key: k, clientCa: a }')),
      [
        'udp.yaml:6:5 listeners[0].tls: listener "u" is "protocol: udp" and has "tls": datagrams are relayed as they are (no TLS, and DTLS is not terminated)',
      ],
    );
    assert.deepEqual(
      issues(
        withListener(
          '    protocol: udp',
          '    sniRoutes: [{ serverName: a.example.com, group: g }]',
          '    group: g',
        ),
      ),
      [
        'udp.yaml:5:5 listeners[0].sniRoutes: listener "u" is "protocol: udp" and has "sniRoutes": there is no TLS ClientHello to read a server name from',
      ],
    );
    assert.deepEqual(
      issues(withListener('    protocol: udp', '    group: g', '    routes: [{ org: o, group: g }]')),
      [
        'udp.yaml:6:5 listeners[0].routes: listener "u" is "protocol: udp" and has "routes": "routes" match client certificate orgs, which a UDP listener never sees',
      ],
    );
    assert.deepEqual(issues(withListener('    protocol: udp', '    group: g', '    proxyProtocol: v2')), [
      'udp.yaml:6:20 listeners[0].proxyProtocol: listener "u" is "protocol: udp" and sends a PROXY protocol header: upstream flows are plain datagrams, so it must be "none"',
    ]);
    const accept = issues(
      withListener(
        '    protocol: udp',
        '    group: g',
        '    acceptProxyProtocol: v2',
        '    trustedProxies: [10.0.0.0/8]',
      ),
    );
    assert.ok(
      accept.some((i) => i.includes('listeners[0].acceptProxyProtocol: listener "u" is "protocol: udp"')),
      accept.join('\n'),
    );
    assert.deepEqual(issues(withListener('    protocol: udp')), [
      'udp.yaml:2:5 listeners[0]: listener "u" is "protocol: udp" and needs "group", where its flows go',
    ]);
  });

  it('refuses flow keys on a TCP listener, and bad values', () => {
    assert.deepEqual(issues(withListener('    group: g', '    maxFlows: 5')), [
      'udp.yaml:5:5 listeners[0].maxFlows: listener "u" has "maxFlows", which only a UDP listener has; add "protocol: udp" or remove it',
    ]);
    assert.equal(issues(withListener('    protocol: udp', '    group: g', '    maxFlows: 0')).length, 1);
    assert.equal(
      issues(withListener('    protocol: udp', '    group: g', '    flowIdleTimeout: 0s')).length,
      1,
    );
    assert.equal(issues(withListener('    protocol: quic', '    group: g')).length, 1);
  });

  it('takes UDP listeners with several worker processes', () => {
    const config = parseConfigText(
      `${withListener('    protocol: udp', '    group: g')}\nworkers: 2`,
      'udp.yaml',
    );
    assert.equal(config.workers, 2);
    assert.equal(config.listeners[0].kind, 'udp');
  });

  it('lets a UDP and a TCP listener share a port, but not two UDP listeners', () => {
    const text = (second: string) =>
      [
        'listeners:',
        '  - { name: a, bind: "127.0.0.1:5300", protocol: udp, group: g }',
        `  - { name: b, bind: "127.0.0.1:5300", group: g${second} }`,
        GROUPS,
      ].join('\n');
    assert.deepEqual(findBindConflicts(parseConfigText(text(''), 'udp.yaml')), []);
    assert.deepEqual(issues(text(', protocol: udp')), [
      'udp.yaml:3:22 listeners[1].bind: port 5300 is bound twice: listeners[0] "a" (udp.yaml:2) on 127.0.0.1:5300 and listeners[1] "b" (udp.yaml:3) on 127.0.0.1:5300 (the same address); give one of them another port',
    ]);
  });

  it('shows the check summary line', () => {
    const config = parseConfigText(
      withListener('    protocol: udp', '    group: g', '    maxFlows: 500', '    flowIdleTimeout: 30s'),
      'udp.yaml',
    );
    const summary = formatSummary(
      { path: 'udp.yaml', config, overrides: [] },
      { filesChecked: true, cwd: '/' },
    );
    assert.ok(
      summary.split('\n').includes('  u  127.0.0.1:5300  udp  -> group g  (max 500 flows, idle 30s)'),
      summary,
    );
  });

  it('plans a protocol change as a move to a new socket, and flow settings as an update', () => {
    const tcp = parseConfigText(withListener('    group: g'), 'udp.yaml');
    const udp = parseConfigText(withListener('    protocol: udp', '    group: g'), 'udp.yaml');
    assert.deepEqual(planReload(tcp, udp), [
      {
        kind: 'listener-moved',
        listener: 'u',
        from: '127.0.0.1:5300',
        to: '127.0.0.1:5300',
        kindChange: { from: 'tcp', to: 'udp' },
      },
    ]);
    const smaller = parseConfigText(
      withListener('    protocol: udp', '    group: g', '    maxFlows: 3'),
      'udp.yaml',
    );
    assert.deepEqual(planReload(udp, smaller), [
      { kind: 'listener-updated', listener: 'u', fields: ['maxFlows'] },
    ]);
  });

  it('has a udp health check that needs send and expect', () => {
    const text = (check: string) =>
      [
        'listeners: [{ name: u, bind: "127.0.0.1:5300", protocol: udp, group: g }]',
        `groups: { g: { healthCheck: ${check}, upstreams: [{ address: "127.0.0.1:1" }] } }`,
      ].join('\n');
    const ok = parseConfigText(text('{ type: udp, send: PING, expect: PONG }'), 'udp.yaml');
    assert.equal(ok.groups.g.healthCheck?.type, 'udp');
    const refused = issues(text('{ type: udp, expect: PONG }'));
    assert.equal(refused.length, 1);
    assert.match(refused[0], /type "udp" needs "send"/);
  });
});
