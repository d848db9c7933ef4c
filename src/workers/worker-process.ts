/**
 * A data-plane worker: forked by the primary, it waits for the configuration, runs
 * the proxy on listening sockets the primary shares with every worker, and carries out the
 * primary's commands (reloads, admin changes, health results) and questions (snapshots, metrics).
 * It has no admin API, watches no configuration file and runs no active health checks.
 */

import type { SwitchyardConfig } from '../config/types.js';
import { refusalsFromEvents } from '../control/dashboard/refusal-source.js';
import { createLogger, type ProcessLogger } from '../control/logger.js';
import { BindError } from '../lib/bind-error.js';
import { ErrorCodes, SwitchyardError } from '../lib/errors.js';
import type { UpstreamState } from '../lib/upstreams/upstream.js';
import type { SocketSource, Transport } from '../proxy/socket-source.js';
import { shareTicketKeys } from '../proxy/tls.js';
import { logReopen } from '../server/process-signals.js';
import { type RunningServer, startServer } from '../server/start-server.js';
import { LimitsFromPrimary } from './limits-from-primary.js';
import {
  type AdminCommand,
  type FromWorker,
  isToWorker,
  type ToWorker,
  type WireError,
  type WorkerCommand,
  type WorkerSnapshot,
} from './messages.js';
import { RefusalRelay } from './refusal-relay.js';

/** Runs this process as a worker until the primary stops it or goes away. */
export function runWorker(): void {
  let server: RunningServer | undefined;
  let logger: ProcessLogger | undefined;
  const send = (message: FromWorker): void => {
    if (process.connected) process.send?.(message);
  };
  const refusals = new RefusalRelay(send);
  const stop = (graceMs?: number): void => {
    refusals.stop();
    const stopped = server?.stop() ?? Promise.resolve();
    // The grace is the primary's to give; past it (and a little), this process goes anyway.
    if (graceMs !== undefined) setTimeout(() => process.exit(0), graceMs + 1000).unref();
    void stopped.finally(() =>
      logger === undefined ? process.exit(0) : logger.flush(() => process.exit(0)),
    );
  };
  // The channel keeps this worker alive, whatever it serves, until the primary stops it or goes away.
  process.channel?.ref();
  // A send while the primary goes away fails on the channel; the 'disconnect' below handles that.
  process.on('error', () => {});
  const sockets = new SocketsFromPrimary(send);
  const limits = new LimitsFromPrimary(send);
  process.on('message', (message: unknown, handle: unknown) => {
    if (!isToWorker(message)) return;
    const m = message as ToWorker;
    switch (m.type) {
      case 'socket-reply':
        sockets.settle(m, handle);
        break;
      case 'limit-replies':
        limits.settle(m.replies);
        break;
      case 'start':
        logger = createLogger(m.config.log.level, m.config.log.format);
        start(m.config, logger, m.ticketSecret, sockets, limits).then(
          (running) => {
            server = running;
            server.manager.applyHealth(m.health);
            // Its "listening" lines go out before the primary says the balancer started.
            logger?.flush(() => send({ type: 'ready' }));
          },
          (err: unknown) => {
            send({ type: 'start-failed', error: wireError(err) });
            process.exitCode = 1;
            process.disconnect();
          },
        );
        break;
      case 'request':
        if (server === undefined) {
          send({
            type: 'reply',
            id: m.id,
            ok: false,
            error: { code: 'ERR_INTERNAL', message: 'worker not started' },
          });
          return;
        }
        answer(server, m.command).then(
          (value) => send({ type: 'reply', id: m.id, ok: true, value }),
          (err: unknown) => send({ type: 'reply', id: m.id, ok: false, error: wireError(err) }),
        );
        break;
      case 'health':
        server?.manager.applyHealth(m.states);
        break;
      case 'ticket-secret':
        shareTicketKeys(Buffer.from(m.secret, 'base64'));
        server?.proxy.renewTicketKeys();
        break;
      case 'watch-refusals':
        if (m.on && server !== undefined) refusals.start(refusalsFromEvents(server.proxy.events));
        else refusals.stop();
        break;
      case 'stop':
        stop(m.graceMs);
        break;
    }
  });
  // Messages that come before a listener is registered are lost (the primary could write before this
  // module has run), so the primary waits for this one before sending the configuration.
  send({ type: 'listening-for-commands' });
  // The primary is gone (crashed, or killed with SIGKILL): nobody will stop this worker, so it drains and exits.
  process.on('disconnect', () => {
    limits.failAll();
    stop(server?.manager.config.timeouts.shutdownGrace ?? 0);
  });
  // Signals go to the primary, which stops the workers in order; a terminal's Ctrl-C reaches every
  // process of the group, and must not cut the workers' drain short.
  process.on('SIGINT', () => {});
  process.on('SIGTERM', () => stop(server?.manager.config.timeouts.shutdownGrace ?? 0));
  process.on('SIGHUP', () => {});
  process.on('SIGUSR2', () => {});
  // The primary forwards SIGUSR1 (logrotate's postrotate) to every worker.
  process.on('SIGUSR1', () => {
    const failure = server?.reopenLogs();
    if (failure !== undefined && logger !== undefined) logReopen(failure, logger);
  });
}

async function start(
  config: SwitchyardConfig,
  logger: ProcessLogger,
  ticketSecret: string,
  sockets: SocketSource,
  limits: LimitsFromPrimary,
): Promise<RunningServer> {
  // A session resumed on another worker than the one that issued its ticket must still resume.
  shareTicketKeys(Buffer.from(ticketSecret, 'base64'));
  return startServer(config, { logger, worker: true, sockets, build: { admission: limits.admission } });
}

async function answer(server: RunningServer, command: WorkerCommand): Promise<unknown> {
  switch (command.kind) {
    case 'reload':
      return server.manager.reload(command.config);
    case 'admin':
      applyAdmin(server, command.command);
      return true;
    case 'snapshot':
      return {
        snapshot: server.proxy.snapshot(),
        sessions: server.proxy.sessionSnapshots(),
      } satisfies WorkerSnapshot;
    case 'metrics':
      return server.metrics.registry.getMetricsAsJSON();
  }
}

function applyAdmin(server: RunningServer, c: AdminCommand): void {
  const admin = server.manager.admin;
  switch (c.action) {
    case 'setUpstreamState':
      admin.setUpstreamState(c.group, c.id, c.state as UpstreamState);
      return;
    case 'setUpstreamWeight':
      admin.setUpstreamWeight(c.group, c.id, c.weight);
      return;
    case 'addUpstream':
      admin.addUpstream(c.group, c.upstream as unknown as Parameters<typeof admin.addUpstream>[1]);
      return;
    case 'removeUpstream':
      admin.removeUpstream(c.group, c.id);
      return;
    case 'setBalancer':
      admin.setBalancer(c.group, c.balancer);
      return;
  }
}

/** Listening sockets asked of the primary, which binds each once and hands the same one to every worker. */
class SocketsFromPrimary implements SocketSource {
  readonly #send: (message: FromWorker) => void;
  readonly #pending = new Map<
    number,
    { resolve(handle: object | undefined): void; reject(err: Error): void; transport: Transport }
  >();
  #nextId = 1;

  constructor(send: (message: FromWorker) => void) {
    this.#send = send;
  }

  listeningHandle(listener: string, host: string, port: number): Promise<object> {
    return this.#ask(listener, host, port, 'tcp') as Promise<object>;
  }

  datagramHandle(listener: string, host: string, port: number): Promise<object | undefined> {
    return this.#ask(listener, host, port, 'udp');
  }

  #ask(listener: string, host: string, port: number, transport: Transport): Promise<object | undefined> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, transport });
      this.#send({ type: 'socket-request', id, listener, host, port, transport });
    });
  }

  settle(reply: Extract<ToWorker, { type: 'socket-reply' }>, handle: unknown): void {
    const p = this.#pending.get(reply.id);
    if (p === undefined) return;
    this.#pending.delete(reply.id);
    if (reply.ok && typeof handle === 'object' && handle !== null) p.resolve(handle);
    else if (reply.ok && reply.elsewhere === true && p.transport === 'udp') p.resolve(undefined);
    else if (reply.ok) p.reject(new SwitchyardError(ErrorCodes.ERR_INTERNAL, 'the primary sent no socket'));
    // The system's code (EADDRINUSE, ...) as a bind error would carry it, for the listener's message.
    else p.reject(Object.assign(new Error(reply.error.message), { code: reply.error.errno }));
  }
}

function wireError(err: unknown): WireError {
  if (err instanceof BindError) {
    return {
      code: err.code,
      message: err.message,
      bind: { listener: err.listener, address: err.address, errno: err.errno },
    };
  }
  if (err instanceof SwitchyardError) return { code: err.code, message: err.message };
  return { code: 'ERR_INTERNAL', message: err instanceof Error ? err.message : String(err) };
}
