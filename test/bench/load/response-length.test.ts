import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HEAD_INCOMPLETE, NOT_MEASURABLE, responseLength } from '../../../src/bench/load/response-length.js';
import { HTTP_RESPONSE } from '../../../src/bench/upstream/http-responder.js';

const bytes = (text: string): Buffer => Buffer.from(text, 'latin1');

describe('responseLength', () => {
  it('is the whole fixed response, head and body', () => {
    assert.equal(responseLength(HTTP_RESPONSE), HTTP_RESPONSE.length);
    // The head alone already tells the total.
    const head = HTTP_RESPONSE.subarray(0, HTTP_RESPONSE.indexOf('\r\n\r\n') + 4);
    assert.equal(responseLength(head), HTTP_RESPONSE.length);
  });

  it('reads Content-Length in any case and among other headers', () => {
    assert.equal(responseLength(bytes('HTTP/1.1 204 No\r\nX: y\r\nCONTENT-LENGTH:  7 \r\n\r\n')), 53);
    assert.equal(responseLength(bytes('HTTP/1.0 200 OK\r\ncontent-length: 0\r\n\r\n')), 38);
  });

  it('waits while the head is incomplete', () => {
    assert.equal(responseLength(HTTP_RESPONSE.subarray(0, 20)), HEAD_INCOMPLETE);
    assert.equal(responseLength(bytes('')), HEAD_INCOMPLETE);
  });

  it('refuses what cannot be counted in bytes', () => {
    assert.equal(responseLength(bytes('HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n')), NOT_MEASURABLE);
    assert.equal(
      responseLength(bytes('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n')),
      NOT_MEASURABLE,
    );
    assert.equal(responseLength(bytes('SSH-2.0-OpenSSH\r\n\r\n')), NOT_MEASURABLE);
    assert.equal(responseLength(Buffer.alloc(9000, 'a')), NOT_MEASURABLE);
  });
});
