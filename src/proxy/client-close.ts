import type { Socket } from 'node:net';

/** How long a client we close gets to read our close and answer before its socket is destroyed. */
const CLOSE_LINGER_MS = 2000;

/**
 * Ends our side of a client connection and lets the client see it: FIN (and close_notify on TLS),
 * then reading on, dropping what comes, so the client's own close is seen. The short linger bounds
 * how long a silent client keeps the socket: its 'timeout' (the session's client timeout handler)
 * destroys it.
 */
export function endClient(client: Socket): void {
  client.setTimeout(CLOSE_LINGER_MS);
  client.end();
  client.resume();
}

/**
 * Cuts a client connection from our side (shutdown, idle timeout, max lifetime, upstream gone). A
 * client whose kind ends with close_notify is told first ({@link endClient}), so it can tell our
 * close from a truncated stream; any other client, or one whose side is already ended, is destroyed
 * at once.
 */
export function cutClient(client: Socket, closeNotify: boolean): void {
  if (closeNotify && !client.writableEnded && !client.destroyed) endClient(client);
  else client.destroy();
}
