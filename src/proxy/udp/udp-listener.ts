import { type BindOptions, createSocket, type Socket as DgramSocket, type RemoteInfo } from 'node:dgram';
import { type LookupOneOptions, lookup } from 'node:dns';
import { isIP, isIPv6 } from 'node:net';
import { performance } from 'node:perf_hooks';
import { type ErrorCode, ErrorCodes, SwitchyardError } from '../../lib/errors.js';
import type { Logger } from '../../lib/logger.js';
import { formatHostPort } from '../../lib/upstreams/address.js';
import type { Upstream } from '../../lib/upstreams/upstream.js';
import { LogThrottle } from '../log-throttle.js';
import type { ProxyListener } from '../proxy-listener.js';
import type { DatagramListenerRuntime, ListenerRuntime } from '../runtime.js';
import type { SessionHost } from '../session.js';
import type { ListenerSnapshot } from '../snapshot.js';
import type { SocketSource } from '../socket-source.js';
import { ListenerStats } from '../stats.js';
import { FlowTable } from './flow-table.js';
import { type FlowOwner, UdpFlow } from './udp-flow.js';

/** How often a flood of drops may write a log line, per listener and reason. */
const DROP_LOG_INTERVAL_MS = 1000;

/** The idle sweep runs this often at most and at least: a quarter of the idle timeout, within bounds. */
const SWEEP_MIN_MS = 20;
const SWEEP_MAX_MS = 1000;

/**
 * A UDP listener: one `dgram` socket on the listener's address, and a {@link FlowTable} of the
 * clients it serves. A datagram of a known client goes out on its flow's connected upstream
 * socket at once; a new client is judged by the address rules, the table's room and the
 * per-source new-flow rate (`handshakeRate.perSource`) before anything is allocated for it, then
 * admitted by the runtime's per-client gates (keyed by source address) and given an upstream by
 * the group's balancer. Idle flows are ended by one coarse sweep timer for the whole table, not a
 * timer per flow.
 */
export class UdpListener implements ProxyListener, FlowOwner {
  readonly stats: ListenerStats;
  runtime: DatagramListenerRuntime;
  readonly host: SessionHost;
  readonly #logger: Logger;
  readonly #socket: DgramSocket;
  readonly #flows: FlowTable;
  #bound = false;
  /** Another worker reads this listener's socket. */
  #dormant = false;
  #sweep: NodeJS.Timeout | undefined;
  #sweepMs = 0;
  readonly #dropLog = new LogThrottle<ErrorCode>(DROP_LOG_INTERVAL_MS);

  constructor(
    runtime: DatagramListenerRuntime,
    host: SessionHost,
    stats: ListenerStats = new ListenerStats(),
  ) {
    this.runtime = runtime;
    this.host = host;
    this.#logger = host.logger;
    this.stats = stats;
    this.#flows = new FlowTable(runtime.maxFlows);
    // `::` is dual-stack: IPv4 clients arrive as ::ffff:a.b.c.d and replies go back the same way.
    this.#socket = createSocket({ type: isIPv6(runtime.host) ? 'udp6' : 'udp4', lookup: addressLookup });
    this.#socket.on('message', this.#onDatagram);
  }

  /** Listener name. */
  get name(): string {
    return this.runtime.name;
  }

  /** True while the socket is bound. */
  get listening(): boolean {
    return this.#bound;
  }

  /** Flows held now, those waiting for admission included. */
  get flowCount(): number {
    return this.#flows.size;
  }

  /**
   * Binds the socket, or reads the one `sockets` hands over. With several workers, one of them reads
   * each UDP socket (so all of a client's datagrams reach one flow table); in the others the
   * listener stays dormant: not listening, no flows, its address the configured one.
   */
  async listen(sockets?: SocketSource): Promise<void> {
    const handle =
      sockets === undefined
        ? undefined
        : await sockets.datagramHandle(this.name, this.runtime.host, this.runtime.port);
    if (sockets !== undefined && handle === undefined) {
      this.#dormant = true;
      return;
    }
    const socket = this.#socket;
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      socket.once('error', onError);
      // dgram takes a bound handle in place of a port (node:cluster's way); the types do not say so.
      const where = handle ?? { address: this.runtime.host, port: this.runtime.port, exclusive: true };
      socket.bind(where as BindOptions, () => {
        socket.removeListener('error', onError);
        socket.on('error', (err) =>
          this.#logger.error({ listener: this.name, err: String(err) }, 'listener error'),
        );
        this.#bound = true;
        this.#startSweep();
        resolve();
      });
    });
  }

  address(): { address: string; port: number; family: string } {
    if (this.#dormant) {
      const family = isIPv6(this.runtime.host) ? 'IPv6' : 'IPv4';
      return { address: this.runtime.host, port: this.runtime.port, family };
    }
    if (!this.#bound)
      throw new SwitchyardError(ErrorCodes.ERR_INTERNAL, `listener ${this.name} is not bound`);
    return this.#socket.address();
  }

  snapshot(): ListenerSnapshot {
    const bound = this.#bound ? this.address() : undefined;
    const stats = this.stats.counters();
    return {
      ...describeUdp(this.runtime),
      address: bound === undefined ? null : formatHostPort(bound.address, bound.port),
      port: bound?.port ?? null,
      listening: this.#bound,
      stats,
    };
  }

  update(runtime: ListenerRuntime): void {
    // Another transport is bound as a new listener in this one's place.
    if (runtime.kind !== 'udp') return;
    this.runtime = runtime;
    this.#flows.max = runtime.maxFlows;
    if (this.#bound && sweepInterval(runtime) !== this.#sweepMs) this.#startSweep();
  }

  renewTicketKeys(): void {}

  /** Ends every flow with `code` whose upstream is `upstream`; their clients' next datagrams start new flows. */
  closeSessionsOf(upstream: Upstream, code: ErrorCode): number {
    let closed = 0;
    for (const flow of this.#flows.values()) {
      if (flow.upstream !== upstream || !flow.open) continue;
      flow.end(code);
      closed++;
    }
    return closed;
  }

  /**
   * Ends every flow (`ERR_SHUTDOWN`) and unbinds. A flow cannot outlive its listener's socket: the
   * replies would have no way back to the client.
   */
  close(): Promise<void> {
    this.#dormant = false;
    if (!this.#bound) return Promise.resolve();
    this.#bound = false;
    clearInterval(this.#sweep);
    for (const flow of this.#flows.values()) flow.end(ErrorCodes.ERR_SHUTDOWN);
    return new Promise((resolve) => this.#socket.close(() => resolve()));
  }

  replyToClient(flow: UdpFlow, datagram: Buffer): void {
    if (this.#bound) this.#socket.send(datagram, flow.clientPort, flow.clientAddress);
  }

  flowRefused(flow: UdpFlow, code: ErrorCode): void {
    this.#flows.delete(flow);
    this.stats.active = this.#flows.size;
    this.#dropped(code, flow.clientAddress);
  }

  datagramDropped(flow: UdpFlow, code: ErrorCode): void {
    this.#dropped(code, flow.clientAddress);
  }

  flowEnded(flow: UdpFlow): void {
    this.#flows.delete(flow);
    const stats = this.stats;
    stats.active = this.#flows.size;
    stats.bytesFromClients += flow.bytesFromClient;
    stats.bytesToClients += flow.bytesToClient;
    if (flow.termination !== 'OK' && flow.termination !== ErrorCodes.ERR_IDLE_TIMEOUT)
      stats.reject(flow.termination);
  }

  #onDatagram = (datagram: Buffer, from: RemoteInfo): void => {
    const key = FlowTable.key(from.address, from.port);
    const flow = this.#flows.get(key);
    if (flow !== undefined) {
      flow.fromClient(datagram, performance.now());
      return;
    }
    // A new client: every check that costs nothing comes before anything is allocated for it.
    const rt = this.runtime;
    if (rt.addressRules !== undefined && !rt.addressRules.admits(from.address)) {
      this.#dropped(ErrorCodes.ERR_ADDRESS_DENIED, from.address);
      return;
    }
    if (!this.#flows.hasRoom) {
      this.#dropped(ErrorCodes.ERR_FLOW_TABLE_FULL, from.address);
      return;
    }
    if (rt.sourceGuard !== undefined && rt.sourceGuard.take(from.address) > 0) {
      this.#dropped(ErrorCodes.ERR_HANDSHAKE_RATE, from.address);
      return;
    }
    const created = new UdpFlow(this, this.host.runtime, rt, key, from.address, from.port);
    this.#flows.add(created);
    this.stats.accepted++;
    this.stats.active = this.#flows.size;
    created.start(datagram);
  };

  #startSweep(): void {
    clearInterval(this.#sweep);
    this.#sweepMs = sweepInterval(this.runtime);
    this.#sweep = setInterval(this.#sweepIdle, this.#sweepMs);
    this.#sweep.unref();
  }

  /** Ends the flows idle for the listener's flowIdleTimeout (late by at most one sweep interval). */
  #sweepIdle = (): void => {
    const deadline = performance.now() - this.runtime.flowIdleTimeoutMs;
    for (const flow of this.#flows.values()) {
      if (flow.lastSeen <= deadline) flow.end(ErrorCodes.ERR_IDLE_TIMEOUT);
    }
  };

  /** Counted, published and logged at most once per reason per interval, with how many were not logged. */
  #dropped(code: ErrorCode, clientAddress: string): void {
    this.stats.reject(code);
    const refused = this.host.events.connectionRefused;
    if (refused.hasSubscribers) refused.publish({ listener: this.name, reason: code, clientAddress });
    const suppressed = this.#dropLog.pass(code);
    if (suppressed === undefined) return;
    this.#logger.warn(
      {
        listener: this.name,
        reason: code,
        clientAddress,
        hint: dropHint(code, this.name),
        suppressed,
      },
      'datagram dropped',
    );
  }
}

/**
 * The socket's name lookup: an IP address (every reply's destination) is its own answer, given at
 * once. Node's default (`dns.lookup`) answers an IP address on the next tick, which is a deferred
 * callback and a closure per reply datagram; a host name (only ever the bind address) still goes
 * to `dns.lookup`.
 */
function addressLookup(
  address: string,
  // Node passes the socket's family as a number; the types say options.
  family: number | LookupOneOptions,
  callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void,
): void {
  const ip = isIP(address);
  if (ip !== 0) callback(null, address, ip);
  else if (typeof family === 'number') lookup(address, family, callback);
  else lookup(address, family, callback);
}

function sweepInterval(rt: DatagramListenerRuntime): number {
  return Math.min(SWEEP_MAX_MS, Math.max(SWEEP_MIN_MS, Math.floor(rt.flowIdleTimeoutMs / 4)));
}

/** Which setting to change, for the drops a listener's own settings cause. */
function dropHint(code: ErrorCode, listener: string): string {
  const of = `of listener "${listener}"`;
  switch (code) {
    case ErrorCodes.ERR_FLOW_TABLE_FULL:
      return `flow table full; raise maxFlows ${of}, or lower flowIdleTimeout so idle flows end sooner`;
    case ErrorCodes.ERR_HANDSHAKE_RATE:
      return `per-source new-flow rate exceeded; raise handshakeRate.perSource ${of}, or set it to 0 to turn this guard off`;
    case ErrorCodes.ERR_ADDRESS_DENIED:
      return `the client's address is outside allow or inside deny ${of}`;
    case ErrorCodes.ERR_FLOW_PENDING:
      return 'datagrams of a flow still waiting for admission or its upstream socket beyond the few kept';
    default:
      return '';
  }
}

/** The UDP listener's picture without its socket. */
export function describeUdp(
  rt: DatagramListenerRuntime,
): Omit<ListenerSnapshot, 'address' | 'port' | 'listening' | 'stats'> {
  return {
    name: rt.name,
    kind: rt.kind,
    bind: formatHostPort(rt.host, rt.port),
    group: rt.group,
    maxFlows: rt.maxFlows,
    flowIdleTimeoutMs: rt.flowIdleTimeoutMs,
  };
}
