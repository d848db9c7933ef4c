import { isIP } from 'node:net';
import type { HostPort } from '../lib/upstreams/address.js';
import { adminLabel, listenerLabel } from './config-origin.js';
import { parseAddress } from './schema.js';
import type { SwitchyardConfig } from './types.js';

/** A `bind` that cannot listen beside an earlier one: the key to report it at, and why. */
export interface BindConflict {
  /** Key path of the later `bind`, e.g. `['listeners', 1, 'bind']`. */
  readonly path: (string | number)[];
  /** Names both sides with their lines and says why they collide. */
  readonly message: string;
}

/**
 * Why sockets listening on `a` and `b` would collide on this system, or undefined when both can
 * listen. A port of 0 never collides (each gets a free port). `[::]` is taken as dual-stack (Linux's
 * default), so it collides with every address on its port. A DNS name is compared as written: what
 * it resolves to is known only when it is bound, and a collision then names the listener too.
 */
export function bindOverlap(
  a: Pick<HostPort, 'host' | 'port'>,
  b: Pick<HostPort, 'host' | 'port'>,
): string | undefined {
  if (a.port === 0 || a.port !== b.port) return undefined;
  const x = canonicalHost(a.host);
  const y = canonicalHost(b.host);
  if (x === y) return 'the same address';
  if (x === '::' || y === '::') {
    return '[::] takes the port on every IPv6 address and, dual-stack, on every IPv4 address';
  }
  if ((x === '0.0.0.0' && isIP(y) === 4) || (y === '0.0.0.0' && isIP(x) === 4)) {
    return '0.0.0.0 takes the port on every IPv4 address';
  }
  return undefined;
}

/**
 * Every listener `bind` (and `admin.bind`) that collides with one before it, each reported once,
 * against the first it collides with.
 */
export function findBindConflicts(config: SwitchyardConfig): BindConflict[] {
  const binds = config.listeners.map((l, i) => ({
    path: ['listeners', i, 'bind'],
    label: listenerLabel(config, i),
    bind: l.bind,
    protocol: l.protocol,
  }));
  if (config.admin !== undefined) {
    binds.push({
      path: ['admin', 'bind'],
      label: adminLabel(config),
      bind: config.admin.bind,
      protocol: 'tcp',
    });
  }
  const parsed = binds.map((b) => parseAddress(b.bind, true));
  const out: BindConflict[] = [];
  for (let later = 1; later < binds.length; later++) {
    for (let first = 0; first < later; first++) {
      // A TCP and a UDP socket may share a port (DNS on 53 both ways).
      if (binds[first].protocol !== binds[later].protocol) continue;
      const why = bindOverlap(parsed[first], parsed[later]);
      if (why === undefined) continue;
      const a = binds[first];
      const b = binds[later];
      out.push({
        path: b.path,
        message: `port ${parsed[later].port} is bound twice: ${a.label} on ${a.bind} and ${b.label} on ${b.bind} (${why}); give one of them another port`,
      });
      break;
    }
  }
  return out;
}

/** The address as the kernel compares it: IPv6 compressed and lower case, IPv4-mapped IPv6 as IPv4. */
function canonicalHost(host: string): string {
  if (isIP(host) !== 6) return host.toLowerCase();
  let v6: string;
  try {
    v6 = new URL(`http://[${host}]/`).hostname.slice(1, -1);
  } catch {
    return host.toLowerCase(); // a zone id (fe80::1%eth0) is no URL host; compared as written
  }
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(v6);
  if (mapped === null) return v6;
  const hi = Number.parseInt(mapped[1], 16);
  const lo = Number.parseInt(mapped[2], 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}
