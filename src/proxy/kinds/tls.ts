import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { ErrorCodes } from '../../lib/errors.js';
import { PeerIdentities } from '../peer-identities.js';
import type { ProxyRuntime } from '../runtime.js';
import { certificateRefusal } from '../tls.js';
import type { ListenerKind, RoutedSession } from './listener-kind.js';
import { TlsHandshakes, type TlsRuntime } from './tls-handshakes.js';

/**
 * A mutual TLS listener: a session starts after a handshake whose client certificate passed, and
 * goes to the group the authorizer gives the certificate's identity (CN, O).
 */
export const tlsKind: ListenerKind<TlsRuntime> = {
  name: 'tls',
  intake: (listener, rt, handshakeTimeoutMs) => new TlsHandshakes(listener, rt, handshakeTimeoutMs),
  route: routeByIdentity,
  hashKey: (runtime: ProxyRuntime, group: string) => runtime.hashKeys.get(group) ?? 'client-id',
  proxiedTls(client: Socket, clientId: string) {
    const tls = client as TLSSocket;
    return {
      version: tls.getProtocol() ?? '',
      clientCn: clientId,
      certOnThisConnection: !tls.isSessionReused(),
    };
  },
  endsWithCloseNotify: true,
  relayReadsSocket: false,
  describe: () => ({}),
};

// One for every TLS listener: the identity of a certificate does not depend on where it was shown.
const peerIdentities = new PeerIdentities();

function routeByIdentity(client: Socket, rt: TlsRuntime, session: RoutedSession): void {
  const tls = client as TLSSocket;
  // Read while the socket is open: once destroyed it no longer knows what was negotiated.
  const sni = (tls as TLSSocket & { servername?: string | false }).servername;
  session.negotiated(
    tls.getProtocol() ?? '',
    tls.getCipher()?.name ?? '',
    typeof sni === 'string' ? sni : '',
  );
  // The handshake refuses a missing or unverified certificate, with an alert; these two checks
  // only keep a session from ever reading an identity nobody verified.
  // (None when the client sent no certificate, or once the socket is destroyed.)
  const identity = peerIdentities.of(tls);
  if (identity === undefined) {
    session.fail(ErrorCodes.ERR_NO_CLIENT_CERT);
    return;
  }
  if (!tls.authorized) {
    session.fail(certificateRefusal(tls)!.code);
    return;
  }
  if (identity.id === '') {
    session.fail(ErrorCodes.ERR_CERT_MISSING_CN);
    return;
  }
  const orgs = identity.orgs;
  if (orgs.length === 0) {
    session.identified(identity.id, '');
    session.fail(ErrorCodes.ERR_CERT_MISSING_ORG);
    return;
  }
  const group = rt.authorizer.authorize(identity.id, orgs);
  // The org the record names: the one that was authorized when the group is named after it.
  const org = group !== undefined && orgs.length > 1 && orgs.includes(group) ? group : orgs[0];
  session.identified(identity.id, org);
  if (group === undefined) {
    session.fail(ErrorCodes.ERR_UNAUTHORIZED_ORG);
    return;
  }
  session.routed(group, identity.id);
}
