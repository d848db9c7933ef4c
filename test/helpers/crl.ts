/**
 * Certificate revocation lists for tests, signed in pure JavaScript by a test CA: no openssl needed.
 */
// @peculiar/x509 registers its algorithms through decorators that need the metadata polyfill first.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import type { PemPair } from '../../src/pki/dev-authority.js';

x509.cryptoProvider.set(webcrypto);

const HOUR_MS = 3_600_000;

/** Options of {@link createCrl}. */
export interface CrlOptions {
  /** When the list stops being current; OpenSSL refuses every client once it has passed. Default in a day. */
  nextUpdate?: Date;
}

/**
 * A PEM CRL (`BEGIN X509 CRL`, the label OpenSSL reads) issued by `ca` (an ECDSA P-256 test CA)
 * that revokes the certificates of `revoked`, reason keyCompromise. An empty list revokes nothing
 * but still says "checked, nothing revoked", which OpenSSL needs once CRL checking is on.
 */
export async function createCrl(
  ca: PemPair,
  revoked: readonly PemPair[],
  options: CrlOptions = {},
): Promise<string> {
  const caCert = new x509.X509Certificate(ca.cert);
  const signingKey = await webcrypto.subtle.importKey(
    'pkcs8',
    x509.PemConverter.decodeFirst(ca.key),
    { name: 'ECDSA', namedCurve: 'P-256' },
    false,
    ['sign'],
  );
  // Backdated like the certificates, so a verifier whose clock lags ours still takes it as current.
  const thisUpdate = new Date(Date.now() - HOUR_MS);
  const keyId = caCert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
  const crl = await x509.X509CrlGenerator.create({
    issuer: caCert.subjectName,
    thisUpdate,
    nextUpdate: options.nextUpdate ?? new Date(Date.now() + 24 * HOUR_MS),
    signingKey,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    entries: revoked.map((pair) => ({
      serialNumber: new x509.X509Certificate(pair.cert).serialNumber,
      revocationDate: thisUpdate,
      reason: x509.X509CrlReason.keyCompromise,
    })),
    extensions: keyId === undefined ? [] : [new x509.AuthorityKeyIdentifierExtension(keyId)],
  });
  // The library's own PEM label is "CRL", which OpenSSL does not accept.
  return x509.PemConverter.encode(crl.rawData, 'X509 CRL');
}
