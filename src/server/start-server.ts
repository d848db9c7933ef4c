/**
 * The one start path of `run`, `demo` and a worker process: a validated configuration becomes a
 * running proxy with its runtime manager, access log, metrics and (but in a worker) admin API.
 */

import { adminLabel, listenerLabel } from '../config/config-origin.js';
import type { SwitchyardConfig } from '../config/types.js';
import { type AccessLog, openAccessLog } from '../control/access-log.js';
import type { AdminActions } from '../control/admin-actions.js';
import { type AdminServer, startAdminServer } from '../control/admin-server.js';
import type { HealthStatusFn } from '../control/admin-views.js';
import { clientLimitState } from '../control/dashboard/client-limits.js';
import { refusalsFromEvents } from '../control/dashboard/refusal-source.js';
import type { ProcessLogger } from '../control/logger.js';
import { createMetrics, type Metrics } from '../control/metrics.js';
import { ServerHistory } from '../control/server-history.js';
import { BindError } from '../lib/bind-error.js';
import { ErrorCodes, SwitchyardError } from '../lib/errors.js';
import { ProxyServer } from '../proxy/proxy.js';
import type { SocketSource } from '../proxy/socket-source.js';
import { type BuildOptions, type BuiltRuntime, buildRuntime } from '../runtime/build-runtime.js';
import { openLimitStore } from '../runtime/open-limit-store.js';
import { RuntimeManager } from '../runtime/runtime-manager.js';

/** Collaborators of {@link startServer}. */
export interface ServerOptions {
  /** Where listener, session and shutdown lines go. */
  logger: ProcessLogger;
  /** Re-reads the configuration for SIGHUP and config watching; without it reloads are refused. */
  reloadSource?: () => Promise<SwitchyardConfig>;
  /** The configuration file, watched when `reload.watchConfig` is on. */
  configPath?: string;
  /**
   * A worker process of a primary: no admin API (the primary serves it) and no active health checks
   * (the primary runs them and sends their results).
   */
  worker?: boolean;
  /** Where listeners get their sockets (a worker: from its primary); by default each binds its own. */
  sockets?: SocketSource;
  /** How the runtime is built, at start and on every reload (a worker's per-client gates ask the primary). */
  build?: BuildOptions;
}

/** A running balancer. */
export interface RunningServer {
  /** The data plane, e.g. to read bound ports. */
  proxy: ProxyServer;
  /** The configuration it started with. */
  config: SwitchyardConfig;
  /** Applies reloads and runtime changes. */
  manager: RuntimeManager;
  /** The admin API, when `admin` is configured. */
  admin: AdminServer | undefined;
  /** This process's metrics. */
  metrics: Metrics;
  /**
   * Reopens the access log file (SIGUSR1, after logrotate moved it); nothing when it is stdout or
   * off. On failure the lines keep going to the old file and the error is returned.
   */
  reopenLogs(): Error | undefined;
  /** Stops accepting, drains within the configured grace, stops background timers; idempotent. */
  stop(): Promise<void>;
}

/** Builds the runtime from `config`, binds every listener and starts limiter sweeps. */
export async function startServer(config: SwitchyardConfig, options: ServerOptions): Promise<RunningServer> {
  const { logger } = options;
  // A worker's gates ask its primary, which holds the store's connection.
  const limitStore = options.worker === true ? undefined : await openLimitStore(config, logger);
  const build: BuildOptions | undefined =
    limitStore === undefined ? options.build : { ...options.build, admission: limitStore.admission };
  let built: BuiltRuntime;
  try {
    built = await buildRuntime(config, build);
  } catch (err) {
    await limitStore?.close();
    throw err;
  }
  const metrics = createMetrics();
  if (limitStore !== undefined) metrics.watchLimitStore(limitStore.counts);
  let accessLog: AccessLog;
  try {
    accessLog = openAccessLog(config.log.accessLog, config.log.level, logger);
  } catch (err) {
    built.stop();
    await limitStore?.close();
    throw new SwitchyardError(
      ErrorCodes.ERR_CONFIG_INVALID,
      `log.accessLog: cannot open ${config.log.accessLog}: ${(err as Error).message}`,
    );
  }
  const proxy = new ProxyServer(built.runtime, { logger, sockets: options.sockets });
  accessLog.attach(proxy.events);
  metrics.watch(proxy);
  built.start();
  try {
    await proxy.start();
  } catch (err) {
    built.stop();
    await limitStore?.close();
    throw explainBindError(err, config);
  }
  const history = new ServerHistory();
  const manager = new RuntimeManager(proxy, config, built, logger, {
    load: options.reloadSource,
    configPath: options.configPath,
    onReload: (result) => {
      metrics.countReload(result.ok);
      history.reloaded(result);
    },
    onHealthChange: (event) => {
      metrics.countHealthTransition(event.group, event.upstream, event.to);
      history.healthChanged(event);
    },
    remoteHealth: options.worker === true,
    build,
  });
  manager.watch();
  let admin: AdminServer | undefined;
  if (config.admin !== undefined && options.worker !== true) {
    try {
      admin = await startAdminServer({
        bind: config.admin.bind,
        token: config.admin.token,
        proxy,
        actions: adminActions(manager),
        metrics,
        healthStatus: activeHealthOf(manager),
        logger,
        history,
        refusals: refusalsFromEvents(proxy.events),
        clientLimits: (id) => clientLimitState(proxy.runtime, id),
      });
    } catch (err) {
      await proxy.shutdown({ graceMs: 0, jitterMs: 0 });
      manager.stop();
      await limitStore?.close();
      throw explainBindError(err, config);
    }
  }
  let stopped: Promise<void> | undefined;
  return {
    proxy,
    config,
    manager,
    admin,
    metrics,
    reopenLogs: () => accessLog.reopen(),
    stop: () => {
      // The grace in force is the one of the latest reload, not the one we started with.
      const timeouts = manager.config.timeouts;
      stopped ??= proxy
        .shutdown({ graceMs: timeouts.shutdownGrace, jitterMs: timeouts.shutdownJitter })
        .finally(async () => {
          manager.stop();
          // after the sessions ended: each gave its slot back first
          await limitStore?.close();
          await admin?.close();
          await new Promise<void>((resolve) => accessLog.flush(resolve));
        });
      return stopped;
    },
  };
}

/**
 * A bind failure said with the key and line of what wanted the address: `listeners[0] "edge"
 * (switchyard.yaml:12): cannot bind ...` or `admin API (admin.bind, switchyard.yaml:30): ...`.
 */
export function explainBindError(err: unknown, config: SwitchyardConfig): unknown {
  if (!(err instanceof BindError)) return err;
  if (err.listener === undefined) return err.withSubject(adminLabel(config));
  const index = config.listeners.findIndex((l) => l.name === err.listener);
  return index < 0 ? err : err.withSubject(listenerLabel(config, index));
}

/** What the admin API shows of an upstream's active checks: the last one's time, result and error. */
export function activeHealthOf(manager: RuntimeManager): HealthStatusFn {
  return (group, id) => {
    const status = manager.healthStatus(group, id);
    const { active, slowStart } = status ?? {};
    if (active === undefined && slowStart === undefined) return undefined;
    return {
      lastCheckAt: active?.lastCheckAt,
      lastResult: active?.lastResult,
      lastError: active?.lastError,
      lastChangeAt: active?.lastChangeAt,
      slowStartUntil: slowStart?.until,
    };
  };
}

/** The admin API's changes, made by the same manager that applies reloads. */
function adminActions(manager: RuntimeManager): AdminActions {
  return {
    setUpstreamState: (group, id, state) => manager.admin.setUpstreamState(group, id, state),
    setUpstreamWeight: (group, id, weight) => manager.admin.setUpstreamWeight(group, id, weight),
    addUpstream: (group, upstream) => manager.admin.addUpstream(group, upstream),
    removeUpstream: (group, id) => manager.admin.removeUpstream(group, id),
    setBalancer: (group, balancer) => manager.admin.setBalancer(group, balancer),
    reload: () => manager.reloadFromSource(),
  };
}
