/** Listening as a promise, with the `reusePort` option that @types/node 20 does not declare yet. */
import type { ListenOptions, Server } from 'node:net';

/** `net` listen options plus `reusePort` (Node 22.12+ and 23.1+; older versions ignore it). */
export type ReusePortListenOptions = ListenOptions & { reusePort?: boolean };

/** Listens with `options` and resolves with the bound port; rejects with the listen error. */
export function listen(server: Server, options: ReusePortListenOptions): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options, () => {
      server.removeListener('error', reject);
      resolve((server.address() as { port: number }).port);
    });
  });
}
