/**
 * What every candidate's worker does with a connection: the naive proxy's relay (`net.connect` to the
 * one upstream and `pipe` both ways, nothing else), plus a count of accepted connections so the
 * driver can see how evenly a mode spreads them. Kept as plain as `targets/naive-proxy.ts`, so the
 * modes differ only in how the connection got here.
 */
import { connect, type Socket } from 'node:net';
import { CANDIDATE_HOST } from './candidate-args.js';

/** Relays connections to `127.0.0.1:upstreamPort` and counts them. */
export class CountingRelay {
  /** Connections handed to {@link relay} since the process started. */
  accepted = 0;
  readonly #upstreamPort: number;

  constructor(upstreamPort: number) {
    this.#upstreamPort = upstreamPort;
  }

  /** A `net.Server` connection listener. */
  readonly relay = (client: Socket): void => {
    this.accepted++;
    const upstream = connect(this.#upstreamPort, CANDIDATE_HOST);
    client.pipe(upstream).pipe(client);
    // The naive proxy's teardown: either side failing or closing ends both.
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  };
}
