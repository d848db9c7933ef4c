import { z } from 'zod';
import { parseAddressRange } from '../lib/address-ranges.js';
import { ACCEPTED_PROXY_PROTOCOLS, PROXY_PROTOCOL_VERSIONS } from '../lib/proxy-protocol.js';
import {
  address,
  type Ctx,
  duration,
  fail,
  integer,
  isRecord,
  report,
  TLS_VERSIONS,
  text,
} from './schema-common.js';
import { showValue } from './show-value.js';
import { didYouMean } from './suggest.js';
import type { ListenerConfig, TlsVersion } from './types.js';

// The `listeners[]` part of the configuration schema.

/** A TLS version, with a pointed refusal of the obsolete ones. */
export function tlsVersion() {
  return z.any().transform((value: unknown, ctx): TlsVersion => {
    if (value === 'TLSv1.2' || value === 'TLSv1.3') return value;
    if (value === 'TLSv1' || value === 'TLSv1.1') {
      return fail(
        ctx,
        `${value} is not supported (obsolete and insecure, RFC 8996); use "TLSv1.2" or "TLSv1.3"`,
      );
    }
    const hint = typeof value === 'string' ? didYouMean(value, TLS_VERSIONS) : '';
    return fail(ctx, `expected one of "TLSv1.2", "TLSv1.3", got ${showValue(value)}${hint}`);
  });
}

const tlsSchema = z
  .strictObject({
    cert: text(),
    key: text(),
    clientCa: text(),
    crl: text().optional(),
    minVersion: tlsVersion().default('TLSv1.2'),
    maxVersion: tlsVersion().default('TLSv1.3'),
    ciphers: text().optional(),
    ecdhCurve: text().optional(),
    orgRule: z.enum(['first', 'any']).default('any'),
  })
  .superRefine((tls, ctx) => {
    if (TLS_VERSIONS.indexOf(tls.maxVersion) < TLS_VERSIONS.indexOf(tls.minVersion)) {
      report(ctx, ['maxVersion'], `"${tls.maxVersion}" is below minVersion "${tls.minVersion}"`);
    }
  });

const routeSchema = z.strictObject({
  org: text(),
  clientIds: z.array(text()).min(1).optional(),
  group: text(),
});

/**
 * `perSource` defaults by listener kind (see {@link DEFAULT_PER_SOURCE}), so it is left unset here and
 * filled in once the kind is known.
 */
const handshakeRateSchema = z
  .strictObject({
    perSource: integer(0).optional(),
    window: duration(false).default(1000),
  })
  .prefault({});

/**
 * The per-source guard's default per listener kind. A TLS listener protects its handshakes (CPU) from
 * one address opening connections in a loop; 1000 per second lets a NAT gateway or a node's SNAT
 * carry many clients. A plain TCP listener has no handshake to protect, and one busy source (a NAT,
 * a load test) is normal traffic there, so the guard is off unless configured; so is a TLS
 * passthrough listener's, which reads a hello but makes no handshake.
 */
export const DEFAULT_PER_SOURCE = { tls: 1000, tcp: 0, 'tls-passthrough': 0, udp: 0 } as const;

/** A UDP flow with no datagram either way for this long ends (ms). */
export const DEFAULT_FLOW_IDLE_TIMEOUT_MS = 30_000;

/** Most flows a UDP listener tracks at once; each holds one socket to its upstream. */
export const DEFAULT_MAX_FLOWS = 10_000;

/** The transports a listener speaks: `tcp` (every stream kind) or `udp` (datagrams, flows). */
export const LISTENER_PROTOCOLS = ['tcp', 'udp'] as const;

/**
 * Exactly one of `tls` (+ `routes`), `sniRoutes` (+ `defaultGroup`) or `group`; runs on partly
 * parsed input so it reports alongside other issues.
 */
function checkListenerKind(value: unknown, ctx: Ctx): void {
  if (!isRecord(value)) return;
  const who = typeof value.name === 'string' ? `listener "${value.name}"` : 'this listener';
  if (value.protocol === 'udp') {
    checkUdpKind(value, who, ctx);
    return;
  }
  for (const key of ['flowIdleTimeout', 'maxFlows']) {
    if (value[key] !== undefined)
      report(
        ctx,
        [key],
        `${who} has "${key}", which only a UDP listener has; add "protocol: udp" or remove it`,
        'key',
      );
  }
  const hasTls = value.tls !== undefined;
  const hasGroup = value.group !== undefined;
  const hasRoutes = value.routes !== undefined;
  if (value.sniRoutes !== undefined || value.defaultGroup !== undefined) {
    checkPassthroughKind(value, who, ctx);
  } else if (hasTls && hasGroup) {
    report(
      ctx,
      ['group'],
      `${who} has both "tls" and "group"; a TLS listener picks groups with "routes", a plain TCP listener has "group" and no "tls"`,
      'key',
    );
  } else if (hasTls && !hasRoutes) {
    report(ctx, ['routes'], `${who} has "tls" but no "routes"; add routes that map client orgs to groups`);
  } else if (!hasTls && hasRoutes) {
    report(
      ctx,
      ['routes'],
      `${who} has "routes" but no "tls"; routes match client certificate orgs, so they need "tls" (a plain TCP listener uses "group")`,
      'key',
    );
  } else if (!hasTls && !hasGroup) {
    report(
      ctx,
      [],
      `${who} needs either "tls" with "routes" (mutual TLS), "sniRoutes" (TLS passthrough) or "group" (plain TCP)`,
    );
  }
}

/**
 * A UDP listener sends flows to one `group`; keys about TLS, routing by certificate or server name
 * and the PROXY protocol (a stream header) mean nothing for datagrams, so they are refused rather
 * than ignored.
 */
function checkUdpKind(value: Record<string, unknown>, who: string, ctx: Ctx): void {
  const why: Record<string, string> = {
    tls: 'datagrams are relayed as they are (no TLS, and DTLS is not terminated)',
    routes: '"routes" match client certificate orgs, which a UDP listener never sees',
    sniRoutes: 'there is no TLS ClientHello to read a server name from',
    defaultGroup: 'a UDP listener sends every flow to its "group"',
    acceptProxyProtocol: 'a PROXY protocol header is a stream preface; datagrams carry none',
  };
  // Runs on partly parsed input: defaults (acceptProxyProtocol "none") are already filled in.
  for (const key of Object.keys(why)) {
    if (value[key] !== undefined && !(key === 'acceptProxyProtocol' && value[key] === 'none'))
      report(ctx, [key], `${who} is "protocol: udp" and has "${key}": ${why[key]}`, 'key');
  }
  if (value.proxyProtocol !== undefined && value.proxyProtocol !== 'none') {
    report(
      ctx,
      ['proxyProtocol'],
      `${who} is "protocol: udp" and sends a PROXY protocol header: upstream flows are plain datagrams, so it must be "none"`,
    );
  }
  if (value.group === undefined)
    report(ctx, [], `${who} is "protocol: udp" and needs "group", where its flows go`);
}

/** A TLS passthrough listener (`sniRoutes`, `defaultGroup`) has none of the other kinds' keys. */
function checkPassthroughKind(value: Record<string, unknown>, who: string, ctx: Ctx): void {
  const why: Record<string, string> = {
    tls: 'it does not terminate TLS (the upstreams do), so it has no "tls"',
    routes: '"routes" match client certificate orgs, which passthrough never sees',
    group: 'the group for names no route matches is "defaultGroup"',
  };
  for (const key of ['tls', 'routes', 'group']) {
    if (value[key] !== undefined) {
      report(ctx, [key], `${who} has "sniRoutes" (TLS passthrough) and "${key}": ${why[key]}`, 'key');
      return;
    }
  }
  if (value.sniRoutes === undefined) {
    report(
      ctx,
      ['defaultGroup'],
      `${who} has "defaultGroup" but no "sniRoutes"; add sniRoutes (server name to group), or use "group" for a plain TCP listener`,
      'key',
    );
  }
}

/** A server name a route matches: a DNS name, or `*.` and one (a wildcard covers one label). */
const SERVER_NAME =
  /^(\*\.)?([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$/i;

const sniRouteSchema = z.strictObject({
  serverName: z.string().superRefine((name, ctx) => {
    if (SERVER_NAME.test(name) && name.length <= 253) return;
    const hint = name.includes('*')
      ? ' (a wildcard is only a leading "*." before a name, e.g. "*.example.com")'
      : '';
    report(
      ctx,
      [],
      `expected a DNS name such as "api.example.com" or "*.example.com", got ${showValue(name)}${hint}`,
    );
  }),
  group: text(),
});

/** Server names compare case-insensitively, so two routes for one name differ only in which wins. */
function checkSniRoutes(routes: { serverName: string }[] | undefined, ctx: Ctx): void {
  const first = new Map<string, number>();
  routes?.forEach((r, i) => {
    const name = r.serverName.toLowerCase();
    const at = first.get(name);
    if (at === undefined) first.set(name, i);
    else
      report(
        ctx,
        ['sniRoutes', i, 'serverName'],
        `duplicate serverName "${r.serverName}" (also sniRoutes[${at}])`,
      );
  });
}

/** An address or CIDR range, e.g. `10.0.0.0/8` or `fd00::/8`. */
function addressRange() {
  return z.string().superRefine((value, ctx) => {
    const range = parseAddressRange(value);
    if (typeof range === 'string') report(ctx, [], `invalid address range: ${range}`);
  });
}

/**
 * A PROXY protocol header is taken only from the load balancers in `trustedProxies` (anyone else
 * could claim any address), so one without the other is a mistake worth stopping at.
 */
function checkProxyProtocolIn(
  l: { acceptProxyProtocol: string; trustedProxies: string[]; name: string },
  ctx: Ctx,
): void {
  const who = `listener "${l.name}"`;
  if (l.acceptProxyProtocol !== 'none' && l.trustedProxies.length === 0) {
    report(
      ctx,
      ['acceptProxyProtocol'],
      `${who} accepts a PROXY protocol header but has no "trustedProxies"; list the addresses or CIDR ranges of the load balancers in front (0.0.0.0/0 and ::/0 trust everyone)`,
      'key',
    );
  } else if (l.acceptProxyProtocol === 'none' && l.trustedProxies.length > 0) {
    report(
      ctx,
      ['trustedProxies'],
      `${who} has "trustedProxies" but acceptProxyProtocol is "none"; set acceptProxyProtocol to v1, v2 or any, or remove trustedProxies`,
      'key',
    );
  }
}

export const listenerSchema = z
  .strictObject({
    name: text(),
    bind: address('bind'),
    protocol: z.enum(LISTENER_PROTOCOLS).default('tcp'),
    flowIdleTimeout: duration(false).optional(),
    maxFlows: integer(1).optional(),
    maxConnections: integer(0).default(10000),
    handshakeRate: handshakeRateSchema,
    maxPendingHandshakes: integer(0).default(512),
    proxyProtocol: z.enum(PROXY_PROTOCOL_VERSIONS).default('none'),
    acceptProxyProtocol: z.enum(ACCEPTED_PROXY_PROTOCOLS).default('none'),
    trustedProxies: z.array(addressRange()).default([]),
    allow: z.array(addressRange()).default([]),
    deny: z.array(addressRange()).default([]),
    tls: tlsSchema.optional(),
    routes: z.array(routeSchema).min(1).optional(),
    group: text().optional(),
    sniRoutes: z.array(sniRouteSchema).min(1).optional(),
    defaultGroup: text().optional(),
  })
  .superRefine(checkListenerKind, { when: () => true })
  .superRefine(checkProxyProtocolIn)
  .superRefine((l, ctx) => checkSniRoutes(l.sniRoutes, ctx))
  .transform((l): ListenerConfig => {
    const kind =
      l.protocol === 'udp'
        ? 'udp'
        : l.tls !== undefined
          ? 'tls'
          : l.sniRoutes !== undefined
            ? 'tls-passthrough'
            : 'tcp';
    const base = {
      name: l.name,
      bind: l.bind,
      protocol: l.protocol,
      maxConnections: l.maxConnections,
      handshakeRate: {
        perSource: l.handshakeRate.perSource ?? DEFAULT_PER_SOURCE[kind],
        window: l.handshakeRate.window,
      },
      maxPendingHandshakes: l.maxPendingHandshakes,
      proxyProtocol: l.proxyProtocol,
      acceptProxyProtocol: l.acceptProxyProtocol,
      trustedProxies: l.trustedProxies,
      allow: l.allow,
      deny: l.deny,
    };
    // checkListenerKind has made sure exactly one of the shapes is present.
    if (kind === 'udp') {
      return {
        kind: 'udp',
        ...base,
        group: l.group ?? '',
        flowIdleTimeout: l.flowIdleTimeout ?? DEFAULT_FLOW_IDLE_TIMEOUT_MS,
        maxFlows: l.maxFlows ?? DEFAULT_MAX_FLOWS,
      };
    }
    if (l.tls !== undefined) return { kind: 'tls', ...base, tls: l.tls, routes: l.routes ?? [] };
    if (l.sniRoutes !== undefined) {
      const fallback = l.defaultGroup === undefined ? {} : { defaultGroup: l.defaultGroup };
      return { kind: 'tls-passthrough', ...base, sniRoutes: l.sniRoutes, ...fallback };
    }
    return { kind: 'tcp', ...base, group: l.group ?? '' };
  });
