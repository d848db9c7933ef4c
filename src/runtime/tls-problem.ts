/**
 * What is wrong with the files and settings of a `tls` block, said against the key at fault
 * (`listeners[0].tls.key`, not `listeners[0].tls`) and in words that name the files, instead of
 * OpenSSL's "x509 certificate routines::key values mismatch".
 */
import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import type { TlsConfig } from '../config/types.js';
import { buildSecureContext, type TlsMaterial, TlsMaterialError } from '../proxy/tls.js';

/** One problem of a `tls` block. */
export interface TlsProblem {
  /** The key inside the block that is at fault (`cert`, `key`, `clientCa`, ...); '' for the block. */
  key: string;
  /** What is wrong, without the key path. */
  message: string;
}

/** A certificate and its private key: PEM texts, and the paths they were read from. */
export interface CertKeyFiles {
  pem: { cert: string; key: string };
  paths: { cert: string; key: string };
}

/** Why a certificate and a private key cannot serve as a pair, or undefined when they can. */
export function certKeyProblem({ pem, paths }: CertKeyFiles): TlsProblem | undefined {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(pem.cert);
  } catch {
    return { key: 'cert', message: `"${paths.cert}" holds no usable PEM certificate` };
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem.key);
  } catch (err) {
    const encrypted = (err as NodeJS.ErrnoException).code === 'ERR_MISSING_PASSPHRASE';
    const why = encrypted
      ? 'holds an encrypted private key; Switchyard needs it without a passphrase (mode 0600)'
      : 'holds no usable PEM private key';
    return { key: 'key', message: `"${paths.key}" ${why}` };
  }
  // The first certificate of a chain file is the one the key must belong to.
  if (!certificate.checkPrivateKey(privateKey)) {
    return { key: 'key', message: `the private key does not match the certificate in "${paths.cert}"` };
  }
  return undefined;
}

/** A listener's TLS material from its settings and the texts of its files. */
export function tlsMaterial(
  tls: TlsConfig,
  pem: { cert: string; key: string; clientCa: string; crl?: string },
): TlsMaterial {
  return {
    cert: pem.cert,
    key: pem.key,
    clientCa: pem.clientCa,
    crl: tls.crl === undefined ? undefined : pem.crl,
    minVersion: tls.minVersion,
    maxVersion: tls.maxVersion,
    ciphers: tls.ciphers,
    ecdhCurve: tls.ecdhCurve,
  };
}

/** Why a listener's TLS material cannot make a server context, or undefined when it can. */
export function listenerTlsProblem(tls: TlsConfig, material: TlsMaterial): TlsProblem | undefined {
  const pair = certKeyProblem({ pem: material, paths: tls });
  if (pair !== undefined) return pair;
  try {
    buildSecureContext(material);
    return undefined;
  } catch (err) {
    if (err instanceof TlsMaterialError) return { key: err.field, message: err.message };
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ERR_SSL_NO_CIPHER_MATCH') {
      return { key: 'ciphers', message: `OpenSSL knows no cipher in "${tls.ciphers}"` };
    }
    if (/ECDH curve/.test((err as Error).message)) {
      return { key: 'ecdhCurve', message: `OpenSSL does not know the groups "${tls.ecdhCurve}"` };
    }
    return { key: '', message: `cannot use the certificate material: ${(err as Error).message}` };
  }
}

/**
 * What is wrong with the files of a client-side `tls` block (a health check's, a group's
 * `upstreamTls`): a certificate and a key that are no pair, or a CA file without a certificate.
 */
export function clientMaterialProblem(
  pem: { cert?: string; key?: string; ca?: string },
  paths: { cert?: string; key?: string },
): TlsProblem | undefined {
  if (pem.cert !== undefined && pem.key !== undefined) {
    const pair = certKeyProblem({
      pem: { cert: pem.cert, key: pem.key },
      paths: { cert: paths.cert ?? '', key: paths.key ?? '' },
    });
    if (pair !== undefined) return pair;
  }
  // Node takes a CA file without a certificate in it silently; every verified connection would then fail.
  try {
    if (pem.ca !== undefined) new X509Certificate(pem.ca);
  } catch {
    return { key: 'ca', message: 'the CA file holds no PEM certificate' };
  }
  return undefined;
}
