/**
 * Stand-in benchmark upstreams for the target tests: one tagging echo server per upstream kind, a
 * mutual-TLS one and a UDP one, all in this process on port 0. Each answers a connection's bytes (a
 * datagram) with its kind's tag followed by the bytes themselves, so a test sees both that data
 * flows and which upstream it reached.
 */
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { BenchCertFiles, BenchUpstreams, UpstreamKind } from '../../../src/bench/types.js';

/** What a local upstream of `kind` writes before the first echoed byte. */
export function upstreamTag(kind: UpstreamKind): string {
  return `${kind}|`;
}

/** What the local UDP echo puts before every datagram it sends back. */
export const UDP_TAG = 'udp|';

/** Starts the local upstreams; `stop()` closes them and every connection they hold. */
export async function startLocalUpstreams(certs: BenchCertFiles): Promise<BenchUpstreams> {
  const sockets = new Set<Socket>();
  const servers: Server[] = [];
  const listen = async (server: Server) => {
    servers.push(server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return { host: '127.0.0.1', port: (server.address() as { port: number }).port };
  };
  const taggedEcho = (kind: UpstreamKind) => (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    // The tag goes out with the first bytes, not at connect: readiness probes connect and leave.
    socket.once('data', () => socket.write(upstreamTag(kind)));
    socket.pipe(socket);
  };
  const http = await listen(createServer(taggedEcho('http')));
  const bulk = await listen(createServer(taggedEcho('bulk')));
  const echo = await listen(createServer(taggedEcho('echo')));
  const iperf3 = await listen(createServer(taggedEcho('iperf3')));
  const tlsEcho = await listen(
    createTlsServer(
      {
        cert: readFileSync(certs.serverCert),
        key: readFileSync(certs.serverKey),
        ca: readFileSync(certs.caCert),
        requestCert: true,
        rejectUnauthorized: true,
      },
      taggedEcho('echo'),
    ),
  );
  const udp = createSocket('udp4');
  udp.on('message', (datagram, from) =>
    udp.send([Buffer.from(UDP_TAG), datagram], from.port, from.address, () => {}),
  );
  await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
  return {
    endpoints: { http, bulk, echo, iperf3 },
    tlsEcho,
    udpEcho: { host: '127.0.0.1', port: udp.address().port },
    pid: process.pid,
    iperf3: false,
    stop: async () => {
      await new Promise<void>((resolve) => udp.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    },
  };
}
