/**
 * The primary of a balancer with several workers. It owns what there is one of: the configuration
 * and its reloads, the active health checks, the admin API and /metrics, and (`listening-sockets.ts`)
 * the listening sockets. The workers own the connections. Every change is made in the primary first
 * (which checks it) and then in every worker; a change is reported done once all workers applied it.
 */
import { randomBytes } from 'node:crypto';
import { Counter } from 'prom-client';
import type { SwitchyardConfig } from '../config/types.js';
import type { AdminActions, ReloadResult } from '../control/admin-actions.js';
import { type AdminServer, startAdminServer } from '../control/admin-server.js';
import { clientLimitState } from '../control/dashboard/client-limits.js';
import type { ProcessLogger } from '../control/logger.js';
import { createMetrics } from '../control/metrics.js';
import { ServerHistory } from '../control/server-history.js';
import { ErrorCodes, SwitchyardError } from '../lib/errors.js';
import type { UpstreamState } from '../lib/upstreams/upstream.js';
import { ProxyServer } from '../proxy/proxy.js';
import type { ProxySnapshot, SessionSnapshot } from '../proxy/snapshot.js';
import { buildRuntime } from '../runtime/build-runtime.js';
import { FileWatcher } from '../runtime/file-watcher.js';
import { openLimitStore } from '../runtime/open-limit-store.js';
import { RuntimeManager } from '../runtime/runtime-manager.js';
import { activeHealthOf, explainBindError } from '../server/start-server.js';
import { ListeningSockets, type SocketHandle } from './listening-sockets.js';
import { mergeSnapshots } from './merge-snapshots.js';
import type { AdminCommand, UpstreamHealth, WorkerSnapshot } from './messages.js';
import { type MetricsJson, mergeMetrics } from './metrics-merge.js';
import type { Predecessor } from './predecessor.js';
import { RefusalsFromWorkers } from './refusals-from-workers.js';
import { becomeMainProcess } from './service-manager.js';
import { SharedLimits } from './shared-limits.js';
import { Successor } from './successor.js';
import { WorkerPool, type WorkerReply, type WorkerView } from './worker-pool.js';

/** What {@link startPrimary} needs. */
export interface PrimaryOptions {
  logger: ProcessLogger;
  /** How many workers to start. */
  workers: number;
  /** Re-reads the configuration (file, env and flags) for reloads; without it reloads are refused. */
  reloadSource?: () => Promise<SwitchyardConfig>;
  /** The configuration file, watched when `reload.watchConfig` is on. */
  configPath?: string;
  /** The balancer this one takes over from in an upgrade: its sockets are used instead of new ones. */
  predecessor?: Predecessor;
  /** Told when an upgrade has handed everything to the successor: this balancer should now stop. */
  onHandedOver?: () => void;
}

/** A running primary. */
export interface RunningPrimary {
  /** The configuration in force. */
  readonly config: SwitchyardConfig;
  /** The workers as the admin API shows them. */
  workers(): WorkerView[];
  /** The admin API, when configured. */
  admin: AdminServer | undefined;
  /** Reloads from the source (or applies `next`), in the primary and then every worker. */
  reload(next?: SwitchyardConfig): Promise<ReloadResult>;
  /**
   * Replaces every worker one by one (SIGUSR2, `POST /api/restart`): each new worker serves before
   * the old one stops accepting, and the old one drains within the grace in force. Resolves with
   * the number replaced; rejects with `ERR_RESTART_FAILED` when a new worker cannot start.
   */
  restart(): Promise<number>;
  /**
   * Starts this command again from the files on disk as a new balancer that takes over every
   * socket; resolves with its pid once it serves, then hands over the admin API and drains
   * (`onHandedOver`). Rejects with `ERR_UPGRADE_FAILED` (this balancer unchanged) when it cannot.
   */
  upgrade(): Promise<number>;
  /** Every worker's access log reopened (SIGUSR1). */
  reopenLogs(): void;
  /** Drains every worker within the grace in force, then stops the primary's own parts; idempotent. */
  stop(): Promise<void>;
}

const TICKET_SECRET_BYTES = 32;
const TICKET_ROTATION_MS = 60 * 60 * 1000;

// The primary's own runtime has the groups, limits and health checks but no listener: it never
// binds a port for one (`listening-sockets.ts` binds the sockets the workers listen on).
function withoutListeners(config: SwitchyardConfig): SwitchyardConfig {
  return { ...config, listeners: [] };
}

/** Starts the primary: its runtime, the workers, the admin API; rejects when a worker cannot start. */
export async function startPrimary(
  initial: SwitchyardConfig,
  options: PrimaryOptions,
): Promise<RunningPrimary> {
  const { logger } = options;
  let config = initial;
  // The per-client limits are decided here for every worker, so a shared store is connected here.
  const limitStore = await openLimitStore(config, logger);
  const build = limitStore === undefined ? undefined : { admission: limitStore.admission };
  const built = await buildRuntime(withoutListeners(config), build);
  const proxy = new ProxyServer(built.runtime, { logger });
  await proxy.start();
  // The per-client limiters live here (the workers ask them), so their upkeep runs here too.
  built.start();
  const metrics = createMetrics();
  if (limitStore !== undefined) metrics.watchLimitStore(limitStore.counts);
  const restarts = new Counter({
    name: 'switchyard_worker_restarts_total',
    help: 'Workers that exited unasked and were replaced.',
    registers: [metrics.registry],
  });
  let pool: WorkerPool | undefined;
  // One session-ticket secret for every worker, so a session resumes whichever worker a client
  // reaches; a new one every hour, for all at once (tickets of the old one then need one full handshake).
  let ticketSecret = randomBytes(TICKET_SECRET_BYTES);
  const rotation = setInterval(() => {
    ticketSecret = randomBytes(TICKET_SECRET_BYTES);
    pool?.sendTicketSecret(ticketSecret);
    logger.debug({}, 'session-ticket keys rotated');
  }, TICKET_ROTATION_MS);
  rotation.unref();
  const sockets = new ListeningSockets();
  const healthStates = (): UpstreamHealth[] =>
    [...proxy.runtime.groups.values()].flatMap((g) =>
      g.upstreams.map((u) => ({ group: g.name, upstream: u.id, healthy: u.healthy })),
    );
  const history = new ServerHistory();
  const manager = new RuntimeManager(proxy, withoutListeners(config), built, logger, {
    build,
    onReload: (result) => metrics.countReload(result.ok),
    onHealthChange: (event) => {
      metrics.countHealthTransition(event.group, event.upstream, event.to);
      history.healthChanged(event);
      if (event.check === 'active') {
        pool?.sendHealth([{ group: event.group, upstream: event.upstream, healthy: event.to === 'healthy' }]);
      }
    },
  });

  // The last figures each worker gave, and those of workers that exited (their totals still count).
  // (by pid: during a rolling restart a slot has two workers, the new one and the draining one)
  const lastSnapshot = new Map<number, ProxySnapshot>();
  const lastMetrics = new Map<number, { label: string; json: MetricsJson }>();
  const retiredSnapshots: ProxySnapshot[] = [];
  const retiredMetrics: MetricsJson[] = [];
  // The workers relay refusals per client only while a dashboard is open.
  const refusals = new RefusalsFromWorkers((on) => pool?.watchRefusals(on));
  pool = new WorkerPool({
    count: options.workers,
    logger,
    config: () => config,
    health: healthStates,
    ticketSecret: () => ticketSecret,
    socketFor: async (listener, host, port, transport) => {
      const known = sockets.known(listener, host, port, transport);
      if (known !== undefined) return known;
      const inherited = await options.predecessor?.socket(listener, host, port, transport);
      if (inherited === undefined) return sockets.handleFor(listener, host, port, transport);
      sockets.adopt(listener, host, port, transport, inherited as SocketHandle);
      return inherited;
    },
    limits: new SharedLimits(() => proxy.runtime),
    refusals,
    onRestart: () => restarts.inc(),
    onExit: (pid) => {
      const snap = lastSnapshot.get(pid);
      if (snap !== undefined) retiredSnapshots.push(snap);
      const last = lastMetrics.get(pid);
      if (last !== undefined) retiredMetrics.push(last.json);
      lastSnapshot.delete(pid);
      lastMetrics.delete(pid);
    },
  });
  const workers = pool;
  try {
    await workers.start();
  } catch (err) {
    clearInterval(rotation);
    manager.stop();
    sockets.closeAll();
    await proxy.shutdown({ graceMs: 0, jitterMs: 0 });
    await limitStore?.close();
    // Said with the listener's key and line, as one process says it (the workers do not know the file).
    throw explainBindError(err, config);
  }

  let queue: Promise<unknown> = Promise.resolve();
  const serialize = <T>(work: () => Promise<T>): Promise<T> => {
    const run = queue.then(work, work);
    queue = run.catch(() => undefined);
    return run;
  };
  const reload = (next?: SwitchyardConfig): Promise<ReloadResult> =>
    serialize(() => reloadEverywhere(next)).then((result) => {
      history.reloaded(result);
      return result;
    });
  // The primary first (which checks every file), then every worker.
  async function reloadEverywhere(next?: SwitchyardConfig): Promise<ReloadResult> {
    let full: SwitchyardConfig;
    try {
      if (next !== undefined) full = next;
      else if (options.reloadSource !== undefined) full = await options.reloadSource();
      else return { ok: false, error: 'no configuration source to reload from' };
      // Every file the workers will read is read here first, so a bad one changes nothing anywhere.
      (await buildRuntime(full)).stop();
    } catch (err) {
      const result: ReloadResult = { ok: false, error: (err as Error).message };
      metrics.countReload(false);
      logger.error({ error: result.error }, 'reload refused; the running configuration is unchanged');
      return result;
    }
    const own = await manager.reload(withoutListeners(full));
    if (!own.ok) return own;
    config = full;
    const replies = await workers.broadcast({ kind: 'reload', config: full });
    workers.sendHealth(healthStates());
    files.update(withoutListeners(config), options.configPath);
    sockets.keepOnly(config);
    const refused = replies.filter((r) => !r.ok || !(r.value as ReloadResult).ok);
    if (refused.length > 0)
      return { ok: false, error: `applied by the primary; ${describeRefusals(refused)}` };
    const first = replies[0];
    const changes = first?.ok === true ? (first.value as { changes: string[] }).changes : own.changes;
    return { ok: true, changes };
  }

  const files = new FileWatcher({
    config: () => void reload(),
    listener: () => {},
    health: () => void manager.reloadHealthCertificates(),
    // the workers connect to upstreams, and watch those files themselves
    upstreamTls: () => {},
  });
  files.update(withoutListeners(config), options.configPath);

  const everywhere = async (command: AdminCommand, inPrimary: () => void): Promise<void> => {
    inPrimary();
    const refused = (await workers.broadcast({ kind: 'admin', command })).filter((r) => !r.ok);
    if (refused.length > 0) {
      throw new SwitchyardError(
        ErrorCodes.ERR_INTERNAL,
        `applied by the primary; ${describeRefusals(refused)}`,
      );
    }
  };
  const actions: AdminActions = {
    setUpstreamState: (group, id, state) =>
      everywhere({ action: 'setUpstreamState', group, id, state }, () =>
        manager.admin.setUpstreamState(group, id, state as UpstreamState),
      ),
    setUpstreamWeight: (group, id, weight) =>
      everywhere({ action: 'setUpstreamWeight', group, id, weight }, () =>
        manager.admin.setUpstreamWeight(group, id, weight),
      ),
    addUpstream: (group, upstream) =>
      everywhere({ action: 'addUpstream', group, upstream: { ...upstream } }, () =>
        manager.admin.addUpstream(group, upstream),
      ),
    removeUpstream: (group, id) =>
      everywhere({ action: 'removeUpstream', group, id }, () => manager.admin.removeUpstream(group, id)),
    setBalancer: (group, balancer) =>
      everywhere({ action: 'setBalancer', group, balancer }, () =>
        manager.admin.setBalancer(group, balancer),
      ),
    reload: () => reload(),
  };

  let merged = mergeSnapshots([]);
  let sessions: SessionSnapshot[] = [];
  const source = {
    snapshot: () => merged,
    sessionSnapshots: () => sessions,
    refresh: async () => {
      const replies = await workers.broadcast({ kind: 'snapshot' }, { draining: true });
      for (const r of replies) if (r.ok) lastSnapshot.set(r.pid, (r.value as WorkerSnapshot).snapshot);
      merged = mergeSnapshots([...lastSnapshot.values()], retiredSnapshots);
      sessions = replies.flatMap((r) => (r.ok ? (r.value as WorkerSnapshot).sessions : []));
    },
  };
  const render = async (): Promise<string> => {
    const replies = await workers.broadcast({ kind: 'metrics' }, { draining: true });
    for (const r of replies) {
      const label = r.draining ? `${r.slot}-draining` : String(r.slot);
      if (r.ok) lastMetrics.set(r.pid, { label, json: r.value as MetricsJson });
    }
    return (await mergeMetrics(metrics.registry, [...lastMetrics.values()], retiredMetrics)).metrics();
  };

  const restart = async (): Promise<number> => {
    const graceMs = config.timeouts.shutdownGrace;
    logger.info({ workers: options.workers, graceMs }, 'rolling restart');
    try {
      const replaced = await workers.rollingRestart(graceMs);
      logger.info({ replaced }, 'rolling restart done');
      return replaced;
    } catch (err) {
      const message = `rolling restart stopped: ${(err as Error).message}; the workers not yet replaced keep serving`;
      logger.error({ error: message }, 'rolling restart failed');
      throw new SwitchyardError(ErrorCodes.ERR_RESTART_FAILED, message);
    }
  };

  // Each worker with its open sessions as of the last picture (the admin API takes one per request).
  const views = (): WorkerView[] =>
    workers
      .views()
      .map((v) => ({ ...v, sessions: v.pid === null ? 0 : (lastSnapshot.get(v.pid)?.sessionCount ?? 0) }));

  let upgrading = false;
  const upgrade = async (): Promise<number> => {
    if (upgrading)
      throw new SwitchyardError(ErrorCodes.ERR_UPGRADE_FAILED, 'an upgrade is already under way');
    upgrading = true;
    logger.info({}, 'upgrade: starting the new process');
    let successor: Successor;
    try {
      successor = await Successor.start(sockets, logger);
    } catch (err) {
      upgrading = false;
      const message = `${(err as Error).message}; this balancer keeps serving`;
      logger.error({ error: message }, 'upgrade failed');
      throw new SwitchyardError(ErrorCodes.ERR_UPGRADE_FAILED, message);
    }
    // The caller's answer goes out first; then the admin socket moves and this balancer drains.
    setImmediate(() => {
      void successor.handOverAdmin(admin?.listeningHandle()).then(() => {
        admin?.stopAccepting();
        successor.release();
        logger.info({ successor: successor.pid }, 'upgrade: handed over; draining');
        options.onHandedOver?.();
      });
    });
    return successor.pid;
  };

  // In an upgrade the admin API's socket comes last: the predecessor answers on it until this
  // balancer's workers serve. Under systemd this process becomes the main one before the old exits.
  if (options.predecessor !== undefined) becomeMainProcess(logger);
  const adminHandle = await options.predecessor?.ready();
  let admin: AdminServer | undefined;
  if (config.admin !== undefined) {
    try {
      admin = await startAdminServer({
        handle: adminHandle,
        bind: config.admin.bind,
        token: config.admin.token,
        proxy: source,
        actions,
        metrics: { render, contentType: metrics.contentType },
        workers: views,
        restart,
        upgrade,
        healthStatus: activeHealthOf(manager),
        logger,
        history,
        clientLimits: (id) => clientLimitState(proxy.runtime, id),
        refusals,
      });
    } catch (err) {
      clearInterval(rotation);
      await workers.stop(0);
      sockets.closeAll();
      manager.stop();
      files.stop();
      await limitStore?.close();
      throw err;
    }
  }

  options.predecessor?.adminListening();

  let stopped: Promise<void> | undefined;
  return {
    get config() {
      return config;
    },
    workers: views,
    admin,
    reload,
    restart,
    upgrade,
    reopenLogs: () => workers.signal('SIGUSR1'),
    stop: () => {
      // The primary's copies of the sockets go first: with the workers' closed next, new connections
      // are refused at once rather than queued for nobody.
      sockets.closeAll();
      clearInterval(rotation);
      stopped ??= workers.stop(config.timeouts.shutdownGrace).finally(async () => {
        files.stop();
        manager.stop();
        await proxy.shutdown({ graceMs: 0, jitterMs: 0 });
        await limitStore?.close();
        await admin?.close();
      });
      return stopped;
    },
  };
}

function describeRefusals(refused: WorkerReply[]): string {
  return refused
    .map((r) => {
      const why = r.ok ? (r.value as { error?: string }).error : r.error.message;
      return `worker ${r.slot} (pid ${r.pid}) refused: ${why}`;
    })
    .join('; ');
}
