import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { connect, createServer, type TLSSocket } from 'node:tls';
import { type ClientIdentity, identityFromPeerCertificate } from '../../src/proxy/identity.js';
import { PeerIdentities } from '../../src/proxy/peer-identities.js';
import { getTestPki, type TestPki, type TestPkiName } from '../helpers/certs.js';

/**
 * Runs `read` on the server side of one real mutual TLS connection made with client pair `name`
 * (none: no client certificate), and returns what it gave along with what getPeerCertificate says.
 */
async function onServerSide<T>(
  pki: TestPki,
  name: TestPkiName | undefined,
  read: (socket: TLSSocket) => T,
): Promise<{ result: T; legacy: ClientIdentity | undefined }> {
  const server = createServer({
    cert: pki.server.cert,
    key: pki.server.key,
    ca: pki.ca.cert,
    requestCert: true,
    rejectUnauthorized: false,
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const secured = once(server, 'secureConnection') as Promise<[TLSSocket]>;
    const client = connect({
      port: (server.address() as AddressInfo).port,
      host: '127.0.0.1',
      servername: 'localhost',
      ca: pki.ca.cert,
      ...(name === undefined ? {} : { cert: pki[name].cert, key: pki[name].key }),
    });
    client.on('error', () => {});
    const [socket] = await secured;
    const cert = socket.getPeerCertificate();
    const legacy = cert.subject === undefined ? undefined : identityFromPeerCertificate(cert);
    const result = read(socket);
    client.destroy();
    socket.destroy();
    return { result, legacy };
  } finally {
    server.close();
  }
}

describe('PeerIdentities', () => {
  for (const name of ['groupA', 'multiOrg', 'noCn', 'noOrg', 'rsaClient'] as const) {
    it(`reads the same identity as getPeerCertificate: ${name}`, async () => {
      const pki = await getTestPki();
      const identities = new PeerIdentities();
      const { result, legacy } = await onServerSide(pki, name, (s) => identities.of(s));
      assert.notEqual(legacy, undefined);
      assert.deepEqual(result, legacy);
    });
  }

  it('gives undefined when the client sent no certificate', async () => {
    const pki = await getTestPki();
    const { result, legacy } = await onServerSide(pki, undefined, (s) => new PeerIdentities().of(s));
    assert.equal(legacy, undefined);
    assert.equal(result, undefined);
  });

  it('gives undefined once the socket is destroyed', async () => {
    const pki = await getTestPki();
    const { result } = await onServerSide(pki, 'groupA', (s) => {
      s.destroy();
      return new PeerIdentities().of(s);
    });
    assert.equal(result, undefined);
  });

  it('remembers a certificate once and forgets the oldest past its capacity', async () => {
    const pki = await getTestPki();
    const identities = new PeerIdentities(2);
    const seen: (ClientIdentity | undefined)[] = [];
    for (const name of ['groupA', 'groupA', 'groupB', 'multiOrg'] as const) {
      seen.push((await onServerSide(pki, name, (s) => identities.of(s))).result);
    }
    assert.equal(identities.size, 2);
    // the second groupA handshake got the remembered object, not a new one
    assert.equal(seen[0], seen[1]);
    assert.deepEqual(seen[2], { id: 'client-b', orgs: ['groupB'] });
    assert.deepEqual(seen[3], { id: 'multi', orgs: ['groupB', 'groupA'] });
    // groupA was forgotten: reading it again builds a new (equal) identity
    const again = (await onServerSide(pki, 'groupA', (s) => identities.of(s))).result;
    assert.notEqual(again, seen[0]);
    assert.deepEqual(again, seen[0]);
  });
});
