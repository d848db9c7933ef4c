import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, formatConfigIssue } from '../../src/config/config-error.js';
import { parseConfigText } from '../../src/config/load-config.js';
import { ErrorCodes, hasCode } from '../../src/lib/errors.js';

// The issue example; line numbers below refer to this text (line 1 is `listeners:`).
const BASE = [
  'listeners:', //                      1
  '  - name: edge', //                  2
  '    bind: "127.0.0.1:8443"', //      3
  '    tls:', //                        4
  '      cert: certs/server.pem', //    5
  '      key: certs/server.key', //     6
  '      clientCa: certs/ca.pem', //    7
  '    routes:', //                     8
  '      - org: groupA', //             9
  '        group: groupA', //           10
  '      - org: groupB', //             11
  '        group: groupB', //           12
  'groups:', //                         13
  '  groupA:', //                       14
  '    balancer: least-connections', // 15
  '    upstreams:', //                  16
  '      - address: "127.0.0.1:9001"', // 17
  '      - address: "127.0.0.1:9002"', // 18
  '  groupB:', //                       19
  '    balancer: round-robin', //       20
  '    upstreams:', //                  21
  '      - address: "127.0.0.1:9011"', // 22
  '        weight: 2', //               23
  '      - address: "[::1]:9012"', //   24
  'rateLimit:', //                      25
  '  algorithm: fixed-window', //       26
  '  limit: 20', //                     27
  '  window: 1s', //                    28
  'timeouts:', //                       29
  '  handshake: 5s', //                 30
  '  connect: 2s', //                   31
  '  idle: 5m', //                      32
  '  shutdownGrace: 30s', //            33
];

type Edit = { line: number; text?: string; insert?: string[] };

/** BASE with line `line` replaced by `text` (or removed when text is undefined), or lines inserted after it. */
function edited(...edits: Edit[]): string {
  const lines = [...BASE];
  // Apply from the bottom up so earlier line numbers stay valid.
  for (const e of [...edits].sort((a, b) => b.line - a.line)) {
    if (e.insert !== undefined) lines.splice(e.line, 0, ...e.insert);
    else if (e.text === undefined) lines.splice(e.line - 1, 1);
    else lines[e.line - 1] = e.text;
  }
  return `${lines.join('\n')}\n`;
}

/** The formatted issues parseConfigText throws for `text`, after checking the error's shape. */
function issues(text: string, file = 'edge.yaml'): string[] {
  try {
    parseConfigText(text, file);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    assert.ok(hasCode(err, ErrorCodes.ERR_CONFIG_INVALID));
    const lines = err.issues.map(formatConfigIssue);
    // The message lists every issue, one per line, in the same words.
    for (const line of lines) assert.ok(err.message.includes(`\n  ${line}`), `message lacks ${line}`);
    return lines;
  }
  assert.fail('expected parseConfigText to throw');
}

describe('configuration errors: file:line:column key.path: message', () => {
  it('the base text is valid', () => {
    assert.equal(parseConfigText(edited(), 'edge.yaml').listeners.length, 1);
  });

  it('a missing tls.cert points at the tls mapping', () => {
    assert.deepEqual(issues(edited({ line: 5 })), ['edge.yaml:5:7 listeners[0].tls.cert: required']);
  });

  it('a bad address in groups.groupB.upstreams[1]', () => {
    assert.deepEqual(issues(edited({ line: 24, text: '      - address: "x"' })), [
      'edge.yaml:24:18 groups.groupB.upstreams[1].address: invalid address "x": expected "host:port"',
    ]);
  });

  it('upstreamTls: cert without key, an obsolete version, a bad name, and no way to turn verification off', () => {
    const upstreamTls = (...lines: string[]) => edited({ line: 24, insert: ['    upstreamTls:', ...lines] });
    assert.equal(
      parseConfigText(upstreamTls('      ca: ca.pem', '      serverName: 10.0.2.1'), '/etc/sy/edge.yaml')
        .groups.groupB.upstreamTls?.ca,
      '/etc/sy/ca.pem',
      'resolved against the configuration file',
    );
    assert.deepEqual(
      issues(
        upstreamTls(
          '      cert: lb.pem',
          '      minVersion: TLSv1.1',
          '      serverName: "bad name!"',
          '      rejectUnauthorized: false',
        ),
      ),
      [
        'edge.yaml:27:19 groups.groupB.upstreamTls.minVersion: TLSv1.1 is not supported (obsolete and insecure, RFC 8996); use "TLSv1.2" or "TLSv1.3"',
        'edge.yaml:28:19 groups.groupB.upstreamTls.serverName: expected a DNS name or an IP address, got "bad name!"',
        'edge.yaml:29:7 groups.groupB.upstreamTls.rejectUnauthorized: unknown key "rejectUnauthorized"',
      ],
    );
    assert.deepEqual(issues(upstreamTls('      cert: lb.pem')), [
      'edge.yaml:26:7 groups.groupB.upstreamTls.cert: needs "key" next to it',
    ]);
    assert.deepEqual(issues(upstreamTls('      key: lb.key')), [
      'edge.yaml:26:7 groups.groupB.upstreamTls.key: needs "cert" next to it',
    ]);
  });

  it('a bind without a host (":8443", "*:8443", 8443) says what to write instead', () => {
    const hint = (shown: string) =>
      `invalid address ${shown}: no host; write "0.0.0.0:8443" for every IPv4 address, "[::]:8443" for every IPv6 (and, on most systems, IPv4) address, or "127.0.0.1:8443" for this machine only`;
    assert.deepEqual(issues(edited({ line: 3, text: '    bind: ":8443"' })), [
      `edge.yaml:3:11 listeners[0].bind: ${hint('":8443"')}`,
    ]);
    assert.deepEqual(issues(edited({ line: 3, text: '    bind: "*:8443"' })), [
      `edge.yaml:3:11 listeners[0].bind: ${hint('"*:8443"')}`,
    ]);
    assert.deepEqual(issues(edited({ line: 3, text: '    bind: 8443' })), [
      `edge.yaml:3:11 listeners[0].bind: ${hint('8443')}`,
    ]);
    // An upstream has no "every address": the plain message stays.
    assert.deepEqual(issues(edited({ line: 24, text: '      - address: ":9012"' })), [
      'edge.yaml:24:18 groups.groupB.upstreams[1].address: invalid address ":9012": expected "host:port"',
    ]);
  });

  it('a port outside 1-65535, and port 0 on an upstream', () => {
    assert.deepEqual(
      issues(
        edited(
          { line: 22, text: '      - address: "127.0.0.1:0"' },
          { line: 24, text: '      - address: "[::1]:70000"' },
        ),
      ),
      [
        'edge.yaml:22:18 groups.groupB.upstreams[0].address: invalid address "127.0.0.1:0": port 0 is outside 1-65535',
        'edge.yaml:24:18 groups.groupB.upstreams[1].address: invalid address "[::1]:70000": port 70000 is outside 1-65535',
      ],
    );
  });

  it('a bad duration', () => {
    assert.deepEqual(issues(edited({ line: 32, text: '  idle: 5 minutes' })), [
      'edge.yaml:32:9 timeouts.idle: expected a duration like "5m", got "5 minutes"',
    ]);
  });

  it('a zero duration where 0 does not mean "disabled"', () => {
    assert.deepEqual(issues(edited({ line: 28, text: '  window: 0s' }, { line: 31, text: '  connect: 0' })), [
      'edge.yaml:28:11 rateLimit.window: expected a duration above 0, got "0s"',
      'edge.yaml:31:12 timeouts.connect: expected a duration above 0, got 0',
    ]);
  });

  it('an unknown key, with a suggestion, alongside the key it probably meant', () => {
    assert.deepEqual(issues(edited({ line: 7, text: '      clientCA: certs/ca.pem' })), [
      'edge.yaml:5:7 listeners[0].tls.clientCa: required',
      'edge.yaml:7:7 listeners[0].tls.clientCA: unknown key "clientCA" (did you mean "clientCa"?)',
    ]);
    assert.deepEqual(issues(edited({ line: 29, text: 'timeout:' })), [
      'edge.yaml:29:1 timeout: unknown key "timeout" (did you mean "timeouts"?)',
    ]);
    assert.deepEqual(issues(edited({ line: 33, insert: ['  retries: 3'] })), [
      'edge.yaml:34:3 timeouts.retries: unknown key "retries"',
    ]);
  });

  it('a route to a group that does not exist', () => {
    assert.deepEqual(issues(edited({ line: 12, text: '        group: groupC' })), [
      'edge.yaml:12:16 listeners[0].routes[1].group: group "groupC" is not defined in groups',
    ]);
    assert.deepEqual(issues(edited({ line: 12, text: '        group: grupB' })), [
      'edge.yaml:12:16 listeners[0].routes[1].group: group "grupB" is not defined in groups (did you mean "groupB"?)',
    ]);
  });

  it('"{org}" with a literal org names a group that must exist', () => {
    assert.deepEqual(
      issues(edited({ line: 11, text: '      - org: groupC' }, { line: 12, text: '        group: "{org}"' })),
      [
        'edge.yaml:12:16 listeners[0].routes[1].group: "{org}" here means group "groupC", which is not defined in groups',
      ],
    );
    const anyOrg = edited(
      { line: 9, text: '      - org: "*"' },
      { line: 10, text: '        group: "{org}"' },
    );
    assert.equal(parseConfigText(anyOrg, 'edge.yaml').listeners.length, 1);
  });

  it('TLSv1.1 as minVersion', () => {
    assert.deepEqual(issues(edited({ line: 7, insert: ['      minVersion: TLSv1.1'] })), [
      'edge.yaml:8:19 listeners[0].tls.minVersion: TLSv1.1 is not supported (obsolete and insecure, RFC 8996); use "TLSv1.2" or "TLSv1.3"',
    ]);
  });

  it('maxVersion below minVersion, and a misspelt version', () => {
    assert.deepEqual(
      issues(edited({ line: 7, insert: ['      minVersion: TLSv1.3', '      maxVersion: TLSv1.2'] })),
      ['edge.yaml:9:19 listeners[0].tls.maxVersion: "TLSv1.2" is below minVersion "TLSv1.3"'],
    );
    assert.deepEqual(issues(edited({ line: 7, insert: ['      minVersion: tlsv1.3'] })), [
      'edge.yaml:8:19 listeners[0].tls.minVersion: expected one of "TLSv1.2", "TLSv1.3", got "tlsv1.3" (did you mean "TLSv1.3"?)',
    ]);
  });

  it('a YAML syntax error', () => {
    assert.deepEqual(issues(edited({ line: 10, text: '        group: [groupA' })), [
      'edge.yaml:11:7 invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]',
    ]);
    assert.deepEqual(issues(edited({ line: 6, text: '\tkey: certs/server.key' })), [
      'edge.yaml:6:1 invalid YAML: Tabs are not allowed as indentation',
    ]);
    assert.deepEqual(issues(edited({ line: 12, insert: ['---'] })), [
      'edge.yaml:13:1 invalid YAML: a configuration file holds one document; remove the "---" separator',
    ]);
  });

  it('a duplicate YAML key', () => {
    assert.deepEqual(issues(edited({ line: 3, insert: ['    bind: "127.0.0.1:8444"'] })), [
      'edge.yaml:4:5 invalid YAML: Map keys must be unique',
    ]);
  });

  it('duplicate listener names', () => {
    const text = edited({
      line: 12,
      insert: ['  - name: edge', '    bind: "127.0.0.1:7000"', '    group: groupA'],
    });
    assert.deepEqual(issues(text), [
      'edge.yaml:13:11 listeners[1].name: duplicate listener name "edge" (also listeners[0])',
    ]);
  });

  it('both tls and group', () => {
    assert.deepEqual(issues(edited({ line: 3, insert: ['    group: groupA'] })), [
      'edge.yaml:4:5 listeners[0].group: listener "edge" has both "tls" and "group"; a TLS listener picks groups with "routes", a plain TCP listener has "group" and no "tls"',
    ]);
  });

  it('tls without routes, routes without tls, and neither', () => {
    const noRoutes = edited({ line: 8 }, { line: 9 }, { line: 10 }, { line: 11 }, { line: 12 });
    assert.deepEqual(issues(noRoutes), [
      'edge.yaml:2:5 listeners[0].routes: listener "edge" has "tls" but no "routes"; add routes that map client orgs to groups',
    ]);
    const noTls = edited({ line: 4 }, { line: 5 }, { line: 6 }, { line: 7 });
    assert.deepEqual(issues(noTls), [
      'edge.yaml:4:5 listeners[0].routes: listener "edge" has "routes" but no "tls"; routes match client certificate orgs, so they need "tls" (a plain TCP listener uses "group")',
    ]);
    const neither = [
      'listeners:',
      '  - name: bare',
      '    bind: "127.0.0.1:0"',
      'groups: { g: { upstreams: [{ address: "127.0.0.1:1" }] } }',
    ].join('\n');
    assert.deepEqual(issues(neither), [
      'edge.yaml:2:5 listeners[0]: listener "bare" needs either "tls" with "routes" (mutual TLS), "sniRoutes" (TLS passthrough) or "group" (plain TCP)',
    ]);
  });

  it('TLS passthrough: unknown groups, duplicate and bad server names, mixed with other kinds', () => {
    const listener = (...lines: string[]) =>
      [
        'listeners:',
        '  - name: sni',
        '    bind: "127.0.0.1:0"',
        ...lines,
        'groups: { g: { upstreams: [{ address: "127.0.0.1:1" }] } }',
      ].join('\n');
    assert.deepEqual(
      issues(
        listener(
          '    sniRoutes:',
          '      - { serverName: a.example.com, group: gg }',
          '      - { serverName: A.Example.com, group: g }',
          '      - { serverName: "a.*.example.com", group: g }',
          '      - { serverName: "*example.com", group: g }',
          '      - { serverName: "bad name", group: g }',
          '    defaultGroup: nope',
        ),
      ),
      [
        'edge.yaml:5:45 listeners[0].sniRoutes[0].group: group "gg" is not defined in groups (did you mean "g"?)',
        'edge.yaml:6:23 listeners[0].sniRoutes[1].serverName: duplicate serverName "A.Example.com" (also sniRoutes[0])',
        'edge.yaml:7:23 listeners[0].sniRoutes[2].serverName: expected a DNS name such as "api.example.com" or "*.example.com", got "a.*.example.com" (a wildcard is only a leading "*." before a name, e.g. "*.example.com")',
        'edge.yaml:8:23 listeners[0].sniRoutes[3].serverName: expected a DNS name such as "api.example.com" or "*.example.com", got "*example.com" (a wildcard is only a leading "*." before a name, e.g. "*.example.com")',
        'edge.yaml:9:23 listeners[0].sniRoutes[4].serverName: expected a DNS name such as "api.example.com" or "*.example.com", got "bad name"',
        'edge.yaml:10:19 listeners[0].defaultGroup: group "nope" is not defined in groups',
      ],
    );
    const route = '    sniRoutes: [{ serverName: a.example.com, group: g }]';
    assert.deepEqual(issues(listener(route, '    group: g')), [
      'edge.yaml:5:5 listeners[0].group: listener "sni" has "sniRoutes" (TLS passthrough) and "group": the group for names no route matches is "defaultGroup"',
    ]);
    assert.deepEqual(issues(listener(route, '    tls: { cert: c, key: k, clientCa: ca }')), [
      'edge.yaml:5:5 listeners[0].tls: listener "sni" has "sniRoutes" (TLS passthrough) and "tls": it does not terminate TLS (the upstreams do), so it has no "tls"',
    ]);
    assert.deepEqual(issues(listener('    defaultGroup: g')), [
      'edge.yaml:4:5 listeners[0].defaultGroup: listener "sni" has "defaultGroup" but no "sniRoutes"; add sniRoutes (server name to group), or use "group" for a plain TCP listener',
    ]);
    assert.deepEqual(issues(listener('    sniRoutes: []')).length, 1);
  });

  it('PROXY protocol in: no trusted proxies, trusted proxies without it, a bad range', () => {
    const listener = (...lines: string[]) =>
      [
        'listeners:',
        '  - name: lb',
        '    bind: "127.0.0.1:0"',
        '    group: g',
        ...lines,
        'groups: { g: { upstreams: [{ address: "127.0.0.1:1" }] } }',
      ].join('\n');
    assert.deepEqual(issues(listener('    acceptProxyProtocol: v2')), [
      'edge.yaml:5:5 listeners[0].acceptProxyProtocol: listener "lb" accepts a PROXY protocol header but has no "trustedProxies"; list the addresses or CIDR ranges of the load balancers in front (0.0.0.0/0 and ::/0 trust everyone)',
    ]);
    assert.deepEqual(issues(listener('    trustedProxies: [10.0.0.0/8]')), [
      'edge.yaml:5:5 listeners[0].trustedProxies: listener "lb" has "trustedProxies" but acceptProxyProtocol is "none"; set acceptProxyProtocol to v1, v2 or any, or remove trustedProxies',
    ]);
    assert.deepEqual(
      issues(
        listener('    acceptProxyProtocol: any', '    trustedProxies: [10.0.0.0/33, 10.0.0.300, "fd00::/8"]'),
      ),
      [
        'edge.yaml:6:22 listeners[0].trustedProxies[0]: invalid address range: "/33" is not a prefix length from 0 to 32 for an IPv4 address',
        'edge.yaml:6:35 listeners[0].trustedProxies[1]: invalid address range: "10.0.0.300" is not an IPv4 or IPv6 address',
      ],
    );
    assert.deepEqual(
      issues(listener('    acceptProxyProtocol: v3', '    trustedProxies: [10.0.0.1]')).length,
      1,
    );
  });

  it('a plain TCP listener naming an unknown group', () => {
    const text = [
      'listeners:',
      '  - { name: tcp, bind: "127.0.0.1:0", group: nope }',
      'groups: { g: { upstreams: [{ address: "127.0.0.1:1" }] } }',
    ].join('\n');
    assert.deepEqual(issues(text), [
      'edge.yaml:2:46 listeners[0].group: group "nope" is not defined in groups',
    ]);
  });

  it('group-level mistakes: balancer typo, options of another balancer, duplicate ids, bad names', () => {
    const text = edited(
      { line: 15, text: '    balancer: least-connection' },
      { line: 20, insert: ['    hashKey: source-ip'] },
      { line: 24, text: '      - address: "127.0.0.1:9011"' },
      { line: 24, insert: ['  "bad name":', '    upstreams: []'] },
    );
    assert.deepEqual(issues(text), [
      'edge.yaml:15:15 groups.groupA.balancer: expected one of "least-connections", "round-robin", "weighted-round-robin", "random", "power-of-two", "consistent-hash", got "least-connection" (did you mean "least-connections"?)',
      'edge.yaml:21:5 groups.groupB.hashKey: only used by balancer "consistent-hash" (this group uses "round-robin")',
      'edge.yaml:25:18 groups.groupB.upstreams[1].address: duplicate upstream id "127.0.0.1:9011" (also upstreams[0]); give one an "id" to list the same address twice',
      'edge.yaml:26:3 groups["bad name"]: group name "bad name" may only use letters, digits, "_", "." and "-"',
      'edge.yaml:27:16 groups["bad name"].upstreams: expected at least 1 item',
    ]);
  });

  it('numbers out of range', () => {
    const text = edited(
      { line: 3, insert: ['    maxConnections: -1', '    proxyProtocol: v3'] },
      { line: 23, text: '        weight: 0' },
      { line: 27, text: '  limit: 2.5' },
      { line: 33, insert: ['connect: { attempts: 11 }', 'concurrency: { perClient: "many" }'] },
    );
    assert.deepEqual(issues(text), [
      'edge.yaml:4:21 listeners[0].maxConnections: expected a whole number >= 0, got -1',
      'edge.yaml:5:20 listeners[0].proxyProtocol: expected one of "none", "v1", "v2", got "v3"',
      'edge.yaml:25:17 groups.groupB.upstreams[0].weight: expected a number above 0, got 0',
      'edge.yaml:29:10 rateLimit.limit: expected a whole number >= 1, got 2.5',
      'edge.yaml:36:22 connect.attempts: expected a whole number from 1 to 10, got 11',
      'edge.yaml:37:27 concurrency.perClient: expected a number, got "many"',
    ]);
  });

  it('burst with an algorithm that has none', () => {
    assert.deepEqual(issues(edited({ line: 28, insert: ['  burst: 5'] })), [
      'edge.yaml:29:3 rateLimit.burst: only used by "token-bucket" and "gcra" (algorithm is "fixed-window")',
    ]);
    const ok = edited({ line: 26, text: '  algorithm: token-bucket' }, { line: 28, insert: ['  burst: 5'] });
    assert.equal(parseConfigText(ok, 'edge.yaml').rateLimit?.burst, 5);
  });

  it('wrong types and empty values', () => {
    const text = edited(
      { line: 5, text: '      cert:' },
      { line: 14, text: '  groupA: []' },
      { line: 15 },
      { line: 16 },
      { line: 17 },
      { line: 18 },
    );
    assert.deepEqual(issues(text), [
      'edge.yaml:5:7 listeners[0].tls.cert: expected a string, got an empty value',
      'edge.yaml:14:11 groups.groupA: expected a mapping, got a list',
    ]);
    assert.deepEqual(issues(''), ['edge.yaml:1:1 expected a mapping, got an empty value']);
    assert.deepEqual(issues('listeners: []\ngroups: {}\n'), [
      'edge.yaml:1:12 listeners: expected at least 1 item',
      'edge.yaml:2:9 groups: expected at least 1 group',
    ]);
  });

  it('lists every issue, in file order, under one header', () => {
    const text = edited(
      { line: 32, text: '  idle: soon' },
      { line: 5 },
      { line: 24, text: '      - address: "x"' },
    );
    try {
      parseConfigText(text, 'edge.yaml');
      assert.fail('expected a ConfigError');
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      assert.equal(
        err.message,
        [
          'invalid configuration edge.yaml (3 problems):',
          '  edge.yaml:5:7 listeners[0].tls.cert: required',
          '  edge.yaml:23:18 groups.groupB.upstreams[1].address: invalid address "x": expected "host:port"',
          '  edge.yaml:31:9 timeouts.idle: expected a duration like "5m", got "soon"',
        ].join('\n'),
      );
      assert.deepEqual(err.issues[0], {
        file: 'edge.yaml',
        line: 5,
        column: 7,
        path: 'listeners[0].tls.cert',
        message: 'required',
      });
    }
  });
});

describe('configuration errors in JSON files', () => {
  const json = (body: string) =>
    `{\n  "listeners": [{ "name": "tcp", "bind": "127.0.0.1:0", "group": "g" }],\n  "groups": { "g": { "upstreams": [{ "address": "127.0.0.1:1" }] } }${body}\n}\n`;

  it('points into the JSON text', () => {
    assert.deepEqual(issues(json(',\n  "timeouts": { "idle": "5 minutes" }'), 'sy.json'), [
      'sy.json:4:25 timeouts.idle: expected a duration like "5m", got "5 minutes"',
    ]);
    assert.deepEqual(issues(json(',\n  "tiemouts": {}'), 'sy.json'), [
      'sy.json:4:3 tiemouts: unknown key "tiemouts" (did you mean "timeouts"?)',
    ]);
  });

  it('reports JSON syntax errors with a position', () => {
    const [only] = issues(json(',\n  "timeouts": { "idle": 5 '), 'sy.json');
    assert.match(only, /^sy\.json:\d+:\d+ invalid JSON: /);
    assert.deepEqual(issues('{\n  "listeners": [\n', 'sy.json'), [
      'sy.json:3:1 invalid JSON: Unexpected end of JSON input',
    ]);
  });
});
