/**
 * The demo's upstream: a tiny HTTP server answering any request with one line naming itself and its
 * group, e.g. `hello from groupA-1 (group groupA)`. `switchyard demo` runs six in-process and
 * `switchyard upstream` runs one on its own (as the Docker compose file does).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../../lib/logger.js';
import { formatHostPort } from '../../lib/upstreams/address.js';

/** Options of {@link startHttpUpstream}. */
export interface HttpUpstreamOptions {
  /** The upstream's name, e.g. `groupA-1`. */
  name: string;
  /** Its group; default {@link groupOf}(name). */
  group?: string;
  /** Address to bind. Default 127.0.0.1. */
  host?: string;
  /** Port to bind; 0 (default) picks a free one. */
  port?: number;
  /** Gets a debug line per request. */
  logger?: Logger;
}

/** A running demo upstream. */
export interface HttpUpstream {
  /** Its name. */
  readonly name: string;
  /** Its group. */
  readonly group: string;
  /** Bound address. */
  readonly host: string;
  /** Bound port. */
  readonly port: number;
  /** `host:port`, IPv6 in brackets. */
  readonly address: string;
  /** Stops listening and closes every open connection. */
  close(): Promise<void>;
}

/** The line an upstream answers with (the body is this plus a newline). */
export function greeting(name: string, group: string): string {
  return `hello from ${name} (group ${group})`;
}

/** The group an upstream name implies: the name without a trailing `-<number>` (`groupA-1` → `groupA`). */
export function groupOf(name: string): string {
  const stripped = name.replace(/-\d+$/, '');
  return stripped === '' ? name : stripped;
}

/**
 * Starts an HTTP/1.1 server that answers every request, whatever its method or path, with
 * `200 OK`, `Content-Type: text/plain`, `Connection: close` and the {@link greeting} line.
 */
export async function startHttpUpstream(options: HttpUpstreamOptions): Promise<HttpUpstream> {
  const name = options.name;
  const group = options.group ?? groupOf(name);
  const body = `${greeting(name, group)}\n`;
  const server: Server = createServer((req, res) => {
    options.logger?.debug(
      { upstream: name, method: req.method, url: req.url, remoteAddress: req.socket.remoteAddress },
      'request',
    );
    // Drain any request body so the response is not held up by an unread upload.
    req.resume();
    res.writeHead(200, {
      'Content-Type': 'text/plain; charset=utf-8',
      'Content-Length': Buffer.byteLength(body),
      Connection: 'close',
    });
    res.end(body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  let closed: Promise<void> | undefined;
  return {
    name,
    group,
    host: bound.address,
    port: bound.port,
    address: formatHostPort(bound.address, bound.port),
    close: () => {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
