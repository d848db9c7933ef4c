import { createHmac } from 'node:crypto';
import {
  createSecureContext,
  createServer,
  type SecureContext,
  type SecureVersion,
  type Server,
  type TLSSocket,
} from 'node:tls';
import { type ErrorCode, ErrorCodes, SwitchyardError } from '../lib/errors.js';
import { keepAlertSecret, TlsAlert, type TlsAlertDescription } from './tls-alert.js';

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

// Set in worker processes: the secret every worker derives its session-ticket keys from.
let ticketSecret: Buffer | undefined;

/**
 * Makes every handshake server of this process derive its session-ticket keys from `secret` and its
 * material, so processes given the same secret (the workers of one balancer) resume each other's
 * sessions. New material still means new keys, as it does without a secret: a client a new CRL
 * revokes cannot resume a session from before it.
 */
export function shareTicketKeys(secret: Buffer): void {
  ticketSecret = Buffer.from(secret);
}

/** The 48 bytes of session-ticket keys for `m` under the shared secret, or undefined without one. */
function ticketKeysFor(m: TlsMaterial): Buffer | undefined {
  if (ticketSecret === undefined) return undefined;
  const mac = createHmac('sha512', ticketSecret);
  for (const part of [
    m.cert,
    m.key,
    m.clientCa,
    m.crl ?? '',
    m.minVersion ?? '',
    m.maxVersion ?? '',
    m.ciphers ?? '',
    m.ecdhCurve ?? '',
  ]) {
    mac.update(part).update('\0');
  }
  return mac.digest().subarray(0, TICKET_KEYS_BYTES);
}

const TICKET_KEYS_BYTES = 48;

function contextOptions(m: TlsMaterial) {
  return {
    ticketKeys: ticketKeysFor(m),
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
export class TlsMaterialError extends SwitchyardError {
  constructor(
    readonly field: keyof TlsMaterial,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(ErrorCodes.ERR_CONFIG_INVALID, message, options);
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
 * handshakes. Node's own enforcement (`rejectUnauthorized`) would close a refused client's
 * connection without an alert and without the reason, so verification is requested here and decided
 * by the listener as the handshake ends ({@link certificateRefusal}, then `refuseWithAlert`).
 */
export function createHandshakeServer(m: TlsMaterial, handshakeTimeoutMs: number): Server {
  const server = createServer({
    ...contextOptions(m),
    requestCert: true,
    rejectUnauthorized: false,
    handshakeTimeout: handshakeTimeoutMs,
  });
  // A TLS 1.3 alert after the server's Finished must be encrypted; this keeps the one secret it needs.
  server.on('keylog', keepAlertSecret);
  return server;
}

/**
 * Gives a handshake server the session-ticket keys the shared secret (as {@link shareTicketKeys}
 * last set it) derives for its material; nothing without a secret. Tickets issued with the old keys
 * no longer resume: those clients make one full handshake.
 */
export function renewTicketKeys(server: Server, m: TlsMaterial): void {
  const keys = ticketKeysFor(m);
  if (keys !== undefined) server.setTicketKeys(keys);
}

/** Applies new material to a handshake server: only handshakes that start afterwards see it. */
export function updateHandshakeServer(server: Server, m: TlsMaterial): void {
  server.setSecureContext(contextOptions(m));
}

/** Why a client certificate is refused: the reason code for logs and metrics, the alert for the client. */
export interface CertificateRefusal {
  code: ErrorCode;
  alert: TlsAlertDescription;
}

const NO_CERT_TLS13: CertificateRefusal = {
  code: ErrorCodes.ERR_NO_CLIENT_CERT,
  alert: TlsAlert.certificateRequired,
};
// TLS 1.2 has no certificate_required; handshake_failure is what OpenSSL sends there.
const NO_CERT_TLS12: CertificateRefusal = {
  code: ErrorCodes.ERR_NO_CLIENT_CERT,
  alert: TlsAlert.handshakeFailure,
};
const EXPIRED: CertificateRefusal = { code: ErrorCodes.ERR_CERT_EXPIRED, alert: TlsAlert.certificateExpired };

// OpenSSL's verification errors (Node's `authorizationError`) and the alert OpenSSL itself sends for
// each when it enforces verification (ssl_x509err2alert), which is what HAProxy's clients see.
// Revocation and an outdated CRL keep ERR_CERT_UNTRUSTED: the operator's fix is the trust setup.
const UNTRUSTED_ALERTS: Record<string, TlsAlertDescription> = {
  CERT_REVOKED: TlsAlert.certificateRevoked,
  CRL_HAS_EXPIRED: TlsAlert.certificateExpired,
  CRL_NOT_YET_VALID: TlsAlert.certificateExpired,
  INVALID_PURPOSE: TlsAlert.unsupportedCertificate,
  UNABLE_TO_GET_ISSUER_CERT: TlsAlert.unknownCa,
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: TlsAlert.unknownCa,
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: TlsAlert.unknownCa,
  DEPTH_ZERO_SELF_SIGNED_CERT: TlsAlert.unknownCa,
  SELF_SIGNED_CERT_IN_CHAIN: TlsAlert.unknownCa,
  CERT_UNTRUSTED: TlsAlert.unknownCa,
  INVALID_CA: TlsAlert.unknownCa,
  UNABLE_TO_GET_CRL: TlsAlert.unknownCa,
};

/**
 * Decides a finished server-side handshake's client certificate: undefined when it is trusted and
 * valid, otherwise the reason code and the alert to refuse it with.
 */
export function certificateRefusal(socket: TLSSocket): CertificateRefusal | undefined {
  if (socket.authorized) return undefined;
  // an empty object when the client sent no certificate
  if (socket.getPeerCertificate().subject === undefined) {
    return socket.getProtocol() === 'TLSv1.3' ? NO_CERT_TLS13 : NO_CERT_TLS12;
  }
  const error = String(socket.authorizationError ?? '');
  if (error === 'CERT_HAS_EXPIRED' || error === 'CERT_NOT_YET_VALID') return EXPIRED;
  return {
    code: ErrorCodes.ERR_CERT_UNTRUSTED,
    alert: UNTRUSTED_ALERTS[error] ?? TlsAlert.certificateUnknown,
  };
}
