// @peculiar/x509 is used here only to read extensions back; its decorators need the polyfill first.
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { before, describe, it } from 'node:test';
import * as tls from 'node:tls';
import * as x509 from '@peculiar/x509';
import { ErrorCodes, hasCode } from '../../src/lib/errors.js';
import {
  createCertificateAuthority,
  createClientCertificate,
  createServerCertificate,
  type PemPair,
} from '../../src/pki/dev-authority.js';
import { getTestPki, type TestPki } from '../helpers/certs.js';

const isInvalidArgument = (err: unknown) => hasCode(err, ErrorCodes.ERR_INVALID_ARGUMENT);

/** Parses the certificate with Node and checks it is signed by `ca` and matches its key. */
function checkSignedBy(pair: PemPair, ca: PemPair): X509Certificate {
  const cert = new X509Certificate(pair.cert);
  const caCert = new X509Certificate(ca.cert);
  assert.equal(cert.verify(caCert.publicKey), true, 'signature verifies with the CA public key');
  assert.equal(cert.checkIssued(caCert), true, 'issuer and key identifiers match the CA');
  assert.equal(cert.checkPrivateKey(createPrivateKey(pair.key)), true, 'key belongs to the certificate');
  return cert;
}

function parsed(pem: string): x509.X509Certificate {
  return new x509.X509Certificate(pem);
}

describe('createCertificateAuthority', () => {
  let ca: PemPair;
  before(async () => {
    ca = await createCertificateAuthority({ commonName: 'Unit CA' });
  });

  it('creates a self-signed ECDSA P-256 CA with a PKCS#8 key', () => {
    const cert = new X509Certificate(ca.cert);
    assert.equal(cert.subject, 'CN=Unit CA');
    assert.equal(cert.issuer, 'CN=Unit CA');
    assert.equal(cert.ca, true);
    assert.equal(cert.verify(cert.publicKey), true);
    assert.equal(cert.publicKey.asymmetricKeyType, 'ec');
    assert.equal(cert.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.match(ca.key, /^-----BEGIN PRIVATE KEY-----\n/);
    assert.equal(cert.checkPrivateKey(createPrivateKey(ca.key)), true);
  });

  it('marks the CA with critical basicConstraints, keyCertSign + cRLSign and a subject key id', () => {
    const cert = parsed(ca.cert);
    const basic = cert.getExtension(x509.BasicConstraintsExtension);
    assert.equal(basic?.ca, true);
    assert.equal(basic?.critical, true);
    const usage = cert.getExtension(x509.KeyUsagesExtension);
    assert.equal(usage?.usages, x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign);
    assert.match(cert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId ?? '', /^[0-9a-f]{40}$/);
    assert.deepEqual(cert.signatureAlgorithm, { name: 'ECDSA', hash: { name: 'SHA-256' } });
  });

  it('uses a random positive 128-bit serial number', async () => {
    const other = await createCertificateAuthority();
    const serials = [ca, other].map((pair) => new X509Certificate(pair.cert).serialNumber);
    for (const serial of serials) {
      assert.match(serial, /^[0-7][0-9A-F]{31}$/);
      assert.notEqual(serial, '0'.repeat(32));
    }
    assert.notEqual(serials[0], serials[1]);
    assert.equal(new X509Certificate(other.cert).subject, 'CN=Switchyard Development CA');
  });

  it('honours validDays', async () => {
    const short = await createCertificateAuthority({ validDays: 2 });
    const cert = new X509Certificate(short.cert);
    const days = (Date.parse(cert.validTo) - Date.now()) / 86_400_000;
    assert.ok(days > 1.99 && days <= 2, `valid for ${days} more days`);
    assert.ok(Date.parse(cert.validFrom) <= Date.now());
  });

  it('creates an RSA 2048 CA signing with RSASSA-PKCS1-v1_5 SHA-256 on request', async () => {
    const rsa = await createCertificateAuthority({ algorithm: 'rsa' });
    const cert = new X509Certificate(rsa.cert);
    assert.equal(cert.publicKey.asymmetricKeyType, 'rsa');
    assert.equal(cert.publicKey.asymmetricKeyDetails?.modulusLength, 2048);
    assert.deepEqual(parsed(rsa.cert).signatureAlgorithm, {
      name: 'RSASSA-PKCS1-v1_5',
      hash: { name: 'SHA-256' },
    });
    assert.match(rsa.key, /^-----BEGIN PRIVATE KEY-----\n/);
  });

  it('rejects bad options with ERR_INVALID_ARGUMENT', async () => {
    await assert.rejects(createCertificateAuthority({ validDays: 0 }), isInvalidArgument);
    await assert.rejects(createCertificateAuthority({ validDays: Number.NaN }), isInvalidArgument);
    await assert.rejects(createCertificateAuthority({ commonName: '' }), isInvalidArgument);
    await assert.rejects(
      createCertificateAuthority({ algorithm: 'dsa' as unknown as 'rsa' }),
      isInvalidArgument,
    );
  });
});

describe('createServerCertificate', () => {
  let ca: PemPair;
  before(async () => {
    ca = await createCertificateAuthority();
  });

  it('covers localhost, 127.0.0.1 and ::1 by default, for serverAuth, signed by the CA', async () => {
    const server = await createServerCertificate(ca);
    const cert = checkSignedBy(server, ca);
    assert.equal(cert.subject, 'CN=localhost');
    assert.equal(cert.ca, false);
    assert.equal(cert.subjectAltName, 'DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    assert.equal(cert.checkHost('localhost'), 'localhost');
    assert.equal(cert.checkIP('127.0.0.1'), '127.0.0.1');
    assert.equal(cert.checkIP('::1'), '::1');
    assert.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.1']);
  });

  it('adds the given DNS names and addresses, without duplicates', async () => {
    const server = await createServerCertificate(ca, {
      commonName: 'lb.test',
      dnsNames: ['lb.test', '*.lb.test', 'localhost'],
      ipAddresses: ['10.1.2.3', 'fd00::7', '127.0.0.1'],
    });
    const cert = new X509Certificate(server.cert);
    assert.equal(cert.subject, 'CN=lb.test');
    assert.equal(
      cert.subjectAltName,
      'DNS:localhost, DNS:lb.test, DNS:*.lb.test, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, ' +
        'IP Address:10.1.2.3, IP Address:FD00:0:0:0:0:0:0:7',
    );
    assert.equal(cert.checkHost('api.lb.test'), '*.lb.test');
    assert.equal(cert.checkIP('fd00::7'), 'fd00::7');
  });

  it('carries key usage, authority key id = CA subject key id, and no CA flag', async () => {
    const server = parsed((await createServerCertificate(ca)).cert);
    const caKeyId = parsed(ca.cert).getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
    assert.equal(server.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId, caKeyId);
    assert.ok(server.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId);
    assert.equal(server.getExtension(x509.BasicConstraintsExtension)?.ca, false);
    assert.equal(server.getExtension(x509.KeyUsagesExtension)?.usages, x509.KeyUsageFlags.digitalSignature);
    assert.deepEqual(
      [...(server.getExtension(x509.ExtendedKeyUsageExtension)?.usages ?? [])],
      [x509.ExtendedKeyUsage.serverAuth],
    );
  });

  it('rejects a malformed IP address, a non-CA issuer and a garbled CA key', async () => {
    await assert.rejects(createServerCertificate(ca, { ipAddresses: ['300.1.1.1'] }), isInvalidArgument);
    const leaf = await createServerCertificate(ca);
    await assert.rejects(createServerCertificate(leaf), isInvalidArgument);
    await assert.rejects(createServerCertificate({ cert: 'nope', key: ca.key }), isInvalidArgument);
    await assert.rejects(createServerCertificate({ cert: ca.cert, key: 'nope' }), isInvalidArgument);
  });
});

describe('createClientCertificate', () => {
  let ca: PemPair;
  before(async () => {
    ca = await createCertificateAuthority();
  });

  it('puts O then CN in the subject, for clientAuth', async () => {
    const client = await createClientCertificate(ca, { commonName: 'client-a', organizations: ['groupA'] });
    const cert = checkSignedBy(client, ca);
    assert.equal(cert.subject, 'O=groupA\nCN=client-a');
    assert.equal(cert.subjectAltName, undefined);
    assert.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.2']);
    assert.equal(parsed(client.cert).getExtension(x509.BasicConstraintsExtension)?.ca, false);
  });

  it('builds subjects without CN, without O, and with several O in order', async () => {
    const [noCn, noOrg, multi] = await Promise.all([
      createClientCertificate(ca, { organizations: ['groupA'] }),
      createClientCertificate(ca, { commonName: 'no-org' }),
      createClientCertificate(ca, { commonName: 'multi', organizations: ['groupB', 'groupA'] }),
    ]);
    assert.equal(new X509Certificate(noCn.cert).subject, 'O=groupA');
    assert.equal(new X509Certificate(noOrg.cert).subject, 'CN=no-org');
    assert.equal(new X509Certificate(multi.cert).subject, 'O=groupB\nO=groupA\nCN=multi');
    assert.deepEqual(parsed(multi.cert).subjectName.getField('O'), ['groupB', 'groupA']);
  });

  it('takes an explicit validity window, also one entirely in the past', async () => {
    const notBefore = new Date('2020-01-01T00:00:00Z');
    const notAfter = new Date('2020-02-01T00:00:00Z');
    const old = new X509Certificate(
      (await createClientCertificate(ca, { commonName: 'old', notBefore, notAfter })).cert,
    );
    assert.equal(Date.parse(old.validFrom), notBefore.getTime());
    assert.equal(Date.parse(old.validTo), notAfter.getTime());
    const shifted = new X509Certificate(
      (await createClientCertificate(ca, { commonName: 'x', notBefore, validDays: 10 })).cert,
    );
    assert.equal(Date.parse(shifted.validTo), Date.parse('2020-01-11T00:00:00Z'));
  });

  it('rejects an empty validity window and empty names', async () => {
    const at = new Date();
    await assert.rejects(createClientCertificate(ca, { notBefore: at, notAfter: at }), isInvalidArgument);
    await assert.rejects(createClientCertificate(ca, { notAfter: new Date(Number.NaN) }), isInvalidArgument);
    await assert.rejects(createClientCertificate(ca, { commonName: '' }), isInvalidArgument);
    await assert.rejects(createClientCertificate(ca, { organizations: ['ok', ''] }), isInvalidArgument);
  });

  it('signs with RSA when the CA is RSA, whatever the subject key', async () => {
    const rsaCa = await createCertificateAuthority({ algorithm: 'rsa' });
    for (const algorithm of ['ecdsa', 'rsa'] as const) {
      const client = await createClientCertificate(rsaCa, { commonName: `c-${algorithm}`, algorithm });
      checkSignedBy(client, rsaCa);
      assert.deepEqual(parsed(client.cert).signatureAlgorithm, {
        name: 'RSASSA-PKCS1-v1_5',
        hash: { name: 'SHA-256' },
      });
      assert.equal(
        new X509Certificate(client.cert).publicKey.asymmetricKeyType,
        algorithm === 'rsa' ? 'rsa' : 'ec',
      );
    }
  });
});

/** What each side of one mutual-TLS handshake saw. */
interface HandshakeResult {
  /** The client certificate the server accepted, or undefined when it refused the handshake. */
  peer?: X509Certificate;
  /** The legacy peer-certificate object (what `getPeerCertificate()` returns) when accepted. */
  legacySubject?: tls.PeerCertificate['subject'];
  /** The error the server reported for a refused handshake (Node reports a peer-certificate failure as a hang-up). */
  serverError?: Error & { code?: string };
  /** Why the server's certificate check failed (`TLSSocket.authorizationError`), when it did. */
  authorizationError?: Error | string;
  /** What the client read before the connection closed ('ok' on success). */
  received: string;
  /** Error seen by the client, if any. */
  clientError?: Error & { code?: string };
}

/**
 * Runs one mutual-TLS handshake on 127.0.0.1 between a server trusting `trustedCa` (requestCert and
 * rejectUnauthorized) and a client presenting `client` (or nothing), which itself verifies the server
 * against `trustedCa`. Everything is closed before the promise settles.
 */
async function handshake(server: PemPair, trustedCa: PemPair, client?: PemPair): Promise<HandshakeResult> {
  const result: HandshakeResult = { received: '' };
  const tlsServer = tls.createServer({
    cert: server.cert,
    key: server.key,
    ca: trustedCa.cert,
    requestCert: true,
    rejectUnauthorized: true,
  });
  const serverDone = new Promise<void>((resolve) => {
    tlsServer.on('secureConnection', (socket) => {
      result.peer = socket.getPeerX509Certificate();
      result.legacySubject = socket.getPeerCertificate().subject;
      socket.end('ok');
      resolve();
    });
    tlsServer.on('tlsClientError', (err, socket) => {
      result.serverError = err;
      result.authorizationError = socket.authorizationError;
      resolve();
    });
  });
  await new Promise<void>((resolve) => tlsServer.listen(0, '127.0.0.1', resolve));
  const { port } = tlsServer.address() as AddressInfo;
  try {
    const socket = tls.connect({
      host: '127.0.0.1',
      port,
      ca: trustedCa.cert,
      rejectUnauthorized: true,
      ...(client ? { cert: client.cert, key: client.key } : {}),
    });
    const clientDone = new Promise<void>((resolve) => {
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => {
        result.received += chunk;
      });
      socket.on('error', (err) => {
        result.clientError = err;
      });
      socket.on('close', () => resolve());
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('handshake did not finish within 5s')), 5000);
    });
    try {
      await Promise.race([Promise.all([serverDone, clientDone]), timeout]);
    } finally {
      clearTimeout(timer);
      socket.destroy();
    }
  } finally {
    await new Promise<void>((resolve) => tlsServer.close(() => resolve()));
  }
  return result;
}

function assertAccepted(result: HandshakeResult, subject: string): void {
  assert.equal(result.serverError, undefined, `server refused: ${result.serverError?.message}`);
  assert.equal(result.clientError, undefined, `client failed: ${result.clientError?.message}`);
  assert.equal(result.received, 'ok');
  assert.equal(result.peer?.subject, subject);
}

function assertRefused(result: HandshakeResult, code: string): void {
  assert.equal(result.peer, undefined, 'server must not accept the connection');
  assert.equal(result.received, '');
  assert.ok(result.serverError, 'server reports a TLS client error');
  assert.equal(result.authorizationError, code);
}

describe('mutual TLS with the test PKI', () => {
  let pki: TestPki;
  before(async () => {
    pki = await getTestPki();
  });

  it('is created once per process', async () => {
    assert.equal(await getTestPki(), pki);
  });

  it('chains every certificate to the CA it claims', () => {
    for (const name of [
      'server',
      'groupA',
      'groupB',
      'intruder',
      'noOrg',
      'noCn',
      'multiOrg',
      'expired',
      'rsaServer',
      'rsaClient',
    ] as const) {
      checkSignedBy(pki[name], pki.ca);
    }
    checkSignedBy(pki.untrusted, pki.otherCa);
    assert.equal(
      new X509Certificate(pki.untrusted.cert).verify(new X509Certificate(pki.ca.cert).publicKey),
      false,
    );
  });

  it('completes an ECDSA handshake and shows the server the client CN and O', async () => {
    const result = await handshake(pki.server, pki.ca, pki.groupA);
    assertAccepted(result, 'O=groupA\nCN=client-a');
    assert.equal(result.legacySubject?.CN, 'client-a');
    assert.equal(result.legacySubject?.O, 'groupA');
  });

  it('completes an RSA handshake (RSA server and client keys under the ECDSA CA)', async () => {
    const result = await handshake(pki.rsaServer, pki.ca, pki.rsaClient);
    assertAccepted(result, 'O=groupA\nCN=rsa-client');
    assert.equal(result.peer?.publicKey.asymmetricKeyType, 'rsa');
  });

  it('completes a handshake in an all-RSA PKI', async () => {
    const ca = await createCertificateAuthority({ algorithm: 'rsa' });
    const [server, client] = await Promise.all([
      createServerCertificate(ca, { algorithm: 'rsa' }),
      createClientCertificate(ca, { commonName: 'all-rsa', organizations: ['groupA'], algorithm: 'rsa' }),
    ]);
    assertAccepted(await handshake(server, ca, client), 'O=groupA\nCN=all-rsa');
  });

  it('passes several O values, a missing O and a missing CN through to the server', async () => {
    const multi = await handshake(pki.server, pki.ca, pki.multiOrg);
    assertAccepted(multi, 'O=groupB\nO=groupA\nCN=multi');
    assert.deepEqual(multi.legacySubject?.O, ['groupB', 'groupA']);
    const noOrg = await handshake(pki.server, pki.ca, pki.noOrg);
    assertAccepted(noOrg, 'CN=no-org');
    assert.equal(noOrg.legacySubject?.O, undefined);
    const noCn = await handshake(pki.server, pki.ca, pki.noCn);
    assertAccepted(noCn, 'O=groupA');
    assert.equal(noCn.legacySubject?.CN, undefined);
  });

  it('refuses a client signed by another CA', async () => {
    const result = await handshake(pki.server, pki.ca, pki.untrusted);
    assertRefused(result, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  });

  it('refuses an expired client certificate', async () => {
    const result = await handshake(pki.server, pki.ca, pki.expired);
    assertRefused(result, 'CERT_HAS_EXPIRED');
  });

  it('refuses a client without a certificate', async () => {
    const result = await handshake(pki.server, pki.ca);
    assert.equal(result.peer, undefined);
    assert.equal(result.received, '');
    assert.equal(
      result.serverError?.code,
      'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE',
      result.serverError?.message,
    );
  });
});
