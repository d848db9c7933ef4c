import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { connect } from 'node:tls';
import { shareTicketKeys } from '../../src/proxy/tls.js';
import { getTestPki, type TestPki } from '../helpers/certs.js';
import { startTestProxy, type TestProxy, testTlsBlock } from '../helpers/proxy-harness.js';
import { startEchoUpstream, type TestUpstream } from '../helpers/upstreams.js';

// Two proxies in one process stand for two workers: the same material, the same shared secret.
describe('session-ticket keys from a shared secret', () => {
  let pki: TestPki;
  let echo: TestUpstream;
  let one: TestProxy;
  let two: TestProxy;

  before(async () => {
    pki = await getTestPki();
    echo = await startEchoUpstream('E');
    shareTicketKeys(randomBytes(32));
    const config = {
      listeners: [
        { name: 'edge', bind: '127.0.0.1:0', tls: await testTlsBlock(), routes: [{ org: '*', group: 'e' }] },
      ],
      groups: { e: { upstreams: [{ address: echo.address }] } },
    };
    one = await startTestProxy(config);
    two = await startTestProxy(config);
  });

  after(async () => {
    await one.stop();
    await two.stop();
    await echo.close();
  });

  /** Connects (resuming `session` when given), proves the session with an echo; the ticket it got and whether it resumed. */
  const visit = (t: TestProxy, session?: Buffer): Promise<{ reused: boolean; ticket: Buffer | undefined }> =>
    new Promise((resolve, reject) => {
      let ticket: Buffer | undefined;
      let reused = false;
      // The ticket may come with the handshake's last records: listened for from the start.
      const s = connect({
        port: t.port(),
        host: '127.0.0.1',
        servername: 'localhost',
        ca: pki.ca.cert,
        cert: pki.groupA.cert,
        key: pki.groupA.key,
        session,
      });
      s.on('session', (b: Buffer) => {
        ticket = b;
      });
      s.once('secureConnect', () => {
        reused = s.isSessionReused();
        s.write('x');
      });
      s.once('data', () => s.end());
      s.once('error', reject);
      s.once('close', () => resolve({ reused, ticket }));
    });

  it('resumes on the other process a session the first one issued', async () => {
    const first = await visit(one);
    assert.equal(first.reused, false);
    assert.ok(first.ticket !== undefined);
    assert.equal((await visit(two, first.ticket)).reused, true);
  });

  it('rotates together: old tickets need one full handshake, new ones resume anywhere', async () => {
    const old = await visit(one);
    shareTicketKeys(randomBytes(32));
    one.proxy.renewTicketKeys();
    two.proxy.renewTicketKeys();
    const after = await visit(two, old.ticket);
    assert.equal(after.reused, false);
    assert.ok(after.ticket !== undefined);
    assert.equal((await visit(one, after.ticket)).reused, true);
  });
});
