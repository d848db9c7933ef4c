/** Free TCP and UDP ports on loopback for proxies whose configuration must name its ports before it starts. */
import { createSocket } from 'node:dgram';
import { createServer, type Server } from 'node:net';

/** The host every benchmark listener binds. */
export const LOOPBACK = '127.0.0.1';

/**
 * Returns `count` distinct ports that were free on 127.0.0.1 a moment ago. The servers that found them
 * are all open at once (so the kernel cannot hand out one port twice) and closed before returning;
 * another process could take a port before the proxy binds it, a race the suite accepts.
 */
export async function freeLoopbackPorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, LOOPBACK, () => resolve());
      });
    }
    return servers.map((s) => (s.address() as { port: number }).port);
  } finally {
    await Promise.all(
      servers.map(
        (s) => new Promise<void>((resolve) => (s.listening ? s.close(() => resolve()) : resolve())),
      ),
    );
  }
}

/**
 * A UDP port that was free on 127.0.0.1 a moment ago (a free TCP port says nothing about UDP's);
 * the same race as {@link freeLoopbackPorts}.
 */
export async function freeLoopbackUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, LOOPBACK, () => resolve());
    });
    return socket.address().port;
  } finally {
    await new Promise<void>((resolve) => {
      try {
        socket.close(() => resolve());
      } catch {
        resolve(); // it never bound
      }
    });
  }
}
