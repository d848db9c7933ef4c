import type { Socket } from 'node:net';
import { BindError } from '../lib/bind-error.js';
import { type ErrorCode, ErrorCodes, SwitchyardError } from '../lib/errors.js';
import { type Logger, silentLogger } from '../lib/logger.js';
import { formatHostPort } from '../lib/upstreams/address.js';
import type { Upstream } from '../lib/upstreams/upstream.js';
import { ProxyEvents } from './events.js';
import type { Listener } from './listener.js';
import { createListener, type ListenerContext, unboundSnapshot } from './listener-factory.js';
import { ignoreError } from './owned-socket.js';
import { clientAddressOf } from './proxy-header-intake.js';
import type { ProxyListener } from './proxy-listener.js';
import type { ListenerRuntime, ProxyRuntime } from './runtime.js';
import { Session, type SessionHost } from './session.js';
import { groupSnapshot, type ProxySnapshot, type SessionSnapshot } from './snapshot.js';
import type { SocketSource } from './socket-source.js';
import type { ListenerStats } from './stats.js';

/** Optional collaborators of a proxy. */
export interface ProxyOptions {
  /** Where session and listener lines go. Default: nowhere. */
  logger?: Logger;
  /** Where listeners get their sockets; by default each binds its own. */
  sockets?: SocketSource;
}

// How often a draining proxy looks whether handshakes under way have ended.
const IDLE_POLL_MS = 20;

/** How a shutdown lets sessions end. */
export interface ShutdownOptions {
  /** How long live sessions may run on after accepting stops, ms. */
  graceMs: number;
  /** Sessions still open after the grace are closed spread over this many ms, so clients do not reconnect in one storm. */
  jitterMs: number;
}

/**
 * The data plane: binds the listeners, runs one {@link Session} per connection and shuts down
 * gracefully. It takes commands ({@link apply}, the listener calls, {@link shutdown}) and gives
 * {@link events} and {@link snapshot}s; nothing outside reaches into its sessions.
 */
export class ProxyServer implements SessionHost {
  #runtime: ProxyRuntime;
  readonly logger: Logger;
  /** Everything the data plane tells: refusals, admissions, picks, session ends, handshakes, listeners. */
  readonly events: ProxyEvents;
  readonly #sockets: SocketSource | undefined;
  readonly #listeners = new Map<string, ProxyListener>();
  readonly #sessions = new Set<Session>();
  /** Every shutdown call in progress waits here; all are told when the last session ends. */
  readonly #drainWaiters: (() => void)[] = [];
  #stopping = false;
  // Set when shutdown has finished: nothing may start after it.
  #closed = false;

  readonly #listenerContext: ListenerContext;

  constructor(runtime: ProxyRuntime, options: ProxyOptions = {}) {
    this.#runtime = runtime;
    this.#sockets = options.sockets;
    const logger = options.logger ?? silentLogger;
    this.logger = logger;
    this.events = new ProxyEvents((channel, err) =>
      logger.error({ channel, err: String(err) }, 'event subscriber failed'),
    );
    this.#listenerContext = { host: this, logger, events: this.events, onAccept: this.#accept };
  }

  /** The runtime in force: new sessions start on it. */
  get runtime(): ProxyRuntime {
    return this.#runtime;
  }

  /**
   * Puts `runtime` in force for sessions accepted from now on; sessions already running keep the
   * one they started with. The object is never edited afterwards: a change is a new runtime.
   * Listeners are not bound or closed here (see the listener commands); each bound listener takes
   * its settings from the same-named listener of `runtime`.
   */
  apply(runtime: ProxyRuntime): void {
    this.#runtime = runtime;
    const handshakeMs = runtime.timeouts.handshake;
    for (const rt of runtime.listeners) this.#listeners.get(rt.name)?.update(rt, handshakeMs);
  }

  /** A plain-data picture of listeners, groups and counters. */
  snapshot(): ProxySnapshot {
    const rt = this.#runtime;
    const bound = this.#listeners;
    const listeners = rt.listeners.map((l) => bound.get(l.name)?.snapshot() ?? unboundSnapshot(l));
    for (const l of bound.values())
      if (!rt.listeners.some((r) => r.name === l.name)) listeners.push(l.snapshot());
    return {
      stopping: this.#stopping,
      sessionCount: this.#sessions.size,
      limits: { rate: rt.rateLimit !== undefined, concurrency: rt.concurrency !== undefined },
      listeners,
      groups: [...rt.groups.values()].map(groupSnapshot),
    };
  }

  /** Every open session, as plain data. */
  sessionSnapshots(): SessionSnapshot[] {
    const out: SessionSnapshot[] = [];
    for (const s of this.#sessions) out.push(s.snapshot());
    return out;
  }

  /** Binds every listener of the runtime; rejects (and unbinds what was bound) if one fails. */
  async start(): Promise<void> {
    try {
      for (const rt of this.runtime.listeners) await this.addListener(rt);
    } catch (err) {
      await Promise.all([...this.#listeners.values()].map((l) => l.close()));
      this.#listeners.clear();
      throw err;
    }
  }

  /** Binds one more listener (start, and reloads that add one); `stats` carries a moved listener's counters. */
  async addListener(rt: ListenerRuntime, stats?: ListenerStats): Promise<ProxyListener> {
    return this.adoptListener(await this.bindListener(rt, this.runtime.timeouts.handshake, stats));
  }

  /**
   * Binds a listener without registering it, so a reload can bind every new address before it
   * changes anything: a port in use then refuses the whole reload. It accepts connections from the
   * moment it is bound; close it if it is neither adopted nor put in place of another. A listener
   * moving to a new address is given the counters of the one it replaces (`stats`). Rejects with a
   * {@link BindError} naming the listener.
   */
  async bindListener(
    rt: ListenerRuntime,
    handshakeMs: number,
    stats?: ListenerStats,
  ): Promise<ProxyListener> {
    const listener = createListener(rt, handshakeMs, this.#listenerContext, stats);
    try {
      await listener.listen(this.#sockets);
    } catch (err) {
      throw new BindError(`listener "${rt.name}"`, rt.name, formatHostPort(rt.host, rt.port), err);
    }
    return listener;
  }

  /** Starts serving a listener {@link bindListener} bound. */
  adoptListener(listener: ProxyListener): ProxyListener {
    if (this.#listeners.has(listener.name))
      throw new SwitchyardError(ErrorCodes.ERR_DUPLICATE_LISTENER, `listener "${listener.name}" exists`);
    this.#listeners.set(listener.name, listener);
    this.#logListening(listener);
    return listener;
  }

  /**
   * Puts a listener {@link bindListener} bound (on a new address, or of another kind) in the place
   * of the same-named one, which then stops accepting; sessions it accepted run to their end. The
   * new socket is bound before the old one closes, so the listener is never without one.
   */
  async replaceListener(listener: ProxyListener): Promise<void> {
    const old = this.#listeners.get(listener.name);
    if (old === undefined)
      throw new SwitchyardError(ErrorCodes.ERR_UNKNOWN_LISTENER, `no listener "${listener.name}"`);
    // Map.set on an existing key keeps its place, so listings keep the configured order.
    this.#listeners.set(listener.name, listener);
    this.#logListening(listener);
    const from = old.address();
    await old.close();
    if (this.events.listenerClosed.hasSubscribers)
      this.events.listenerClosed.publish({ listener: listener.name, address: from.address, port: from.port });
    this.logger.info(
      { listener: listener.name, address: from.address, port: from.port },
      'listener moved; the old address is closed',
    );
  }

  #logListening(listener: ProxyListener): void {
    const a = listener.address();
    if (!listener.listening) {
      // A UDP listener whose socket another worker reads.
      this.logger.debug({ listener: listener.name, kind: listener.runtime.kind }, 'served by another worker');
      return;
    }
    if (this.events.listenerBound.hasSubscribers)
      this.events.listenerBound.publish({
        listener: listener.name,
        kind: listener.runtime.kind,
        address: a.address,
        port: a.port,
      });
    this.logger.info(
      { listener: listener.name, address: a.address, port: a.port, kind: listener.runtime.kind },
      'listening',
    );
  }

  /** Stops a listener accepting and forgets it; its live sessions run to their end. */
  async removeListener(name: string): Promise<void> {
    const listener = this.#listeners.get(name);
    if (listener === undefined) return;
    this.#listeners.delete(name);
    const a = listener.address();
    await listener.close();
    if (this.events.listenerClosed.hasSubscribers)
      this.events.listenerClosed.publish({ listener: name, address: a.address, port: a.port });
    this.logger.info({ listener: name }, 'listener removed');
  }

  /** The listener called `name`. */
  listener(name: string): ProxyListener {
    const l = this.#listeners.get(name);
    if (l === undefined) throw new SwitchyardError(ErrorCodes.ERR_UNKNOWN_LISTENER, `no listener "${name}"`);
    return l;
  }

  /** Every bound listener. */
  listeners(): ProxyListener[] {
    return [...this.#listeners.values()];
  }

  /** The counters of listener `name`. */
  stats(name: string): ListenerStats {
    return this.listener(name).stats;
  }

  /** Closes every session on `upstream` (health checks marked it down and the group asks for it). */
  closeSessionsOf(upstream: Upstream, code: ErrorCode): number {
    let closed = 0;
    for (const listener of this.#listeners.values()) closed += listener.closeSessionsOf(upstream, code);
    for (const session of this.#sessions) {
      if (session.upstream !== upstream) continue;
      session.close(code);
      closed++;
    }
    return closed;
  }

  /** Sessions currently open, in any phase. */
  get sessionCount(): number {
    return this.#sessions.size;
  }

  /** Every TLS listener takes session-ticket keys derived anew from the shared secret (see tls.ts). */
  renewTicketKeys(): void {
    for (const listener of this.#listeners.values()) listener.renewTicketKeys();
  }

  /** True once shutdown has begun. */
  get stopping(): boolean {
    return this.#stopping;
  }

  sessionClosed(session: Session): void {
    this.#sessions.delete(session);
    if (this.#sessions.size === 0) for (const resolve of this.#drainWaiters.splice(0)) resolve();
  }

  #accept = (listener: Listener, socket: Socket, handshakeMs?: number): void => {
    if (this.#closed) {
      // A handshake that was under way when shutdown began and outlived it: a session started now
      // would outlive a shutdown that has already resolved.
      const stats = listener.stats;
      stats.active--;
      stats.reject(ErrorCodes.ERR_SHUTDOWN);
      if (this.events.connectionRefused.hasSubscribers)
        this.events.connectionRefused.publish({
          listener: listener.name,
          reason: ErrorCodes.ERR_SHUTDOWN,
          clientAddress: clientAddressOf(socket),
        });
      socket.on('error', ignoreError);
      socket.destroy();
      return;
    }
    this.#sessions.add(new Session(this, listener.runtime, listener.stats, socket, handshakeMs));
  };

  /**
   * Stops accepting at once, lets sessions finish for up to the grace period, then closes the rest
   * spread over the jitter window. Resolves when every session has ended.
   */
  async shutdown(options: ShutdownOptions): Promise<void> {
    this.#stopping = true;
    await Promise.all([...this.#listeners.values()].map((l) => l.close()));
    this.logger.info({ sessions: this.#sessions.size, graceMs: options.graceMs }, 'shutdown: draining');
    let graceTimer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<'grace'>((resolve) => {
      graceTimer = setTimeout(() => resolve('grace'), options.graceMs);
    });
    // Connections accepted before the listeners closed and still in their TLS handshake are served
    // too: in a rolling restart or an upgrade they are clients like any other, not refusals.
    const outcome = await Promise.race([this.#idle().then(() => 'drained' as const), graceOver]);
    clearTimeout(graceTimer);
    if (outcome === 'drained') {
      this.#closed = true;
      return;
    }
    this.#closed = true;
    if (this.#sessions.size === 0) return;
    this.logger.warn({ sessions: this.#sessions.size }, 'shutdown: grace period over, closing sessions');
    const drained = new Promise<void>((resolve) => {
      this.#drainWaiters.push(resolve);
    });
    const timers: NodeJS.Timeout[] = [];
    for (const session of this.#sessions) {
      const delay = Math.floor(Math.random() * options.jitterMs);
      timers.push(setTimeout(() => session.close(ErrorCodes.ERR_SHUTDOWN), delay));
    }
    await drained;
    for (const t of timers) clearTimeout(t);
  }

  /** Resolves once no session is open and no accepted connection is still in its handshake. */
  async #idle(): Promise<void> {
    for (;;) {
      if (this.#sessions.size === 0) {
        let handshaking = 0;
        for (const l of this.#listeners.values()) handshaking += l.stats.handshaking;
        if (handshaking === 0) return;
        // Handshakes end by themselves within the handshake timeout; a shutdown may look again.
        await new Promise((resolve) => setTimeout(resolve, IDLE_POLL_MS));
      } else {
        await new Promise<void>((resolve) => this.#drainWaiters.push(resolve));
      }
    }
  }
}
