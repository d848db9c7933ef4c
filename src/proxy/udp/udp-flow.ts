import { createSocket, type Socket as DgramSocket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { performance } from 'node:perf_hooks';
import { type ErrorCode, ErrorCodes } from '../../lib/errors.js';
import type { Upstream } from '../../lib/upstreams/upstream.js';
import type { UpstreamGroup } from '../../lib/upstreams/upstream-group.js';
import { type AdmissionSubject, admit, announceAdmission } from '../admission.js';
import type { ConcurrencyGate, DatagramListenerRuntime, ProxyRuntime } from '../runtime.js';
import type { SessionHost } from '../session.js';
import type { ListenerStats } from '../stats.js';

/** Datagrams a flow keeps while it waits for admission and its upstream socket; more are dropped. */
const PENDING_DATAGRAMS = 8;

/** What a flow needs of the listener that holds it. */
export interface FlowOwner {
  /** Logger and event stream (admission reports through them). */
  readonly host: SessionHost;
  readonly stats: ListenerStats;
  /** Sends an upstream's reply to the flow's client from the listener's socket. */
  replyToClient(flow: UdpFlow, datagram: Buffer): void;
  /** A new flow was refused before it reached an upstream: counted, logged, forgotten. */
  flowRefused(flow: UdpFlow, code: ErrorCode): void;
  /** A datagram of a waiting flow was dropped. */
  datagramDropped(flow: UdpFlow, code: ErrorCode): void;
  /** The flow ended (after it was admitted); the owner forgets it. */
  flowEnded(flow: UdpFlow): void;
}

enum State {
  Admission = 1,
  Connecting = 2,
  Open = 3,
  Closed = 4,
}

/** The flow a connected upstream socket belongs to, so its handlers are module-level functions. */
const FLOW = Symbol('udp flow');
type FlowSocket = DgramSocket & { [FLOW]: UdpFlow };

/**
 * The datagrams of one client address and port, pinned to one upstream through one connected
 * socket. Admission (per-client rate, then concurrency) runs once, when the flow starts; a flow
 * ends when its listener's sweep finds it idle, when its upstream answers with ICMP unreachable
 * (ECONNREFUSED on the connected socket) or goes down, or at shutdown, and then publishes one
 * record like a session's.
 */
export class UdpFlow implements AdmissionSubject {
  readonly key: string;
  readonly clientAddress: string;
  readonly clientPort: number;
  readonly owner: FlowOwner;
  readonly runtime: ProxyRuntime;
  readonly listener: DatagramListenerRuntime;
  readonly clientId = '';
  readonly group: UpstreamGroup | null;
  /** The per-client gates count a flow by its source address (the port changes per socket). */
  readonly admissionKey: string;
  upstream: Upstream | null = null;
  #socket: FlowSocket | null = null;
  #state = State.Admission;
  #pending: Buffer[] | null = [];
  #held: ConcurrencyGate | null = null;
  readonly startedAt = performance.now();
  /** performance.now() of the last datagram either way; the sweep ends flows idle too long. */
  lastSeen = this.startedAt;
  packetsFromClient = 0;
  bytesFromClient = 0;
  packetsToClient = 0;
  bytesToClient = 0;
  termination: ErrorCode | 'OK' = 'OK';

  constructor(
    owner: FlowOwner,
    runtime: ProxyRuntime,
    listener: DatagramListenerRuntime,
    key: string,
    clientAddress: string,
    clientPort: number,
  ) {
    this.owner = owner;
    this.runtime = runtime;
    this.listener = listener;
    this.key = key;
    this.clientAddress = clientAddress;
    this.clientPort = clientPort;
    this.admissionKey = clientAddress;
    this.group = runtime.groups.get(listener.group) ?? null;
  }

  get host(): SessionHost {
    return this.owner.host;
  }

  /** True once the flow is over (admission answers arriving then are dropped). */
  get closing(): boolean {
    return this.#state === State.Closed;
  }

  /** True while datagrams go straight to the upstream. */
  get open(): boolean {
    return this.#state === State.Open;
  }

  /** Starts admission with the flow's first datagram. */
  start(first: Buffer): void {
    this.#pending!.push(first);
    this.packetsFromClient++;
    this.bytesFromClient += first.length;
    if (this.group === null) {
      this.#refuse(ErrorCodes.ERR_UNKNOWN_GROUP);
      return;
    }
    admit(this);
  }

  /** A datagram from the client. */
  fromClient(datagram: Buffer, now: number): void {
    this.lastSeen = now;
    if (this.#state === State.Open) {
      this.packetsFromClient++;
      this.bytesFromClient += datagram.length;
      this.#socket!.send(datagram);
      return;
    }
    if (this.#state === State.Closed) return;
    const pending = this.#pending!;
    if (pending.length >= PENDING_DATAGRAMS) {
      this.owner.datagramDropped(this, ErrorCodes.ERR_FLOW_PENDING);
      return;
    }
    this.packetsFromClient++;
    this.bytesFromClient += datagram.length;
    pending.push(datagram);
  }

  fail(code: ErrorCode): void {
    this.#refuse(code);
  }

  admitted(held: ConcurrencyGate | null): void {
    this.#held = held;
    announceAdmission(this);
    const group = this.group!;
    let upstream: Upstream;
    try {
      // A client keeps one key for every flow, so consistent-hash keeps it on one upstream.
      upstream = group.pick(this.clientAddress);
    } catch {
      this.#refuse(ErrorCodes.ERR_NO_HEALTHY_UPSTREAM);
      return;
    }
    this.upstream = upstream;
    const picked = this.host.events.upstreamPicked;
    if (picked.hasSubscribers)
      picked.publish({ listener: this.listener.name, group: group.name, upstream: upstream.id, attempt: 1 });
    this.#state = State.Connecting;
    const socket = createSocket(isIPv6(upstream.host) ? 'udp6' : 'udp4') as FlowSocket;
    socket[FLOW] = this;
    this.#socket = socket;
    socket.on('error', onUpstreamError);
    socket.on('message', onUpstreamMessage);
    socket.connect(upstream.port, upstream.host, () => onUpstreamConnected(socket));
  }

  /** The connected socket is ready: the datagrams that waited go out. */
  connected(): void {
    if (this.#state !== State.Connecting) return;
    this.group!.connected(this.upstream!);
    this.#state = State.Open;
    this.owner.stats.proxied++;
    const socket = this.#socket!;
    for (const d of this.#pending!) socket.send(d);
    this.#pending = null;
  }

  /** A reply from the upstream goes back to the client. */
  fromUpstream(datagram: Buffer): void {
    if (this.#state !== State.Open) return;
    this.lastSeen = performance.now();
    // The first reply is what a TCP connect is to passive health: the upstream answers.
    if (this.packetsToClient === 0)
      this.runtime.outcomes.get(this.group!.name)?.recordSuccess(this.upstream!);
    this.packetsToClient++;
    this.bytesToClient += datagram.length;
    this.owner.replyToClient(this, datagram);
  }

  /** The upstream socket failed: ICMP unreachable shows as ECONNREFUSED on a connected socket. */
  upstreamFailed(err: NodeJS.ErrnoException): void {
    if (this.#state === State.Closed) return;
    if (err.code === 'EMFILE' || err.code === 'ENFILE') {
      // Out of file descriptors is this process's limit, not the upstream's fault: passive health
      // is not told, and the flow is refused like one beyond maxFlows.
      this.end(ErrorCodes.ERR_FLOW_TABLE_FULL);
      return;
    }
    const outcomes = this.runtime.outcomes.get(this.group!.name);
    if (this.#state === State.Connecting) {
      outcomes?.recordFailure(this.upstream!, ErrorCodes.ERR_UPSTREAM_CONNECT);
      this.group!.failed(this.upstream!);
      this.upstream = null;
      this.#close();
      this.#refuse(ErrorCodes.ERR_UPSTREAM_CONNECT);
      return;
    }
    outcomes?.recordFailure(this.upstream!, ErrorCodes.ERR_UPSTREAM_CONNECT);
    this.end(ErrorCodes.ERR_UPSTREAM_CONNECT);
  }

  /**
   * Ends the flow with `code` ('OK' is not used: a flow has no clean end of its own): its upstream
   * released with the flow's bytes, its concurrency slot returned, its record published.
   */
  end(code: ErrorCode): void {
    if (this.#state === State.Closed) return;
    if (this.#state !== State.Open) {
      // Still in admission or connecting: nothing reached an upstream, so there is no record.
      if (this.#state === State.Connecting) this.group!.cancelled(this.upstream!);
      this.#close();
      this.#refuse(code);
      return;
    }
    this.termination = code;
    this.#state = State.Closed;
    this.#close();
    this.group!.release(this.upstream!, this.bytesFromClient, this.bytesToClient);
    this.#held?.release(this.admissionKey);
    this.#held = null;
    this.owner.flowEnded(this);
    this.#publish();
  }

  #refuse(code: ErrorCode): void {
    if (this.#state === State.Closed) return;
    this.#state = State.Closed;
    this.#pending = null;
    this.#held?.release(this.admissionKey);
    this.#held = null;
    this.owner.flowRefused(this, code);
  }

  #close(): void {
    const socket = this.#socket;
    if (socket === null) return;
    this.#socket = null;
    socket.close();
  }

  #publish(): void {
    const ended = this.host.events.sessionEnded;
    if (!ended.hasSubscribers) return;
    const upstream = this.upstream;
    ended.publish({
      listener: this.listener.name,
      clientAddress: this.clientAddress,
      clientPort: this.clientPort,
      clientId: '',
      org: '',
      group: this.group?.name ?? '',
      upstream: upstream?.id ?? '',
      upstreamAddress: upstream?.address ?? '',
      bytesFromClient: this.bytesFromClient,
      bytesToClient: this.bytesToClient,
      packetsFromClient: this.packetsFromClient,
      packetsToClient: this.packetsToClient,
      durationMs: performance.now() - this.startedAt,
      handshakeMs: 0,
      connectMs: 0,
      connectAttempts: 1,
      tlsVersion: '',
      tlsCipher: '',
      serverName: '',
      alpn: '',
      termination: this.termination,
    });
  }
}

function onUpstreamMessage(this: FlowSocket, datagram: Buffer): void {
  this[FLOW].fromUpstream(datagram);
}

function onUpstreamError(this: FlowSocket, err: Error): void {
  this[FLOW].upstreamFailed(err as NodeJS.ErrnoException);
}

function onUpstreamConnected(socket: FlowSocket): void {
  socket[FLOW].connected();
}
