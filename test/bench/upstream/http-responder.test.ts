import assert from 'node:assert/strict';
import { once } from 'node:events';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { asksToClose, HTTP_RESPONSE, serveHttp } from '../../../src/bench/upstream/http-responder.js';

const GET = 'GET / HTTP/1.1\r\nHost: bench\r\n\r\n';

function head(text: string): boolean {
  const bytes = Buffer.from(text, 'latin1');
  return asksToClose(bytes, 0, bytes.indexOf('\r\n\r\n'));
}

describe('asksToClose', () => {
  it('finds Connection: close in any case and among other tokens', () => {
    assert.equal(head('GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'), true);
    assert.equal(head('GET / HTTP/1.1\r\nconnection:CLOSE\r\nHost: a\r\n\r\n'), true);
    assert.equal(head('GET / HTTP/1.1\r\nCONNECTION: \tkeep-alive, Close \r\n\r\n'), true);
  });

  it('ignores other headers, other tokens and the request line', () => {
    assert.equal(head(GET), false);
    assert.equal(head('GET / HTTP/1.1\r\nConnection: keep-alive\r\n\r\n'), false);
    assert.equal(head('GET / HTTP/1.1\r\nConnection: closed\r\n\r\n'), false);
    assert.equal(head('GET / HTTP/1.1\r\nX-Connection: close\r\n\r\n'), false);
    assert.equal(head('GET /Connection:close HTTP/1.1\r\nHost: a\r\n\r\n'), false);
  });

  it('looks only inside the head it is given', () => {
    const bytes = Buffer.from(`${GET}GET / HTTP/1.1\r\nConnection: close\r\n\r\n`, 'latin1');
    assert.equal(asksToClose(bytes, 0, bytes.indexOf('\r\n\r\n')), false);
    const second = bytes.indexOf('\r\n\r\n') + 4;
    assert.equal(asksToClose(bytes, second, bytes.indexOf('\r\n\r\n', second)), true);
  });
});

describe('serveHttp', { timeout: 30_000 }, () => {
  let server: Server;
  let port: number;

  before(async () => {
    server = createServer(serveHttp);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  });

  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  async function open(): Promise<{ socket: Socket; received: () => Buffer; ended: Promise<unknown> }> {
    const socket = connect({ host: '127.0.0.1', port });
    await once(socket, 'connect');
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    return { socket, received: () => Buffer.concat(chunks), ended: once(socket, 'end') };
  }

  async function readBytes(received: () => Buffer, length: number): Promise<Buffer> {
    while (received().length < length) await new Promise((r) => setImmediate(r));
    return received();
  }

  it('answers pipelined requests once each and keeps the connection open', async () => {
    const { socket, received } = await open();
    socket.write(GET + GET + GET);
    const three = await readBytes(received, 3 * HTTP_RESPONSE.length);
    assert.deepEqual(three, Buffer.concat([HTTP_RESPONSE, HTTP_RESPONSE, HTTP_RESPONSE]));
    socket.write(GET);
    const four = await readBytes(received, 4 * HTTP_RESPONSE.length);
    assert.equal(four.length, 4 * HTTP_RESPONSE.length);
    socket.destroy();
  });

  it('answers a head that arrives one byte per write', async () => {
    const { socket, received } = await open();
    socket.setNoDelay(true);
    for (const byte of Buffer.from(GET)) {
      socket.write(Buffer.from([byte]));
      await new Promise((r) => setImmediate(r));
    }
    assert.deepEqual(await readBytes(received, HTTP_RESPONSE.length), HTTP_RESPONSE);
    socket.destroy();
  });

  it('ends the connection after the response to Connection: close', async () => {
    const { socket, received, ended } = await open();
    socket.write(`${GET}GET / HTTP/1.1\r\nconnection: Close\r\n\r\n${GET}`);
    await ended;
    assert.deepEqual(received(), Buffer.concat([HTTP_RESPONSE, HTTP_RESPONSE]));
    socket.destroy();
  });

  it('survives clients that reset mid-request', async () => {
    const { socket } = await open();
    socket.write('GET / HTTP/1.1\r\nHo');
    socket.resetAndDestroy();
    await once(socket, 'close');
    const { socket: next, received } = await open();
    next.write(GET);
    assert.deepEqual(await readBytes(received, HTTP_RESPONSE.length), HTTP_RESPONSE);
    next.destroy();
  });
});
