import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { formatLogLine, prettyDestination } from '../../src/control/pretty-log.js';

describe('pretty log lines', () => {
  it('turns a JSON entry into one readable line', () => {
    const line = JSON.stringify({
      level: 'warn',
      time: '2026-11-22T10:20:11.102Z',
      pid: 7,
      listener: 'edge',
      clientId: 'client-a',
      upstream: '',
      changes: ['a', 'b'],
      msg: 'session',
    });
    assert.equal(
      formatLogLine(line),
      '10:20:11.102 WARN  session listener=edge clientId=client-a changes=["a","b"]',
    );
  });

  it('passes lines that are not JSON through', () => {
    assert.equal(formatLogLine('plain text'), 'plain text');
  });

  it('reassembles lines split across writes', async () => {
    const out = new PassThrough();
    const chunks: string[] = [];
    out.on('data', (c: Buffer) => chunks.push(c.toString()));
    const dest = prettyDestination(out);
    const line = JSON.stringify({
      level: 'info',
      time: '2026-11-22T00:00:00.000Z',
      msg: 'listening',
      port: 8443,
    });
    dest.write(line.slice(0, 10));
    dest.write(`${line.slice(10)}\n`);
    await new Promise((r) => setImmediate(r));
    assert.equal(chunks.join(''), '00:00:00.000 INFO  listening port=8443\n');
  });
});
