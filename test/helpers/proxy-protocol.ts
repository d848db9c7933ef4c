/**
 * A PROXY protocol reader for tests, written from the specification separately from the sender in
 * src/proxy/proxy-header.ts, plus an upstream that reads the header and answers with what it read.
 */
import { startTcpUpstream, type TestUpstream } from './upstreams.js';

/** What a header said. */
export interface ParsedProxyHeader {
  version: 1 | 2;
  /** `TCP4`/`TCP6`/`UNKNOWN` in v1; `TCP4`/`TCP6`/`UNSPEC` in v2. */
  family: string;
  sourceAddress?: string;
  destinationAddress?: string;
  sourcePort?: number;
  destinationPort?: number;
  /** v2 `PP2_TYPE_SSL`: client flags, verify result and sub-TLVs by type. */
  ssl?: { client: number; verify: number; version?: string; cn?: string };
  /** Bytes the header took. */
  length: number;
}

const SIGNATURE = Buffer.from('0d0a0d0a000d0a515549540a', 'hex');

function ipv6Text(b: Buffer): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i).toString(16));
  return groups.join(':');
}

/** Reads a header at the start of `data`; undefined while more bytes are needed. Throws when it is not one. */
export function parseProxyHeader(data: Buffer): ParsedProxyHeader | undefined {
  if (data.length >= 16 && data.subarray(0, 12).equals(SIGNATURE)) {
    const length = 16 + data.readUInt16BE(14);
    if (data.length < length) return undefined;
    if (data[12] !== 0x21) throw new Error(`version/command byte ${data[12]}`);
    const body = data.subarray(16, length);
    const out: ParsedProxyHeader = { version: 2, family: 'UNSPEC', length };
    let at = 0;
    if (data[13] === 0x11) {
      out.family = 'TCP4';
      out.sourceAddress = [...body.subarray(0, 4)].join('.');
      out.destinationAddress = [...body.subarray(4, 8)].join('.');
      out.sourcePort = body.readUInt16BE(8);
      out.destinationPort = body.readUInt16BE(10);
      at = 12;
    } else if (data[13] === 0x21) {
      out.family = 'TCP6';
      out.sourceAddress = ipv6Text(body.subarray(0, 16));
      out.destinationAddress = ipv6Text(body.subarray(16, 32));
      out.sourcePort = body.readUInt16BE(32);
      out.destinationPort = body.readUInt16BE(34);
      at = 36;
    } else if (data[13] !== 0x00) throw new Error(`family byte ${data[13]}`);
    while (at < body.length) {
      const type = body[at];
      const len = body.readUInt16BE(at + 1);
      const value = body.subarray(at + 3, at + 3 + len);
      if (type === 0x20) {
        const ssl: NonNullable<ParsedProxyHeader['ssl']> = {
          client: value[0],
          verify: value.readUInt32BE(1),
        };
        for (let s = 5; s < value.length; ) {
          const subLen = value.readUInt16BE(s + 1);
          const text = value.subarray(s + 3, s + 3 + subLen).toString('utf8');
          if (value[s] === 0x21) ssl.version = text;
          if (value[s] === 0x22) ssl.cn = text;
          s += 3 + subLen;
        }
        out.ssl = ssl;
      }
      at += 3 + len;
    }
    return out;
  }
  const end = data.indexOf('\r\n');
  if (end < 0) {
    if (data.length >= 107) throw new Error('no v1 header in the first 107 bytes');
    return undefined;
  }
  const words = data.subarray(0, end).toString('latin1').split(' ');
  if (words[0] !== 'PROXY') throw new Error(`not a PROXY header: ${words[0]}`);
  if (words[1] === 'UNKNOWN') return { version: 1, family: 'UNKNOWN', length: end + 2 };
  return {
    version: 1,
    family: words[1],
    sourceAddress: words[2],
    destinationAddress: words[3],
    sourcePort: Number(words[4]),
    destinationPort: Number(words[5]),
    length: end + 2,
  };
}

/** An upstream that reads the header, answers with it as one JSON line, then echoes everything after it. */
export function startProxyProtocolUpstream(): Promise<TestUpstream> {
  return startTcpUpstream('proxy-protocol', '127.0.0.1', (socket) => {
    let pending = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      let header: ParsedProxyHeader | undefined;
      try {
        header = parseProxyHeader(pending);
      } catch (err) {
        socket.end(`${JSON.stringify({ error: (err as Error).message })}\n`);
        return;
      }
      if (header === undefined) return;
      socket.off('data', onData);
      socket.write(`${JSON.stringify(header)}\n`);
      const rest = pending.subarray(header.length);
      if (rest.length > 0) socket.write(rest);
      socket.pipe(socket);
    };
    socket.on('data', onData);
  });
}
