import {
  createSecureContext,
  createServer,
  type SecureContext,
  type SecureVersion,
  type Server,
} from 'node:tls';
import { type ErrorCode, ErrorCodes } from '../lib/errors.js';

/** PEM material and protocol settings for a listener's server side of mutual TLS. */
export interface TlsMaterial {
  /** Server certificate chain, PEM. */
  cert: string;
  /** Server private key, PEM. */
  key: string;
  /** CA bundle that client certificates must chain to, PEM. */
  clientCa: string;
  /** Certificate revocation lists, PEM. */
  crl?: string;
  /** Lowest protocol version; never below TLSv1.2. */
  minVersion?: SecureVersion;
  /** Highest protocol version. */
  maxVersion?: SecureVersion;
  /** OpenSSL cipher list for TLS 1.2 (TLS 1.3 suites are always the safe defaults). */
  ciphers?: string;
  /** Key exchange groups, OpenSSL syntax. */
  ecdhCurve?: string;
}

function contextOptions(m: TlsMaterial) {
  return {
    cert: m.cert,
    key: m.key,
    ca: m.clientCa,
    crl: m.crl,
    minVersion: m.minVersion ?? 'TLSv1.2',
    maxVersion: m.maxVersion ?? 'TLSv1.3',
    ciphers: m.ciphers,
    ecdhCurve: m.ecdhCurve,
    honorCipherOrder: true,
    sessionTimeout: 300,
  } as const;
}

/** Unusable TLS material; `field` names the part at fault, so callers can point at its setting. */
export class TlsMaterialError extends Error {
  constructor(
    readonly field: keyof TlsMaterial,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TlsMaterialError';
  }
}

/**
 * Builds a SecureContext from the material; throws when the key does not match the certificate
 * ({@link TlsMaterialError} on `key`), or when the client CA or CRL text holds no PEM block of its kind.
 */
export function buildSecureContext(m: TlsMaterial): SecureContext {
  // tls.Server drops an empty `crl` as if none had been given, which would switch revocation checking
  // off; refused here in so many words rather than left to createSecureContext's own parse error.
  if (m.crl !== undefined && !m.crl.includes('-----BEGIN X509 CRL-----')) {
    throw new TlsMaterialError('crl', 'the CRL file holds no PEM CRL ("-----BEGIN X509 CRL-----")');
  }
  // createSecureContext takes a CA text without a certificate in silence; every client would then be
  // refused as untrusted, with nothing pointing at the file.
  if (!m.clientCa.includes('-----BEGIN CERTIFICATE-----')) {
    throw new TlsMaterialError('clientCa', 'the client CA file holds no PEM certificate');
  }
  try {
    return createSecureContext(contextOptions(m));
  } catch (err) {
    // OpenSSL's own words ("x509 certificate routines::key values mismatch") name neither file.
    if ((err as NodeJS.ErrnoException).code === 'ERR_OSSL_X509_KEY_VALUES_MISMATCH') {
      throw new TlsMaterialError('key', 'the private key does not match the certificate', { cause: err });
    }
    throw err;
  }
}

/**
 * The handshake engine of a TLS listener: a tls.Server that never listens itself. The listener hands
 * it sockets that passed the cheap guards; it shares one context (and session-ticket keys) across all
 * handshakes. Verification is requested but not enforced here, so each failure can get its own reason
 * code once the handshake is done.
 */
export function createHandshakeServer(m: TlsMaterial, handshakeTimeoutMs: number): Server {
  return createServer({
    ...contextOptions(m),
    requestCert: true,
    rejectUnauthorized: false,
    handshakeTimeout: handshakeTimeoutMs,
  });
}

/** Applies new material to a handshake server: only handshakes that start afterwards see it. */
export function updateHandshakeServer(server: Server, m: TlsMaterial): void {
  server.setSecureContext(contextOptions(m));
}

/** Maps OpenSSL's verification result for a client certificate to our reason code. */
export function certificateRejection(authorizationError: Error | string | null | undefined): ErrorCode {
  const text =
    typeof authorizationError === 'string' ? authorizationError : (authorizationError?.message ?? '');
  switch (text) {
    case 'CERT_HAS_EXPIRED':
    case 'CERT_NOT_YET_VALID':
      return ErrorCodes.ERR_CERT_EXPIRED;
    default:
      return ErrorCodes.ERR_CERT_UNTRUSTED;
  }
}
