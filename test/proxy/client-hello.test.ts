import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ErrorCodes } from '../../src/lib/errors.js';
import {
  CLIENT_HELLO_MAX_BYTES,
  type ClientHelloRead,
  readClientHello,
} from '../../src/proxy/client-hello.js';
import {
  alpnBody,
  captureClientHello,
  clientHello,
  clientHelloMessage,
  type HelloSpec,
  inRecords,
} from '../helpers/client-hello.js';

const label = fc.stringMatching(/^[a-zA-Z0-9]([a-zA-Z0-9_-]{0,14}[a-zA-Z0-9])?$/);
const serverName = fc.array(label, { minLength: 1, maxLength: 5 }).map((labels) => labels.join('.'));
const alpn = fc.array(fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 16 }), {
  minLength: 1,
  maxLength: 6,
});
const otherExtensions = fc.uniqueArray(
  fc.record({
    type: fc.integer({ min: 1, max: 0xffff }).filter((t) => t !== 16),
    body: fc.uint8Array({ maxLength: 48 }),
  }),
  { selector: (e) => e.type, maxLength: 8 },
);
const spec: fc.Arbitrary<HelloSpec> = fc.record(
  {
    serverName,
    alpn,
    sessionId: fc.uint8Array({ maxLength: 32 }),
    cipherSuites: fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 1, maxLength: 40 }),
    otherExtensions,
    namePosition: fc.nat(8),
    alpnPosition: fc.nat(8),
  },
  { requiredKeys: ['sessionId', 'cipherSuites', 'otherExtensions'] },
);

const STATES = new Set(['partial', 'complete', 'refused']);

function complete(read: ClientHelloRead): Extract<ClientHelloRead, { state: 'complete' }> {
  assert.equal(read.state, 'complete', JSON.stringify(read));
  return read as Extract<ClientHelloRead, { state: 'complete' }>;
}

function refusedWith(read: ClientHelloRead, code: string): void {
  assert.equal(read.state, 'refused', JSON.stringify(read));
  assert.equal((read as Extract<ClientHelloRead, { state: 'refused' }>).code, code, JSON.stringify(read));
}

/** Parses, and checks the one promise made for any input: no throw, one of the three states. */
function readAny(bytes: Buffer): ClientHelloRead {
  const read = readClientHello(bytes);
  assert.ok(STATES.has(read.state), JSON.stringify(read));
  if (read.state === 'complete') assert.ok(read.length > 0 && read.length <= bytes.length);
  return read;
}

function expected(s: HelloSpec) {
  return { serverName: s.serverName?.toLowerCase(), alpn: s.alpn ?? [] };
}

describe('readClientHello', () => {
  it('parses back what a built ClientHello says, in any extension order', () => {
    fc.assert(
      fc.property(spec, (s) => {
        const bytes = clientHello(s);
        const read = complete(readClientHello(bytes));
        assert.deepEqual({ serverName: read.serverName, alpn: read.alpn }, expected(s));
        assert.equal(read.length, bytes.length);
      }),
    );
  });

  it('says partial for every proper prefix of a ClientHello', () => {
    fc.assert(
      fc.property(spec, (s) => {
        const bytes = clientHello(s);
        for (let n = 0; n < bytes.length; n++) {
          assert.deepEqual(readClientHello(bytes.subarray(0, n)), { state: 'partial' }, `prefix of ${n}`);
        }
      }),
      { numRuns: 40 },
    );
  });

  it('reassembles a ClientHello split across many records, and leaves what follows unread', () => {
    fc.assert(
      fc.property(
        spec,
        fc.integer({ min: 1, max: 600 }),
        fc.uint8Array({ maxLength: 64 }),
        (s, size, after) => {
          const records = inRecords(clientHelloMessage(s), size);
          const read = complete(readClientHello(Buffer.concat([records, after])));
          assert.deepEqual({ serverName: read.serverName, alpn: read.alpn }, expected(s));
          assert.equal(read.length, records.length);
        },
      ),
    );
  });

  it('never throws on random bytes, nor on random bytes behind a handshake record header', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.boolean(), (random, behindHeader) => {
        const bytes = behindHeader
          ? Buffer.concat([Buffer.from([22, 3, 1, random.length >> 8, random.length & 0xff]), random])
          : Buffer.from(random);
        readAny(bytes);
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws on a ClientHello with one byte changed, and never reads past it', () => {
    fc.assert(
      fc.property(spec, fc.nat(), fc.integer({ min: 0, max: 255 }), (s, at, value) => {
        const bytes = Buffer.from(clientHello(s));
        bytes[at % bytes.length] = value;
        readAny(bytes);
      }),
      { numRuns: 3000 },
    );
  });

  it('never throws on a ClientHello with a byte cut out or a byte added', () => {
    fc.assert(
      fc.property(spec, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.boolean(), (s, at, value, cut) => {
        const bytes = clientHello(s);
        const i = at % bytes.length;
        const mutated = cut
          ? Buffer.concat([bytes.subarray(0, i), bytes.subarray(i + 1)])
          : Buffer.concat([bytes.subarray(0, i), Buffer.from([value]), bytes.subarray(i)]);
        readAny(mutated);
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses what is not a TLS handshake from its first bytes: HTTP, SSLv2, noise', () => {
    refusedWith(readClientHello(Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n\r\n')), ErrorCodes.ERR_NOT_TLS);
    refusedWith(readClientHello(Buffer.from('G')), ErrorCodes.ERR_NOT_TLS);
    // an SSLv2-compatible CLIENT-HELLO: two-byte length with the high bit, then message type 1
    refusedWith(readClientHello(Buffer.from([0x80, 0x2e, 0x01, 0x03, 0x01])), ErrorCodes.ERR_NOT_TLS);
    refusedWith(readClientHello(Buffer.from([0x00, 0x01, 0x02])), ErrorCodes.ERR_NOT_TLS);
    // a handshake content type with a version no TLS has
    refusedWith(readClientHello(Buffer.from([22, 2, 0])), ErrorCodes.ERR_NOT_TLS);
  });

  it('gives no server name for a hello without one, with or without an extensions block', () => {
    assert.equal(complete(readClientHello(clientHello({ alpn: ['h2'] }))).serverName, undefined);
    const bare = complete(readClientHello(clientHello({ noExtensionsBlock: true })));
    assert.deepEqual([bare.serverName, bare.alpn], [undefined, []]);
  });

  it('refuses malformed hellos with ERR_CLIENT_HELLO_INVALID', () => {
    const cases: [string, Buffer][] = [
      [
        'two server_name extensions',
        clientHello({ serverName: 'a.example', otherExtensions: [{ type: 0, body: Buffer.from([0, 0]) }] }),
      ],
      ['a host name with a trailing dot', clientHello({ serverName: 'a.example.' })],
      ['a host name with a space', clientHello({ serverName: 'a example' })],
      ['an empty label', clientHello({ serverName: 'a..example' })],
      ['an empty ALPN name', clientHello({ otherExtensions: [{ type: 16, body: alpnBody(['h2', '']) }] })],
      ['a zero-length record', Buffer.from([22, 3, 1, 0, 0])],
      [
        'a record of another type before the hello ends',
        Buffer.concat([
          inRecords(clientHelloMessage({ serverName: 'a.b' }), 10).subarray(0, 15),
          Buffer.from([23, 3, 3, 0, 1, 0]),
        ]),
      ],
      ['a handshake message that is no ClientHello', inRecords(Buffer.from([2, 0, 0, 1, 0]))],
      [
        'bytes after the hello in its record',
        inRecords(Buffer.concat([clientHelloMessage({}), Buffer.from([0])])),
      ],
    ];
    for (const [what, bytes] of cases) {
      const read = readClientHello(bytes);
      assert.equal(read.state, 'refused', what);
      refusedWith(read, ErrorCodes.ERR_CLIENT_HELLO_INVALID);
    }
  });

  it('refuses a hello over 16 KiB as soon as its length says so, and records that never reach one', () => {
    const head = Buffer.from([22, 3, 1, 0x40, 0x00, 1, 0, 0x40, 0x00]);
    refusedWith(readClientHello(head), ErrorCodes.ERR_CLIENT_HELLO_TOO_LARGE);
    // a 600-byte hello in one-byte records needs 3.6 KiB: fine; 4 KiB of padding in them is not
    const message = clientHelloMessage({
      serverName: 'a.example',
      otherExtensions: [{ type: 21, body: new Uint8Array(4000) }],
    });
    const dribbled = inRecords(message, 1);
    assert.ok(dribbled.length > CLIENT_HELLO_MAX_BYTES);
    refusedWith(readClientHello(dribbled), ErrorCodes.ERR_CLIENT_HELLO_TOO_LARGE);
    assert.equal(complete(readClientHello(inRecords(message, 512))).serverName, 'a.example');
  });
});

describe('readClientHello on real ClientHellos from Node', () => {
  const cases = [
    {
      what: 'TLS 1.3 with SNI and ALPN',
      o: { servername: 'api.example.com', ALPNProtocols: ['h2', 'http/1.1'] },
    },
    { what: 'TLS 1.3 with SNI only', o: { servername: 'Mixed.Example.COM' } },
    { what: 'TLS 1.3 without SNI', o: {} },
    {
      what: 'TLS 1.2 with SNI and ALPN',
      o: { servername: 'legacy.example.org', ALPNProtocols: ['http/1.1'], maxVersion: 'TLSv1.2' as const },
    },
    { what: 'TLS 1.2 without SNI', o: { maxVersion: 'TLSv1.2' as const } },
  ];
  for (const c of cases) {
    it(c.what, async () => {
      const bytes = await captureClientHello(c.o);
      const read = complete(readClientHello(bytes));
      assert.equal(read.serverName, c.o.servername?.toLowerCase());
      assert.deepEqual(read.alpn, c.o.ALPNProtocols ?? []);
      assert.equal(read.length, bytes.length);
      // and the same bytes a byte at a time: partial until the last
      for (let n = 1; n < bytes.length; n++)
        assert.equal(readClientHello(bytes.subarray(0, n)).state, 'partial');
    });
  }
});
