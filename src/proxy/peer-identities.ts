import type { TLSSocket } from 'node:tls';
import { type ClientIdentity, identityFromPeerCertificate } from './identity.js';

/** How many certificates' identities are remembered; past it the oldest is forgotten first. */
export const PEER_IDENTITY_CAPACITY = 10_000;

/**
 * The identities of client certificates seen lately, by SHA-256 fingerprint. Reading CN and O
 * through `getPeerCertificate()` builds Node's whole certificate object (three fingerprints, the
 * public key, extensions): about 100 µs per handshake, a tenth of a resumed one. The same clients
 * come back with the same certificates, so that object is built once per certificate; later
 * handshakes pay for an `X509Certificate` handle and one digest. An identity is a function of the
 * certificate's bytes, which the fingerprint stands for, so a remembered one is never stale.
 */
export class PeerIdentities {
  readonly #byFingerprint = new Map<string, ClientIdentity>();
  readonly #capacity: number;

  constructor(capacity = PEER_IDENTITY_CAPACITY) {
    this.#capacity = Math.max(1, capacity);
  }

  /** The identity of the certificate the peer of `socket` presented; undefined when it sent none. */
  of(socket: TLSSocket): ClientIdentity | undefined {
    const cert = socket.getPeerX509Certificate();
    if (cert === undefined) return undefined;
    const fingerprint = cert.fingerprint256;
    let identity = this.#byFingerprint.get(fingerprint);
    if (identity === undefined) {
      identity = identityFromPeerCertificate(cert.toLegacyObject());
      if (this.#byFingerprint.size >= this.#capacity) {
        this.#byFingerprint.delete(this.#byFingerprint.keys().next().value as string);
      }
      this.#byFingerprint.set(fingerprint, identity);
    }
    return identity;
  }

  /** How many identities are remembered. */
  get size(): number {
    return this.#byFingerprint.size;
  }
}
