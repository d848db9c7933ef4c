import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { accessFields } from '../../src/control/access-line.js';
import { accessLevel, accessLogObserver } from '../../src/control/access-log.js';
import { createFileLogger } from '../../src/control/logger.js';
import type { SessionEndedEvent } from '../../src/proxy/events.js';

const record = (over: Partial<SessionEndedEvent>): SessionEndedEvent => ({
  listener: 'edge',
  clientAddress: '::ffff:127.0.0.1',
  clientPort: 50123,
  clientId: 'client-a',
  org: 'groupA',
  group: 'groupA',
  upstream: 'up-1',
  upstreamAddress: '127.0.0.1:9101',
  bytesFromClient: 79,
  bytesToClient: 1_234_567_890_123,
  tlsVersion: 'TLSv1.3',
  tlsCipher: 'TLS_AES_256_GCM_SHA384',
  serverName: 'lb.example.com',
  alpn: 'h2,http/1.1',
  handshakeMs: 3.1234567,
  connectMs: 0.5004,
  connectAttempts: 2,
  durationMs: 1500.0006,
  termination: 'OK',
  ...over,
});

function flushed(logger: { flush(cb: (err?: Error) => void): void }): Promise<void> {
  return new Promise((resolve) => logger.flush(() => resolve()));
}

/** The file's lines with the time blanked: two lines written a millisecond apart must still compare. */
function lines(path: string): string[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.replace(/"time":"[^"]*"/, '"time":"T"'));
}

describe('the access line written by hand', () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-access-line-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('is byte for byte what the logger writes for the same fields', async () => {
    const path = join(dir, 'both.log');
    const logger = createFileLogger(path, 'info');
    assert.ok(logger.jsonLines !== undefined, 'a JSON file logger offers its line sink');
    const write = accessLogObserver(logger);
    const cases = [
      record({}),
      record({ termination: 'ERR_UPSTREAM_CONNECT', connectAttempts: 0, group: '', upstream: '' }),
      record({ clientId: 'quote " back\\slash \u0001 line\nbreak é ✓', serverName: '', org: '' }),
      record({ clientId: 'x'.repeat(100), durationMs: Number.NaN }),
    ];
    for (const r of cases) {
      write(r);
      if (r.termination === 'OK') logger.info(accessFields(r), 'session');
      else logger.warn(accessFields(r), 'session');
    }
    await flushed(logger);
    const got = lines(path);
    assert.equal(got.length, cases.length * 2);
    for (let i = 0; i < got.length; i += 2) assert.equal(got[i], got[i + 1]);
    assert.match(got[2], /"level":"warn"/);
    assert.equal(JSON.parse(got[4]).clientId, cases[2].clientId);
  });

  it('follows the logger level: a warn logger writes refusals only', async () => {
    const path = join(dir, 'warn.log');
    const logger = createFileLogger(path, 'warn');
    const write = accessLogObserver(logger);
    write(record({}));
    write(record({ termination: 'ERR_RATE_LIMITED' }));
    await flushed(logger);
    const got = lines(path);
    assert.equal(got.length, 1);
    assert.match(got[0], /"termination":"ERR_RATE_LIMITED"/);
  });
});

describe('the access line level', () => {
  it('is info for normal ends (a UDP flow idling out is one), warn for the rest', () => {
    const flow = { packetsFromClient: 3, packetsToClient: 3 };
    assert.equal(accessLevel(record({})), 'info');
    assert.equal(accessLevel(record({ ...flow, termination: 'ERR_IDLE_TIMEOUT' })), 'info');
    assert.equal(accessLevel(record({ termination: 'ERR_IDLE_TIMEOUT' })), 'warn');
    assert.equal(accessLevel(record({ ...flow, termination: 'ERR_SHUTDOWN' })), 'warn');
    assert.equal(accessLevel(record({ termination: 'ERR_UPSTREAM_CONNECT' })), 'warn');
  });
});
