import assert from 'node:assert/strict';
import { once } from 'node:events';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { BULK_CHUNK_BYTES, serveBulk } from '../../../src/bench/upstream/bulk-source.js';

async function turns(n: number, until: () => boolean = () => false): Promise<void> {
  for (let i = 0; i < n && !until(); i++) await new Promise((r) => setTimeout(r, 1));
}

describe('serveBulk', { timeout: 30_000 }, () => {
  it('stops writing while the reader does not read, and resumes when it does', async () => {
    let served: Socket | undefined;
    const server = createServer((socket) => {
      served = socket;
      serveBulk(socket);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const client = connect({ host: '127.0.0.1', port: (server.address() as AddressInfo).port });
    client.pause();
    await once(client, 'connect');

    // The kernel's buffers fill first; then Node holds what write() accepted beyond them.
    await turns(5_000, () => (served?.writableLength ?? 0) > 0);
    const upstream = served as Socket;
    assert.ok(upstream.writableLength > 0, 'the reader never pushed back');
    const writtenWhenFull = upstream.bytesWritten;
    await turns(50);
    assert.ok(upstream.writableLength <= BULK_CHUNK_BYTES, `buffered ${upstream.writableLength} bytes`);
    assert.equal(upstream.bytesWritten, writtenWhenFull, 'kept writing into a full connection');

    let read = 0;
    client.on('data', (chunk: Buffer) => (read += chunk.length));
    client.resume();
    await turns(5_000, () => read > writtenWhenFull + 4 * BULK_CHUNK_BYTES);
    assert.ok(read > writtenWhenFull + 4 * BULK_CHUNK_BYTES, `read only ${read} bytes`);
    client.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
});
