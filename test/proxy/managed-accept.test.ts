import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { acceptIntoManagedBuffers } from '../../src/proxy/managed-accept.js';
import { managedReadOptions, relay } from '../../src/proxy/relay.js';
import { startEchoUpstream, type TestUpstream } from '../helpers/upstreams.js';

/** A server on loopback whose accepted sockets go to `onSocket`; `wanted` decides managed reads. */
async function listen(wanted: () => boolean, onSocket: (s: Socket) => void): Promise<Server> {
  const server = createServer({ allowHalfOpen: true }, onSocket);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  assert.equal(acceptIntoManagedBuffers(server, wanted), true, 'this Node accepts into managed buffers');
  return server;
}

function portOf(server: Server): number {
  const a = server.address();
  assert.ok(a !== null && typeof a === 'object');
  return a.port;
}

/** Everything `socket` receives until its peer ends. */
function readAll(socket: Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  return new Promise((resolve, reject) => {
    socket.once('end', () => resolve(Buffer.concat(chunks)));
    socket.once('error', reject);
  });
}

describe('accepted sockets that read into the relay buffers', { timeout: 30_000 }, () => {
  let echo: TestUpstream;
  const servers: Server[] = [];

  before(async () => {
    echo = await startEchoUpstream();
  });

  after(async () => {
    for (const s of servers) s.close();
    await echo.close();
  });

  it('start paused, lose nothing sent before the relay starts, and pass the FIN on', async () => {
    const payload = randomBytes(1024 * 1024 + 7);
    let pausedAtAccept: boolean | undefined;
    const server = await listen(
      () => true,
      (client) => {
        pausedAtAccept = client.isPaused();
        const upstream = connect({
          host: echo.host,
          port: echo.port,
          allowHalfOpen: true,
          onread: managedReadOptions,
        });
        upstream.once('connect', () => relay(client, upstream));
        upstream.on('close', () => client.destroy());
        client.on('close', () => upstream.destroy());
      },
    );
    servers.push(server);
    const client = connect({ port: portOf(server), host: '127.0.0.1', allowHalfOpen: true });
    // the whole payload and the FIN leave before the proxy can have relayed anything
    client.end(payload);
    const echoed = await readAll(client);
    assert.equal(pausedAtAccept, true);
    assert.equal(echoed.length, payload.length);
    assert.ok(echoed.equals(payload), 'the echo carries every byte in order');
    client.destroy();
  });

  it('drops what a client sends while it is drained without a relay, and still sees its FIN', async () => {
    let ended: Promise<number> | undefined;
    const server = await listen(
      () => true,
      (client) => {
        ended = new Promise((resolve, reject) => {
          client.once('end', () => resolve(client.bytesRead));
          client.once('error', reject);
        });
        client.end();
        client.resume();
      },
    );
    servers.push(server);
    const client = connect({ port: portOf(server), host: '127.0.0.1', allowHalfOpen: true });
    client.end(Buffer.alloc(100_000, 1));
    client.resume();
    await new Promise((resolve) => client.once('end', resolve));
    assert.ok(ended !== undefined);
    assert.equal(await ended, 100_000);
    client.destroy();
  });

  it('leaves connections it is not asked to take as Node builds them', async () => {
    let paused: boolean | undefined;
    const server = await listen(
      () => false,
      (socket) => {
        paused = socket.isPaused();
        socket.pipe(socket);
      },
    );
    servers.push(server);
    const client = connect({ port: portOf(server), host: '127.0.0.1', allowHalfOpen: true });
    client.end('plain');
    const back = await readAll(client);
    assert.equal(paused, false);
    assert.equal(back.toString(), 'plain');
    client.destroy();
  });
});
