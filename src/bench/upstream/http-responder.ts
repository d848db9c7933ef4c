/**
 * The `http` bench upstream: one fixed small HTTP/1.1 response for every request head. It shares the
 * machine's cores with the proxy under test, so it parses as little as it can: it looks for the blank
 * line that ends a head and for a `Connection: close` header, byte by byte, never decoding text.
 */
import type { Socket } from 'node:net';

/** The one response every request gets; its length is what load generators learn and count. */
export const HTTP_RESPONSE: Buffer = Buffer.from(
  'HTTP/1.1 200 OK\r\nContent-Length: 13\r\nContent-Type: text/plain\r\n\r\nhello, bench\n',
  'latin1',
);

const HEAD_END = Buffer.from('\r\n\r\n', 'latin1');
const CONNECTION = Buffer.from('connection:', 'latin1');
const CLOSE = Buffer.from('close', 'latin1');
// A head this long without its blank line is not a benchmark client; cut it off rather than buffer.
const MAX_HEAD_BYTES = 16 * 1024;
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;
const COMMA = 0x2c;

/**
 * Answers every complete request head on `socket` with {@link HTTP_RESPONSE}: pipelined heads in one
 * read get one response each, a head split over reads is answered once it is whole, and a head with
 * `Connection: close` (any case) gets its response and then the end of the connection.
 */
export function serveHttp(socket: Socket): void {
  let pending: Buffer | undefined;
  let closing = false;
  socket.setNoDelay(true);
  socket.on('error', ignore);
  socket.on('data', (chunk: Buffer) => {
    if (closing) return;
    // Heads split over reads are rare (a benchmark request fits one segment), so concatenating only
    // then keeps the usual read free of copies.
    const bytes = pending === undefined ? chunk : Buffer.concat([pending, chunk]);
    pending = undefined;
    let from = 0;
    // Pipelined answers leave in one write instead of one per request.
    socket.cork();
    for (;;) {
      const end = bytes.indexOf(HEAD_END, from);
      if (end < 0) break;
      if (asksToClose(bytes, from, end)) {
        closing = true;
        socket.end(HTTP_RESPONSE);
        return;
      }
      socket.write(HTTP_RESPONSE);
      from = end + HEAD_END.length;
    }
    socket.uncork();
    if (from === bytes.length) return;
    if (bytes.length - from > MAX_HEAD_BYTES) socket.destroy();
    else pending = bytes.subarray(from);
  });
}

/** Whether the head in `head[start, end)` has a `Connection` header listing `close`. */
export function asksToClose(head: Buffer, start: number, end: number): boolean {
  // Every header line starts after a line feed; the request line before the first one names none.
  let lf = head.indexOf(LF, start);
  while (lf >= 0 && lf < end) {
    const name = lf + 1;
    const next = head.indexOf(LF, name);
    const lineEnd = next < 0 || next > end ? end : next;
    if (lineEnd - name >= CONNECTION.length && equalsIgnoringCase(head, name, CONNECTION)) {
      return listsClose(head, name + CONNECTION.length, lineEnd);
    }
    lf = next;
  }
  return false;
}

// Connection is a comma-separated token list ("keep-alive, close" is legal), with optional spaces.
function listsClose(head: Buffer, from: number, to: number): boolean {
  let i = from;
  while (i < to) {
    while (i < to && isSeparator(head[i])) i++;
    const token = i;
    while (i < to && !isSeparator(head[i])) i++;
    if (i - token === CLOSE.length && equalsIgnoringCase(head, token, CLOSE)) return true;
  }
  return false;
}

function isSeparator(byte: number): boolean {
  return byte === SPACE || byte === TAB || byte === COMMA || byte === CR;
}

// `lowerNeedle` is lower case ASCII; only A-Z in the haystack are folded, so ':' and '-' stay themselves.
function equalsIgnoringCase(haystack: Buffer, at: number, lowerNeedle: Buffer): boolean {
  for (let i = 0; i < lowerNeedle.length; i++) {
    const b = haystack[at + i];
    if ((b >= 0x41 && b <= 0x5a ? b | 0x20 : b) !== lowerNeedle[i]) return false;
  }
  return true;
}

function ignore(): void {}
