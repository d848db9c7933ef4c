import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createServer as createTlsServer, type TlsOptions } from 'node:tls';
import { type ErrorCode, ErrorCodes, hasCode, SwitchyardError } from '../../../src/lib/errors.js';
import {
  type HealthProbe,
  ProbeError,
  type ProbeTarget,
  toProbeError,
} from '../../../src/lib/health/health-probe.js';
import { HttpProbe, parseStatusRanges } from '../../../src/lib/health/http-probe.js';
import { createHealthProbe, HEALTH_PROBE_TYPES } from '../../../src/lib/health/probe-registry.js';
import { SendExpectProbe } from '../../../src/lib/health/send-expect-probe.js';
import { TcpProbe } from '../../../src/lib/health/tcp-probe.js';
import { TlsProbe } from '../../../src/lib/health/tls-probe.js';
import { getTestPki, type TestPki } from '../../helpers/certs.js';
import { refusedPort, startEchoUpstream, startSilentUpstream } from '../../helpers/upstreams.js';

const HOST = '127.0.0.1';

/** Runs a probe with a generous safety timeout (a hang must fail the test, not stall it). */
function run(probe: HealthProbe, target: ProbeTarget): Promise<void> {
  return probe.check(target, AbortSignal.timeout(10_000));
}

// The shared code each failure kind must carry, so logs and callers can match probe failures like
// every other Switchyard error.
const codeOfKind: Record<string, ErrorCode> = {
  connect: ErrorCodes.ERR_PROBE_CONNECT,
  timeout: ErrorCodes.ERR_PROBE_TIMEOUT,
  tls: ErrorCodes.ERR_PROBE_TLS,
  response: ErrorCodes.ERR_PROBE_UNEXPECTED_RESPONSE,
  closed: ErrorCodes.ERR_PROBE_CLOSED,
  aborted: ErrorCodes.ERR_PROBE_ABORTED,
  error: ErrorCodes.ERR_PROBE_FAILED,
};

async function fails(promise: Promise<void>, kind: string, message?: RegExp): Promise<ProbeError> {
  let caught: unknown;
  await promise.then(
    () => assert.fail(`expected a ${kind} failure`),
    (err: unknown) => {
      caught = err;
    },
  );
  assert.ok(caught instanceof ProbeError, `not a ProbeError: ${String(caught)}`);
  assert.equal(caught.kind, kind, caught.message);
  assert.ok(caught instanceof SwitchyardError, 'a probe failure is a SwitchyardError');
  assert.equal(caught.code, codeOfKind[kind], caught.message);
  if (message !== undefined) assert.match(caught.message, message);
  return caught;
}

/** A listening server and its open sockets, closed together. */
interface Started {
  port: number;
  sockets: Set<Socket>;
  close(): Promise<void>;
}

async function listen(server: Server): Promise<Started> {
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.listen(0, HOST);
  await once(server, 'listening');
  return {
    port: (server.address() as { port: number }).port,
    sockets,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** A raw TCP server that runs `onSocket` for each connection. */
function startRaw(onSocket: (s: Socket) => void): Promise<Started> {
  return listen(
    createNetServer((s) => {
      s.on('error', () => {});
      onSocket(s);
    }),
  );
}

/** A TLS server that echoes, or just holds the connection when `echo` is false. */
function startTls(options: TlsOptions, echo = true): Promise<Started> {
  const server = createTlsServer(options, (s) => {
    s.on('error', () => {});
    if (echo) s.pipe(s);
    else s.resume();
  });
  server.on('tlsClientError', () => {});
  return listen(server);
}

async function noSocketsLeft(started: Started): Promise<void> {
  for (const s of started.sockets) if (!s.destroyed) await once(s, 'close');
  assert.equal(started.sockets.size, 0);
}

describe('TcpProbe', () => {
  it('passes on a listening port and leaves no connection open', async () => {
    const up = await startEchoUpstream();
    try {
      await run(new TcpProbe(), { host: HOST, port: up.port });
      for (const s of up.sockets) await once(s, 'close');
      assert.equal(up.accepted, 1);
    } finally {
      await up.close();
    }
  });

  it('fails with kind connect on a refused port', async () => {
    const port = await refusedPort();
    await fails(run(new TcpProbe(), { host: HOST, port }), 'connect', /ECONNREFUSED/);
  });

  it('rejects at once when the signal is already aborted', async () => {
    const up = await startEchoUpstream();
    try {
      const ac = new AbortController();
      ac.abort(new ProbeError('timeout', 'too late'));
      await fails(new TcpProbe().check({ host: HOST, port: up.port }, ac.signal), 'timeout', /too late/);
    } finally {
      await up.close();
    }
  });
});

describe('TlsProbe', () => {
  let pki: TestPki;
  before(async () => {
    pki = await getTestPki();
  });

  it('passes when the certificate chains to the given CA, by IP or by name', async () => {
    const up = await startTls({ key: pki.server.key, cert: pki.server.cert });
    try {
      await run(new TlsProbe({ ca: pki.ca.cert }), { host: HOST, port: up.port });
      await run(new TlsProbe({ ca: [pki.ca.cert], servername: 'localhost' }), { host: HOST, port: up.port });
      await noSocketsLeft(up);
    } finally {
      await up.close();
    }
  });

  it('fails with kind tls on an untrusted certificate or a wrong name, and passes unverified', async () => {
    const up = await startTls({ key: pki.server.key, cert: pki.server.cert });
    try {
      const target = { host: HOST, port: up.port };
      await fails(run(new TlsProbe({ ca: pki.otherCa.cert }), target), 'tls');
      await fails(run(new TlsProbe({ ca: pki.ca.cert, servername: 'example.com' }), target), 'tls');
      await run(new TlsProbe({ ca: pki.otherCa.cert, verify: false }), target);
    } finally {
      await up.close();
    }
  });

  it('fails with kind tls when the port does not speak TLS', async () => {
    const up = await startEchoUpstream();
    try {
      await fails(run(new TlsProbe({ ca: pki.ca.cert }), { host: HOST, port: up.port }), 'tls');
    } finally {
      await up.close();
    }
  });

  for (const maxVersion of ['TLSv1.3', 'TLSv1.2'] as const) {
    it(`with a client certificate required (${maxVersion}), passes only with a trusted one`, async () => {
      const up = await startTls(
        {
          key: pki.server.key,
          cert: pki.server.cert,
          ca: pki.ca.cert,
          requestCert: true,
          rejectUnauthorized: true,
          maxVersion,
        },
        false,
      );
      try {
        const target = { host: HOST, port: up.port };
        await run(new TlsProbe({ ca: pki.ca.cert, cert: pki.groupA.cert, key: pki.groupA.key }), target);
        await fails(run(new TlsProbe({ ca: pki.ca.cert }), target), 'tls');
        await fails(
          run(new TlsProbe({ ca: pki.ca.cert, cert: pki.untrusted.cert, key: pki.untrusted.key }), target),
          'tls',
        );
        await noSocketsLeft(up);
      } finally {
        await up.close();
      }
    });
  }
});

describe('SendExpectProbe', () => {
  it('passes when the echo of what it sends contains the expected string', async () => {
    const up = await startEchoUpstream();
    try {
      await run(new SendExpectProbe({ send: 'PING\r\n', expect: 'PING' }), { host: HOST, port: up.port });
      await run(new SendExpectProbe({ send: Buffer.from([1, 2, 3, 4]), expect: new Uint8Array([2, 3]) }), {
        host: HOST,
        port: up.port,
      });
    } finally {
      await up.close();
    }
  });

  it('matches a line with a RegExp, and fails with kind response when the reply lacks it', async () => {
    const up = await startRaw((s) => {
      s.once('data', () => s.end('+OK ready\r\n+PONG\r\n'));
    });
    try {
      const target = { host: HOST, port: up.port };
      await run(new SendExpectProbe({ send: 'PING\r\n', expect: /^\+PONG\r?$/gm }), target);
      await run(new SendExpectProbe({ send: 'PING\r\n', expect: /^\+PONG\r?$/gm }), target); // no lastIndex carry-over
      await fails(
        run(new SendExpectProbe({ send: 'PING\r\n', expect: /^PONG$/m }), target),
        'response',
        /did not contain/,
      );
    } finally {
      await up.close();
    }
  });

  it('reads a banner from servers that speak first', async () => {
    const up = await startRaw((s) => s.write('SSH-2.0-test\r\n'));
    try {
      await run(new SendExpectProbe({ expect: /^SSH-2\.0-/ }), { host: HOST, port: up.port });
      await noSocketsLeft(up);
    } finally {
      await up.close();
    }
  });

  it('gives up after readLimit bytes without a match', async () => {
    const up = await startRaw((s) => s.write('x'.repeat(10_000)));
    try {
      await fails(
        run(new SendExpectProbe({ expect: 'never', readLimit: 16 }), { host: HOST, port: up.port }),
        'response',
        /first 16 bytes/,
      );
    } finally {
      await up.close();
    }
  });

  it('fails with kind closed when the upstream closes without a reply', async () => {
    const up = await startRaw((s) => s.end());
    try {
      await fails(
        run(new SendExpectProbe({ send: 'hi', expect: 'hi' }), { host: HOST, port: up.port }),
        'closed',
      );
    } finally {
      await up.close();
    }
  });

  it('works over TLS', async () => {
    const pki = await getTestPki();
    const up = await startTls({ key: pki.server.key, cert: pki.server.cert });
    try {
      await run(new SendExpectProbe({ send: 'hello', expect: 'hello', tls: { ca: pki.ca.cert } }), {
        host: HOST,
        port: up.port,
      });
    } finally {
      await up.close();
    }
  });

  it('destroys its socket when aborted, rejecting with the abort reason', async () => {
    const up = await startSilentUpstream('silent');
    try {
      const ac = new AbortController();
      const checking = new SendExpectProbe({ send: 'hello', expect: 'never' }).check(
        { host: HOST, port: up.port },
        ac.signal,
      );
      // wait until the upstream holds the connection, then abort as the checker's timeout would
      while (up.sockets.size === 0) await new Promise((r) => setImmediate(r));
      const [serverSide] = up.sockets;
      const closed = once(serverSide, 'close');
      ac.abort(new ProbeError('timeout', 'no answer within 5 ms'));
      await fails(checking, 'timeout', /no answer within 5 ms/);
      await closed;
    } finally {
      await up.close();
    }
  });

  it('rejects an empty expectation', () => {
    assert.throws(
      () => new SendExpectProbe({ expect: '' }),
      (e) => hasCode(e, ErrorCodes.ERR_INVALID_ARGUMENT),
    );
  });
});

describe('HttpProbe', () => {
  let up: Started;
  const seen: IncomingMessage[] = [];
  before(async () => {
    up = await listen(
      createHttpServer((req, res) => {
        seen.push(req);
        res.statusCode = req.url === '/down' ? 503 : req.url === '/moved' ? 301 : 200;
        res.end('body');
      }),
    );
  });
  after(() => up.close());

  it('passes on 200 and sends GET over HTTP/1.0 with Host and Connection: close', async () => {
    await run(new HttpProbe({ path: '/health' }), { host: HOST, port: up.port });
    const req = seen.at(-1)!;
    assert.deepEqual(
      [req.method, req.url, req.httpVersion, req.headers.host, req.headers.connection],
      ['GET', '/health', '1.0', `${HOST}:${up.port}`, 'close'],
    );
    await noSocketsLeft(up);
  });

  it('fails with kind response on 503 and says so', async () => {
    await fails(
      run(new HttpProbe({ path: '/down' }), { host: HOST, port: up.port }),
      'response',
      /HTTP status 503, expected 200-399/,
    );
  });

  it('accepts what expectStatus lists', async () => {
    const target = { host: HOST, port: up.port };
    await run(new HttpProbe({ path: '/down', expectStatus: 503 }), target);
    await run(new HttpProbe({ path: '/moved', expectStatus: '200,300-399' }), target);
    await fails(run(new HttpProbe({ path: '/moved', expectStatus: '200' }), target), 'response', /301/);
  });

  it('sends the configured Host header', async () => {
    await run(new HttpProbe({ host: 'health.internal' }), { host: HOST, port: up.port });
    assert.equal(seen.at(-1)!.headers.host, 'health.internal');
  });

  it('fails with kind response when the reply is not HTTP', async () => {
    const echo = await startRaw((s) => s.end('SSH-2.0-not-http\r\n'));
    try {
      await fails(
        run(new HttpProbe(), { host: HOST, port: echo.port }),
        'response',
        /not an HTTP status line/,
      );
    } finally {
      await echo.close();
    }
  });

  it('parses status lists and rejects bad ones and unsafe paths', () => {
    assert.deepEqual(parseStatusRanges('200-399'), [[200, 399]]);
    assert.deepEqual(parseStatusRanges(204), [[204, 204]]);
    assert.deepEqual(parseStatusRanges(' 200 , 300 - 301 '), [
      [200, 200],
      [300, 301],
    ]);
    for (const bad of ['', '99', '200-100', '2xx', '200-600', '200,']) {
      assert.throws(
        () => parseStatusRanges(bad),
        (e) => hasCode(e, ErrorCodes.ERR_INVALID_ARGUMENT),
        bad,
      );
    }
    for (const path of ['health', '/a b', '/x\r\nEvil: 1']) {
      assert.throws(
        () => new HttpProbe({ path }),
        (e) => hasCode(e, ErrorCodes.ERR_INVALID_ARGUMENT),
        path,
      );
    }
  });
});

describe('createHealthProbe', () => {
  it('builds each registered type', () => {
    assert.deepEqual(HEALTH_PROBE_TYPES, ['tcp', 'tls', 'send-expect', 'http', 'udp']);
    assert.ok(createHealthProbe({ type: 'tcp' }) instanceof TcpProbe);
    assert.ok(createHealthProbe({ type: 'tls', verify: false }) instanceof TlsProbe);
    assert.ok(
      createHealthProbe({ type: 'send-expect', send: 'PING', expect: 'PONG' }) instanceof SendExpectProbe,
    );
    assert.ok(createHealthProbe({ type: 'http', path: '/health' }) instanceof HttpProbe);
    for (const type of HEALTH_PROBE_TYPES) {
      const options =
        type === 'send-expect'
          ? { type, expect: 'x' }
          : type === 'udp'
            ? { type, send: 'x', expect: 'y' }
            : { type };
      assert.equal(createHealthProbe(options as Parameters<typeof createHealthProbe>[0]).type, type);
    }
  });

  it('rejects an unknown type with ERR_INVALID_ARGUMENT', () => {
    assert.throws(
      () => createHealthProbe({ type: 'icmp' } as unknown as Parameters<typeof createHealthProbe>[0]),
      (e) =>
        hasCode(e, ErrorCodes.ERR_INVALID_ARGUMENT) && /unknown health probe type "icmp"/.test(String(e)),
    );
  });
});

describe('toProbeError', () => {
  it('gives whatever a probe threw a shared ERR_PROBE_* code', () => {
    const plain = toProbeError(new Error('boom'));
    assert.ok(hasCode(plain, ErrorCodes.ERR_PROBE_FAILED), plain.message);
    const timedOut = toProbeError(new DOMException('late', 'TimeoutError'));
    assert.ok(hasCode(timedOut, ErrorCodes.ERR_PROBE_TIMEOUT), timedOut.message);
    const aborted = toProbeError(new DOMException('stopped', 'AbortError'));
    assert.ok(hasCode(aborted, ErrorCodes.ERR_PROBE_ABORTED), aborted.message);
  });
});
