import { isIP, connect as netConnect, type Socket } from 'node:net';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';
import { ErrorCodes, SwitchyardError } from '../errors.js';
import { ProbeError, type ProbeTarget, toProbeError } from './health-probe.js';

/** Client TLS settings a probe connects with. */
export interface ProbeTlsOptions {
  /** CA certificates (PEM) to verify the upstream against, instead of Node's bundled roots. */
  ca?: string | Buffer | readonly (string | Buffer)[];
  /** Verify the upstream's certificate chain and name. Default true. */
  verify?: boolean;
  /** SNI and the name the certificate must carry. Default the target host when it is a name, none for an IP. */
  servername?: string;
  /** Client certificate (PEM), for upstreams that require one. */
  cert?: string | Buffer;
  /** Private key (PEM) of `cert`. */
  key?: string | Buffer;
}

/** A judgement of the reply so far: `true` healthy, a {@link ProbeError} not, `undefined` read on. */
export type ReplyVerdict = true | ProbeError | undefined;

/** What one probe connection does once it is open. */
export interface ProbeConnectionOptions {
  /** Connect with TLS. */
  tls?: ProbeTlsOptions;
  /** Written once the connection is ready, before reading; only used with `judge`. */
  send?: Uint8Array;
  /**
   * Judges the reply read so far (at most `readLimit` bytes); `ended` is true once the upstream has
   * closed its side. Without it the probe passes as soon as the connection is ready.
   */
  judge?: (reply: Buffer, ended: boolean) => ReplyVerdict;
  /** Most reply bytes read before giving up on a match. Default 4096. */
  readLimit?: number;
  /**
   * TLS 1.3 without `judge`: ms to wait after the handshake for a server that sends no session ticket
   * to refuse our certificate. Default 100.
   */
  settle?: number;
}

/** Default for {@link ProbeConnectionOptions.readLimit}. */
export const DEFAULT_READ_LIMIT = 4096;

/** Default for {@link ProbeConnectionOptions.settle}. */
export const DEFAULT_TLS_SETTLE = 100;

/** Validates a read limit: a whole number of bytes above zero. */
export function checkReadLimit(limit: number): number {
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new SwitchyardError(
      ErrorCodes.ERR_INVALID_ARGUMENT,
      `readLimit must be a whole number of bytes above 0, got ${limit}`,
    );
  }
  return limit;
}

type Phase = 'connecting' | 'handshaking' | 'ready';

/**
 * Opens one TCP or TLS connection to `target`, optionally sends and judges a reply, and always
 * destroys the socket before settling: a probe never leaves a socket behind, whether it passed,
 * failed or was aborted by the caller's timeout.
 */
export function probeConnection(
  target: ProbeTarget,
  signal: AbortSignal,
  options: ProbeConnectionOptions = {},
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal.aborted) {
      reject(toProbeError(signal.reason));
      return;
    }
    const tls = options.tls;
    const judge = options.judge;
    const readLimit = options.readLimit ?? DEFAULT_READ_LIMIT;
    let phase: Phase = 'connecting';
    let done = false;
    let reply = Buffer.alloc(0);
    let ticket = false;
    let awaiting = false;
    let settle: ReturnType<typeof setTimeout> | undefined;

    const socket: Socket = tls === undefined ? netConnect(target.port, target.host) : openTls(target, tls);

    const finish = (err?: ProbeError): void => {
      if (done) return;
      done = true;
      signal.removeEventListener('abort', onAbort);
      if (settle !== undefined) clearTimeout(settle);
      socket.destroy();
      if (err === undefined) resolve();
      else reject(err);
    };
    const onAbort = (): void => finish(toProbeError(signal.reason));
    signal.addEventListener('abort', onAbort, { once: true });

    // Stays attached after finishing: a destroyed socket may still report an error, and an 'error'
    // without a listener would crash the process.
    socket.on('error', (err: NodeJS.ErrnoException) => finish(classify(err, phase)));
    socket.once('close', () => finish(new ProbeError('closed', closedMessage(phase))));
    socket.once('connect', () => {
      if (tls !== undefined) phase = 'handshaking';
      else onReady();
    });
    if (tls !== undefined) {
      socket.once('secureConnect', onReady);
      // Listening from the start: Node only asks OpenSSL for session tickets once someone listens.
      socket.once('session', () => {
        ticket = true;
        if (awaiting) finish();
      });
    }

    function onReady(): void {
      phase = 'ready';
      if (judge === undefined) {
        if (tls !== undefined && (socket as TLSSocket).getProtocol() === 'TLSv1.3') awaitServerVerdict();
        else finish();
        return;
      }
      socket.on('data', onData);
      socket.once('end', () => {
        if (reply.length === 0) {
          finish(new ProbeError('closed', 'connection closed without a reply'));
          return;
        }
        const verdict = judge(reply, true);
        finish(verdict === true ? undefined : (verdict ?? new ProbeError('response', 'no expected reply')));
      });
      if (options.send !== undefined) socket.write(options.send);
    }

    function onData(chunk: Buffer): void {
      const room = readLimit - reply.length;
      reply = Buffer.concat([reply, room < chunk.length ? chunk.subarray(0, room) : chunk]);
      const verdict = judge!(reply, false);
      if (verdict === true) finish();
      else if (verdict !== undefined) finish(verdict);
      else if (reply.length >= readLimit) {
        finish(new ProbeError('response', `no expected reply within the first ${readLimit} bytes`));
      }
    }

    // In TLS 1.3 the client finishes its handshake before the server has checked the client's
    // certificate. A server that refuses it then answers with an alert (OpenSSL's own checks) or just
    // closes (Node servers check in JavaScript after the handshake), while one that accepts it sends
    // session tickets or waits for us to talk. So: a ticket or data passes at once, an alert or a close
    // fails, and silence for `settle` ms passes.
    function awaitServerVerdict(): void {
      if (ticket) {
        finish();
        return;
      }
      awaiting = true;
      settle = setTimeout(() => finish(), options.settle ?? DEFAULT_TLS_SETTLE);
      socket.once('data', () => finish());
      socket.once('end', () =>
        finish(new ProbeError('tls', 'closed right after the TLS handshake: client certificate refused?')),
      );
      socket.resume();
    }
  });
}

function openTls(target: ProbeTarget, options: ProbeTlsOptions): TLSSocket {
  const ca = options.ca;
  const servername = options.servername ?? (isIP(target.host) === 0 ? target.host : undefined);
  return tlsConnect({
    host: target.host,
    port: target.port,
    ca: ca === undefined || typeof ca === 'string' || Buffer.isBuffer(ca) ? ca : [...ca],
    cert: options.cert,
    key: options.key,
    servername,
    rejectUnauthorized: options.verify ?? true,
  });
}

function classify(err: NodeJS.ErrnoException, phase: Phase): ProbeError {
  const code = err.code ?? '';
  const message = code !== '' && !err.message.includes(code) ? `${code}: ${err.message}` : err.message;
  if (phase === 'connecting') return new ProbeError('connect', message, { cause: err });
  // Certificate verdicts come as codes like UNABLE_TO_VERIFY_LEAF_SIGNATURE, protocol ones as ERR_SSL_*.
  if (phase === 'handshaking' || code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS')) {
    return new ProbeError('tls', message, { cause: err });
  }
  return new ProbeError('closed', message, { cause: err });
}

function closedMessage(phase: Phase): string {
  if (phase === 'connecting') return 'connection closed before it was established';
  if (phase === 'handshaking') return 'connection closed during the TLS handshake';
  return 'connection closed before the expected reply';
}
