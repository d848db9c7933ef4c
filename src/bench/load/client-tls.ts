/**
 * The generator's side of mutual TLS: the bench client certificate and the CA that signed the
 * target's, parsed once into a secure context that every connection shares.
 */
import { type ConnectionOptions, createSecureContext } from 'node:tls';

/** PEM material (strings or Buffers) and the name the target's certificate must carry. */
export interface ClientTlsOptions {
  ca: string | Buffer;
  cert: string | Buffer;
  key: string | Buffer;
  /** Sent as SNI and checked against the server certificate, e.g. `localhost`. */
  servername: string;
}

/**
 * The connect options every TLS connection of one run shares: parsing PEMs per handshake would put
 * the generator's own key parsing into the figure.
 */
export function sharedTlsOptions(tls: ClientTlsOptions): ConnectionOptions {
  return {
    secureContext: createSecureContext({ ca: tls.ca, cert: tls.cert, key: tls.key }),
    servername: tls.servername,
  };
}
