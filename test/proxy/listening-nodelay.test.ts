import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { noDelayOnListeningSocket } from '../../src/proxy/listening-nodelay.js';

// TCP_NODELAY set once on the listening socket, which Linux copies to every accepted socket (one
// setsockopt less per connection; `strace -c` on the balancer counts one per connection, for the
// upstream socket, where there were two). Node has no getsockopt, so what is checked here is that
// the option is taken and that accepted sockets carry data both ways as before.
describe('TCP_NODELAY on the listening socket', () => {
  it('is taken by a listening server on Linux, and not by one that is not listening', async () => {
    const server = createServer({ noDelay: false }, (s: Socket) => s.pipe(s));
    assert.equal(noDelayOnListeningSocket(server), false, 'no socket yet');
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      assert.equal(noDelayOnListeningSocket(server), process.platform === 'linux');
      const port = (server.address() as { port: number }).port;
      const client = connect({ host: '127.0.0.1', port });
      await once(client, 'connect');
      client.write('ping');
      const [echoed] = (await once(client, 'data')) as [Buffer];
      assert.equal(echoed.toString(), 'ping');
      client.destroy();
    } finally {
      server.close();
    }
  });
});
