import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { describe, it } from 'node:test';
import type { ErrorCode } from '../../src/lib/errors.js';
import type { RoutedSession } from '../../src/proxy/kinds/listener-kind.js';
import { listenerKind } from '../../src/proxy/kinds/registry.js';
import type { ProxyRuntime, StreamListenerRuntime } from '../../src/proxy/runtime.js';
import { SniRoutes } from '../../src/proxy/sni-routes.js';

const tcp = { kind: 'tcp', name: 'plain', group: 'g' } as StreamListenerRuntime;
const tls = { kind: 'tls', name: 'mtls' } as StreamListenerRuntime;
const passthrough = {
  kind: 'tls-passthrough',
  name: 'sni',
  sni: new SniRoutes(
    [
      { serverName: 'a.example.com', group: 'exact' },
      { serverName: '*.Example.com', group: 'wild' },
    ],
    'fallback',
  ),
} as StreamListenerRuntime;
const runtime = {
  hashKeys: new Map([
    ['by-id', 'client-id'],
    ['by-source', 'source-ip'],
  ]),
} as ProxyRuntime;

describe('listener kinds', () => {
  const cases = [
    {
      rt: tcp,
      name: 'tcp',
      closeNotify: false,
      fields: { group: 'g' },
      byId: 'source-ip',
      bySource: 'source-ip',
    },
    { rt: tls, name: 'tls', closeNotify: true, fields: {}, byId: 'client-id', bySource: 'source-ip' },
    {
      rt: passthrough,
      name: 'tls-passthrough',
      closeNotify: false,
      fields: {
        sniRoutes: [
          { serverName: 'a.example.com', group: 'exact' },
          { serverName: '*.Example.com', group: 'wild' },
        ],
        defaultGroup: 'fallback',
      },
      byId: 'source-ip',
      bySource: 'source-ip',
    },
  ] as const;
  for (const c of cases) {
    it(`${c.name}: found by its name, with its hash key default, close and listener fields`, () => {
      const kind = listenerKind(c.rt);
      assert.equal(kind.name, c.name);
      assert.equal(kind.endsWithCloseNotify, c.closeNotify);
      assert.deepEqual(kind.describe(c.rt), c.fields);
      assert.equal(kind.hashKey(runtime, 'by-id'), c.byId);
      assert.equal(kind.hashKey(runtime, 'by-source'), c.bySource);
    });
  }

  it('tcp: routes every session to the listener group, keyed by source address', () => {
    const calls: unknown[][] = [];
    const session: RoutedSession = {
      clientAddress: '127.0.0.9',
      negotiated: (...a) => calls.push(['negotiated', ...a]),
      identified: (...a) => calls.push(['identified', ...a]),
      routed: (...a) => calls.push(['routed', ...a]),
      fail: (code: ErrorCode) => calls.push(['fail', code]),
    };
    listenerKind(tcp).route({} as Socket, tcp, session);
    assert.deepEqual(calls, [['routed', 'g', '127.0.0.9']]);
    assert.equal(listenerKind(tcp).proxiedTls({} as Socket, ''), undefined);
  });

  it('tls-passthrough: SNI routes match exactly first, then a wildcard of one label, case-insensitively', () => {
    const sni = new SniRoutes(
      [
        { serverName: '*.example.com', group: 'wild' },
        { serverName: 'A.example.com', group: 'exact' },
        { serverName: '*.deep.example.com', group: 'deep' },
      ],
      undefined,
    );
    const cases: [string, string | undefined][] = [
      ['a.example.com', 'exact'],
      ['b.example.com', 'wild'],
      ['example.com', undefined],
      ['x.y.example.com', undefined],
      ['x.deep.example.com', 'deep'],
      ['deep.example.com', 'wild'],
      ['com', undefined],
      ['.example.com', undefined],
    ];
    for (const [name, group] of cases) assert.equal(sni.match(name), group, name);
    assert.equal(sni.defaultGroup, undefined);
  });
});
