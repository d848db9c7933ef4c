/**
 * The naive proxy's process: `node naive-proxy.js <config.json>`. What anyone would write in half
 * an hour with Node.js: `net.connect` to the upstream with the fewest open connections and `pipe`
 * both ways, TLS terminated by `tls.createServer`; for UDP, one upstream socket per client address
 * and port. No limits, no logging, no metrics, no idle expiry. It is the floor the suite holds
 * Switchyard to; kept plain on purpose, so do not tune it.
 */
import { createSocket, type Socket as DatagramSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { NaiveProxyConfig } from './naive-config.js';

const config = JSON.parse(readFileSync(process.argv[2] ?? '', 'utf8')) as NaiveProxyConfig;

for (const listener of config.listeners) {
  const open = listener.upstreams.map(() => 0);
  const relay = (client: Socket): void => {
    let pick = 0;
    for (let i = 1; i < open.length; i++) if (open[i] < open[pick]) pick = i;
    open[pick]++;
    const upstream = connect(listener.upstreams[pick]);
    upstream.once('close', () => open[pick]--);
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  };
  const tls = listener.tls;
  const server =
    tls === undefined
      ? createServer(relay)
      : createTlsServer(
          {
            cert: readFileSync(tls.cert),
            key: readFileSync(tls.key),
            ca: readFileSync(tls.ca),
            requestCert: true,
            rejectUnauthorized: true,
          },
          relay,
        );
  server.listen(listener.port, listener.host);
}

for (const { host, port, upstream } of config.udp ?? []) {
  const listener = createSocket('udp4');
  const flows = new Map<string, DatagramSocket>();
  listener.on('message', (datagram, from) => {
    const key = `${from.address}:${from.port}`;
    let flow = flows.get(key);
    if (flow === undefined) {
      flow = createSocket('udp4');
      flow.on('message', (reply) => listener.send(reply, from.port, from.address));
      flows.set(key, flow);
    }
    flow.send(datagram, upstream.port, upstream.host);
  });
  listener.bind(port, host);
}
