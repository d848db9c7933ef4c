import { isIP, type Socket } from 'node:net';
import { createSecureContext, type SecureContext, type TLSSocket, connect as tlsConnect } from 'node:tls';
import { type ErrorCode, ErrorCodes } from '../lib/errors.js';
import type { Upstream } from '../lib/upstreams/upstream.js';

/** What a group's TLS to its upstreams is made of: PEM texts and settings, no paths. */
export interface UpstreamTlsMaterial {
  /** CA bundle (PEM) the upstreams' certificates must chain to; absent: Node's public roots. */
  ca?: string;
  /** Name verified and sent as SNI; absent: the upstream's host. */
  serverName?: string;
  /** Client certificate chain (PEM), with `key`. */
  cert?: string;
  /** Private key (PEM) of `cert`. */
  key?: string;
  /** Lowest protocol version offered. */
  minVersion: 'TLSv1.2' | 'TLSv1.3';
}

/**
 * One group's TLS to its upstreams for one version of its files: the secure context is built once
 * here, not per connection (parsing a CA bundle and a key costs more than a resumed handshake), and
 * the last session each upstream gave is kept for the next connection to resume. A new version of
 * the files is a new object with an empty cache, so no connection resumes a session whose
 * certificate was verified against a CA that is no longer trusted.
 */
export class UpstreamTls {
  readonly material: UpstreamTlsMaterial;
  readonly #context: SecureContext;
  // Keyed by the live Upstream: an upstream moved to a new address is a new object and starts
  // afresh, and a removed one's session goes with it.
  readonly #sessions = new WeakMap<Upstream, Buffer>();

  /** Builds the context; throws what OpenSSL says of unusable material (checked before, at load). */
  constructor(material: UpstreamTlsMaterial) {
    this.material = material;
    this.#context = createSecureContext({
      ca: material.ca,
      cert: material.cert,
      key: material.key,
      minVersion: material.minVersion,
      maxVersion: 'TLSv1.3',
    });
  }

  /**
   * Starts the client side of TLS to `upstream` over its connected TCP socket, offering the last
   * session it gave. Verification is Node's, always enforced: the chain against the CA, then the
   * name (`serverName`, else the upstream's host) against the certificate's DNS or IP names. SNI
   * carries the name unless it is an IP address, which RFC 6066 does not allow there.
   */
  connect(socket: Socket, upstream: Upstream): TLSSocket {
    const name = this.material.serverName ?? upstream.host;
    return tlsConnect({
      socket,
      secureContext: this.#context,
      // With `socket` given, `host` only names what the certificate is checked against.
      host: name,
      servername: isIP(name) === 0 ? name : undefined,
      session: this.#sessions.get(upstream),
      rejectUnauthorized: true,
    });
  }

  /** Keeps the session `upstream` just gave (TLS 1.3 sends tickets after the handshake). */
  remember(upstream: Upstream, session: Buffer): void {
    this.#sessions.set(upstream, session);
  }

  /** Drops `upstream`'s session after a failed handshake, so the next attempt starts a full one. */
  forget(upstream: Upstream): void {
    this.#sessions.delete(upstream);
  }

  /** True when a session of `upstream` is kept (tests, benchmarks). */
  hasSession(upstream: Upstream): boolean {
    return this.#sessions.has(upstream);
  }
}

// OpenSSL's certificate verification errors (Node's verifyError codes) that mean "not signed by a CA
// we trust" in one way or another; expiry and the name have codes of their own.
const UNTRUSTED = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'CERT_SIGNATURE_FAILURE',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_CHAIN_TOO_LONG',
  'PATH_LENGTH_EXCEEDED',
  'INVALID_CA',
  'INVALID_PURPOSE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_REVOKED',
]);

/** The reason code of a TLS connect to an upstream that failed with `err`. */
export function upstreamTlsFailure(err: NodeJS.ErrnoException): ErrorCode {
  const code = err.code ?? '';
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return ErrorCodes.ERR_UPSTREAM_TLS_NAME;
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID')
    return ErrorCodes.ERR_UPSTREAM_TLS_EXPIRED;
  if (UNTRUSTED.has(code)) return ErrorCodes.ERR_UPSTREAM_TLS_UNTRUSTED;
  // alerts (our client certificate refused, no common version), resets and closes mid-handshake
  return ErrorCodes.ERR_UPSTREAM_TLS_HANDSHAKE;
}
