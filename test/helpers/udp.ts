/** UDP test peers: an upstream that answers with its name, a client that asks until answered. */
import { createSocket, type Socket } from 'node:dgram';

/** A UDP upstream that answers every datagram with `<name>:<datagram>`. */
export interface UdpUpstream {
  readonly name: string;
  readonly address: string;
  /** Client ports seen (the proxy's flow sockets), one per flow. */
  readonly peers: Set<number>;
  close(): Promise<void>;
}

export async function udpUpstream(
  name: string,
  host = '127.0.0.1',
  health?: { ok: boolean },
): Promise<UdpUpstream> {
  const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  const peers = new Set<number>();
  socket.on('message', (msg, from) => {
    if (health !== undefined && msg.toString() === 'PING') {
      socket.send(health.ok ? 'PONG' : 'SICK', from.port, from.address);
      return;
    }
    peers.add(from.port);
    socket.send(Buffer.concat([Buffer.from(`${name}:`), msg]), from.port, from.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, host, resolve));
  const port = socket.address().port;
  return {
    name,
    address: host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`,
    peers,
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}

/** A port that had a UDP socket and has none now: datagrams to it draw ICMP port unreachable. */
export async function closedUdpPort(): Promise<string> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  const port = s.address().port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return `127.0.0.1:${port}`;
}

/** A client socket bound to its own port, collecting replies. */
export class UdpClient {
  readonly socket: Socket;
  readonly replies: string[] = [];
  #waiters: (() => void)[] = [];

  constructor(family: 'udp4' | 'udp6' = 'udp4') {
    this.socket = createSocket(family);
    this.socket.on('message', (msg) => {
      this.replies.push(msg.toString());
      for (const w of this.#waiters.splice(0)) w();
    });
  }

  async bind(host = '127.0.0.1'): Promise<this> {
    await new Promise<void>((resolve) => this.socket.bind(0, host, resolve));
    return this;
  }

  get port(): number {
    return this.socket.address().port;
  }

  send(text: string, port: number, host = '127.0.0.1'): void {
    this.socket.send(text, port, host);
  }

  /** Sends `text` until a reply ending in it arrives (UDP may drop), within `ms`. */
  async ask(text: string, port: number, host = '127.0.0.1', ms = 5000): Promise<string> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      this.send(text, port, host);
      const found = await this.#waitFor((r) => r.endsWith(`:${text}`), 200);
      if (found !== undefined) return found;
    }
    throw new Error(`no reply to ${text}`);
  }

  async #waitFor(match: (r: string) => boolean, ms: number): Promise<string | undefined> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = this.replies.find(match);
      if (found !== undefined) return found;
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}
