/**
 * Reading the length of the benchmark's fixed HTTP response from its head. The generator learns it
 * from a connection's first response and then only counts bytes, so the hot path parses nothing.
 */

/** {@link responseLength} while the head has not fully arrived. */
export const HEAD_INCOMPLETE = 0;
/** {@link responseLength} for anything but a 2xx HTTP/1.x response with a Content-Length. */
export const NOT_MEASURABLE = -1;

const HEAD_END = Buffer.from('\r\n\r\n', 'latin1');
const STATUS_2XX = /^HTTP\/1\.[01] 2\d\d /;
const CONTENT_LENGTH = /\r\ncontent-length:[ \t]*(\d+)[ \t]*\r\n/i;
// The fixed response's head is well under this; more means it is not the response we expect.
const MAX_HEAD_BYTES = 8 * 1024;

/**
 * Total bytes (head and body) of the response that `bytes` starts with; {@link HEAD_INCOMPLETE} until
 * its blank line has arrived, {@link NOT_MEASURABLE} when it is not a 2xx response with a length.
 */
export function responseLength(bytes: Buffer): number {
  const end = bytes.indexOf(HEAD_END);
  if (end < 0) return bytes.length > MAX_HEAD_BYTES ? NOT_MEASURABLE : HEAD_INCOMPLETE;
  // Once per connection at most, on a head of a few dozen bytes: text is fine here.
  const head = bytes.toString('latin1', 0, end + 2);
  if (!STATUS_2XX.test(head)) return NOT_MEASURABLE;
  const length = CONTENT_LENGTH.exec(head);
  if (length === null) return NOT_MEASURABLE;
  return end + HEAD_END.length + Number(length[1]);
}
