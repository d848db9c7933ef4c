import { type CipherCCM, createCipheriv, createHmac } from 'node:crypto';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { ignoreError } from './owned-socket.js';

/** TLS alert descriptions (RFC 8446 section 6) the handshake refusals use. */
export const TlsAlert = {
  handshakeFailure: 40,
  badCertificate: 42,
  unsupportedCertificate: 43,
  certificateRevoked: 44,
  certificateExpired: 45,
  certificateUnknown: 46,
  unknownCa: 48,
  certificateRequired: 116,
} as const;

/** One of the {@link TlsAlert} descriptions. */
export type TlsAlertDescription = (typeof TlsAlert)[keyof typeof TlsAlert];

// Node verifies a client certificate with a callback that always lets OpenSSL go on, so OpenSSL
// never sends the alert itself; the refusal is made in 'secureConnection', which Node emits while
// OpenSSL's last handshake records still wait in its buffer. The alert written straight to the TCP
// socket then goes out first, and the socket is destroyed before anything else:
// - TLS 1.2: the server has not sent its ChangeCipherSpec yet, so the client still reads plaintext
//   records and a plaintext alert is what a server refusing a certificate sends.
// - TLS 1.3: the server's Finished is out, so the client reads with the server's application
//   traffic keys, from record number 0 (the session tickets are among the records never sent). The
//   secret those keys come from is taken from Node's keylog hook while the handshake runs, kept on
//   the socket until the handshake's end, and dropped then.
const alertSecret = Symbol('alertSecret');

type AlertSocket = TLSSocket & { [alertSecret]?: Buffer };

const SERVER_SECRET_LABEL = Buffer.from('SERVER_TRAFFIC_SECRET_0 ');
const CONTENT_ALERT = 21;
const CONTENT_APPLICATION_DATA = 23;
const LEVEL_FATAL = 2;
const AEAD_TAG_BYTES = 16;

/**
 * A `keylog` listener for a handshake server: keeps the line with the server's TLS 1.3 application
 * traffic secret on the socket, the only secret an alert after the handshake needs. Every other line is ignored.
 */
export function keepAlertSecret(line: Buffer, socket: TLSSocket): void {
  if (
    line.length <= SERVER_SECRET_LABEL.length ||
    line.compare(SERVER_SECRET_LABEL, 0, SERVER_SECRET_LABEL.length, 0, SERVER_SECRET_LABEL.length) !== 0
  ) {
    return;
  }
  // The line itself is kept (Node made it for this call); it is decoded only when an alert is sent,
  // which few handshakes need.
  (socket as AlertSocket)[alertSecret] = line;
}

/** The secret of a kept keylog line: "SERVER_TRAFFIC_SECRET_0 <client random> <secret>\n", in hex. */
function secretOfLine(line: Buffer): Buffer {
  const text = line.toString('latin1').trimEnd();
  return Buffer.from(text.slice(text.lastIndexOf(' ') + 1), 'hex');
}

/** Forgets the secret {@link keepAlertSecret} kept; call once the handshake is over, refused or not. */
export function dropAlertSecret(socket: TLSSocket): void {
  const s = socket as AlertSocket;
  if (s[alertSecret] !== undefined) s[alertSecret] = undefined;
}

interface RecordCipher {
  algorithm: 'aes-128-gcm' | 'aes-256-gcm' | 'chacha20-poly1305' | 'aes-128-ccm';
  keyBytes: number;
  hash: 'sha256' | 'sha384';
}

const TLS13_CIPHERS: Record<string, RecordCipher> = {
  TLS_AES_128_GCM_SHA256: { algorithm: 'aes-128-gcm', keyBytes: 16, hash: 'sha256' },
  TLS_AES_256_GCM_SHA384: { algorithm: 'aes-256-gcm', keyBytes: 32, hash: 'sha384' },
  TLS_CHACHA20_POLY1305_SHA256: { algorithm: 'chacha20-poly1305', keyBytes: 32, hash: 'sha256' },
  TLS_AES_128_CCM_SHA256: { algorithm: 'aes-128-ccm', keyBytes: 16, hash: 'sha256' },
};

/** HKDF-Expand-Label (RFC 8446 section 7.1) with an empty context, for outputs of one hash block at most. */
function expandLabel(secret: Buffer, hash: RecordCipher['hash'], label: string, length: number): Buffer {
  const fullLabel = Buffer.from(`tls13 ${label}`, 'latin1');
  const info = Buffer.alloc(2 + 1 + fullLabel.length + 1 + 1);
  info.writeUInt16BE(length, 0);
  info[2] = fullLabel.length;
  fullLabel.copy(info, 3);
  info[3 + fullLabel.length] = 0; // empty context
  info[info.length - 1] = 1; // HKDF-Expand's block counter
  return createHmac(hash, secret).update(info).digest().subarray(0, length);
}

/** The first record under the server's TLS 1.3 application keys: a fatal alert. */
function encryptedAlert(secret: Buffer, cipher: RecordCipher, description: number): Buffer {
  const key = expandLabel(secret, cipher.hash, 'key', cipher.keyBytes);
  // Record number 0: the nonce is the IV itself.
  const nonce = expandLabel(secret, cipher.hash, 'iv', 12);
  const inner = Buffer.from([LEVEL_FATAL, description, CONTENT_ALERT]);
  const header = Buffer.from([CONTENT_APPLICATION_DATA, 3, 3, 0, inner.length + AEAD_TAG_BYTES]);
  // Typed as CCM, the one of the four whose setAAD needs the plaintext length; GCM and ChaCha20 ignore it.
  const aead = createCipheriv(cipher.algorithm, key, nonce, {
    authTagLength: AEAD_TAG_BYTES,
  } as never) as CipherCCM;
  aead.setAAD(header, { plaintextLength: inner.length });
  const body = Buffer.concat([aead.update(inner), aead.final(), aead.getAuthTag()]);
  return Buffer.concat([header, body]);
}

/** The alert record for this finished handshake, or undefined when none can be made for it. */
function alertRecord(socket: TLSSocket, description: number): Buffer | undefined {
  const protocol = socket.getProtocol();
  if (protocol === 'TLSv1.2') {
    // An abbreviated (resumed) handshake has already switched the server to encrypted records.
    if (socket.isSessionReused()) return undefined;
    return Buffer.from([CONTENT_ALERT, 3, 3, 0, 2, LEVEL_FATAL, description]);
  }
  const line = (socket as AlertSocket)[alertSecret];
  const cipher = TLS13_CIPHERS[socket.getCipher()?.standardName ?? ''];
  if (protocol !== 'TLSv1.3' || line === undefined || cipher === undefined) return undefined;
  return encryptedAlert(secretOfLine(line), cipher, description);
}

/**
 * Refuses a handshake that just finished on the server side: sends the client a fatal alert and
 * destroys the socket. Call it from the handshake server's 'secureConnection' handler, before
 * returning to the event loop; later, other records may already be on their way. Returns false when
 * no alert could be made (the socket is destroyed all the same).
 */
export function refuseWithAlert(socket: TLSSocket, description: TlsAlertDescription): boolean {
  const record = alertRecord(socket, description);
  dropAlertSecret(socket);
  // Node keeps the accepted TCP socket a server-side TLSSocket wraps in `_parent`; writing to it
  // bypasses the TLS layer, which is the point here.
  const raw = (socket as unknown as { _parent?: Socket })._parent;
  if (record !== undefined && raw !== undefined && !raw.destroyed) {
    raw.on('error', ignoreError);
    raw.write(record);
  }
  socket.destroy();
  return record !== undefined;
}
