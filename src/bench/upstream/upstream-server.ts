/**
 * The benchmark upstreams' process: `node upstream-server.js <ca.pem> <server.pem> <server.key>`.
 * Listens on 127.0.0.1 port 0 for every upstream kind plus a mutual-TLS echo and a UDP echo, prints one JSON line
 * with the ports ({@link UpstreamPorts}) and serves until its stdin closes (the parent stopped or
 * died) or it is signalled. Being a process of its own keeps its CPU apart from the generator's.
 */
import { createSocket } from 'node:dgram';
import { readFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { UpstreamKind } from '../types.js';
import { serveBulk } from './bulk-source.js';
import { serveEcho } from './echo.js';
import { serveHttp } from './http-responder.js';
import { serveUdpEcho } from './udp-echo.js';

/** The kinds this process serves itself; iperf3 is a server of its own. */
export type NodeUpstreamKind = Exclude<UpstreamKind, 'iperf3'>;

/** The TCP servers of the process: one per kind it serves, and the TLS echo. */
type TcpUpstream = NodeUpstreamKind | 'tlsEcho';

/** The line the process prints once it listens: the port of each kind it serves, of the TLS echo and the UDP echo. */
export type UpstreamPorts = Record<TcpUpstream, number> & { udpEcho: number };

const HOST = '127.0.0.1';
// The kernel caps it at somaxconn; asking for more keeps connection-rate scenarios from being
// refused by a short accept queue before the upstream is the bottleneck.
const BACKLOG = 4096;

const [caPath, certPath, keyPath] = process.argv.slice(2);
if (caPath === undefined || certPath === undefined || keyPath === undefined) {
  process.stderr.write('usage: upstream-server.js <ca.pem> <server.pem> <server.key>\n');
  process.exit(2);
}
const [ca, cert, key] = await Promise.all([readFile(caPath), readFile(certPath), readFile(keyPath)]);

const tlsEcho = createTlsServer(
  { ca, cert, key, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2' },
  serveEcho,
);
// A refused handshake is the client's business (and a test's); the server just drops the socket.
tlsEcho.on('tlsClientError', ignore);

const servers: Record<TcpUpstream, Server> = {
  http: createServer(serveHttp),
  bulk: createServer(serveBulk),
  echo: createServer(serveEcho),
  tlsEcho,
};
const ports = {} as UpstreamPorts;
for (const [name, server] of Object.entries(servers) as [TcpUpstream, Server][]) {
  ports[name] = await listen(server);
  server.on('error', reportOnce);
}
const udpEcho = createSocket('udp4');
serveUdpEcho(udpEcho);
await new Promise<void>((resolve, reject) => {
  udpEcho.once('error', reject);
  udpEcho.bind(0, HOST, () => {
    udpEcho.removeListener('error', reject);
    resolve();
  });
});
udpEcho.on('error', reportOnce);
ports.udpEcho = udpEcho.address().port;
process.stdout.write(`${JSON.stringify(ports)}\n`);

// The parent holds our stdin; its end means nobody will ever stop us otherwise.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: HOST, port: 0, backlog: BACKLOG }, () => {
      server.removeListener('error', reject);
      resolve((server.address() as { port: number }).port);
    });
  });
}

const reported = new Set<string>();

// Accept failures (EMFILE under a connection flood) repeat by the thousand; one line per kind is news.
function reportOnce(err: NodeJS.ErrnoException): void {
  const code = err.code ?? err.message;
  if (reported.has(code)) return;
  reported.add(code);
  process.stderr.write(`bench upstream: ${err.message}\n`);
}

function ignore(_err: Error, _socket: Socket): void {}
