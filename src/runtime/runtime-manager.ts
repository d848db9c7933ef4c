import type { SwitchyardConfig } from '../config/types.js';
import { ErrorCodes } from '../lib/errors.js';
import type { UpstreamHealthStatus } from '../lib/health/group-health.js';
import type { HealthChangeEvent } from '../lib/health/health-event.js';
import type { Logger } from '../lib/logger.js';
import type { ProxyServer } from '../proxy/proxy.js';
import type { ProxyListener } from '../proxy/proxy-listener.js';
import type { ProxyRuntime } from '../proxy/runtime.js';
import type { UpstreamTls } from '../proxy/upstream-tls.js';
import { AdminChanges } from './admin-changes.js';
import { applyGroups } from './apply-groups.js';
import {
  appliedListeners,
  bindNewAddresses,
  type ListenerContext,
  mergeListeners,
} from './apply-listeners.js';
import type { Stoppable } from './build-admission.js';
import { type HealthFiles, loadHealthFiles, planHealth } from './build-health.js';
import { type BuildOptions, type BuiltRuntime, buildRuntime } from './build-runtime.js';
import { keepUnchanged, loadUpstreamTls } from './build-upstream-tls.js';
import { FileWatcher } from './file-watcher.js';
import { GuardUpkeep } from './guard-upkeep.js';
import { HealthService } from './health-service.js';
import { listenerSetup } from './listener-kinds/registry.js';
import { describeChange, planReload, type ReloadPlan } from './reload-plan.js';

/** What a reload did: the changes applied, or why nothing was. */
export type ReloadResult = { ok: true; changes: string[] } | { ok: false; error: string };

/** Optional collaborators of a manager. */
export interface RuntimeManagerOptions {
  /** Re-reads the configuration (file, env and flags); needed for SIGHUP and config watching. */
  load?: () => Promise<SwitchyardConfig>;
  /** The configuration file to watch when `reload.watchConfig` is on. */
  configPath?: string;
  /** Told of every reload attempt, for metrics. */
  onReload?: (result: ReloadResult) => void;
  /** Told of every health state change, for metrics. */
  onHealthChange?: (event: HealthChangeEvent) => void;
  /** In a worker process: no active checks here; the primary's results come through {@link RuntimeManager.applyHealth}. */
  remoteHealth?: boolean;
  /** How every reload builds its runtime (a worker's per-client gates ask the primary). */
  build?: BuildOptions;
}

/**
 * Owns the running configuration. A reload builds the whole new runtime first (reading every file),
 * plans the difference ({@link planReload}, pure) and applies it in order: new addresses bound,
 * groups, limits and timeouts given to the proxy as a new runtime object (sessions already running
 * keep the one they started with), listeners changed, health checking restarted. It also re-reads
 * certificates when their files change, and holds the admin API's changes ({@link AdminChanges}).
 */
export class RuntimeManager {
  readonly #proxy: ProxyServer;
  readonly #logger: Logger;
  readonly #options: RuntimeManagerOptions;
  #config: SwitchyardConfig;
  #rateLimitUpkeep: Stoppable | undefined;
  readonly #listeners: ListenerContext;
  readonly #health: HealthService;
  readonly #files: FileWatcher;
  /** The admin API's changes, through the same group calls a reload makes. */
  readonly admin: AdminChanges;
  #queue: Promise<unknown> = Promise.resolve();
  #healthFiles: HealthFiles;

  constructor(
    proxy: ProxyServer,
    config: SwitchyardConfig,
    built: BuiltRuntime,
    logger: Logger,
    options: RuntimeManagerOptions = {},
  ) {
    this.#proxy = proxy;
    this.#config = config;
    this.#logger = logger;
    this.#options = options;
    this.#rateLimitUpkeep = built.rateLimitUpkeep;
    this.#listeners = {
      proxy,
      applied: new Map(built.runtime.listeners.map((l) => [l.name, l])),
      guards: new GuardUpkeep(built.guardUpkeep),
    };
    this.#health = new HealthService({
      logger,
      closeSessionsOf: (u) => proxy.closeSessionsOf(u, ErrorCodes.ERR_UPSTREAM_DOWN),
      onHealthChange: options.onHealthChange,
      activeChecks: options.remoteHealth !== true,
    });
    this.#files = new FileWatcher({
      config: () => void this.reloadFromSource(),
      listener: (name) => void this.reloadCertificates(name),
      health: () => void this.reloadHealthCertificates(),
      upstreamTls: () => void this.reloadUpstreamTls(),
    });
    this.#healthFiles = built.healthFiles;
    this.admin = new AdminChanges({ groups: () => proxy.runtime.groups, config: () => this.#config });
    this.#swap({ outcomes: this.#restartedHealth(built) });
  }

  /** What health checking last saw of an upstream, for the admin API. */
  healthStatus(group: string, id: string): UpstreamHealthStatus | undefined {
    return this.#health.status(group, id);
  }

  /** Applies health the primary's active checks found (worker processes). */
  applyHealth(states: readonly { group: string; upstream: string; healthy: boolean }[]): void {
    this.#health.applyRemote(this.#config, this.#proxy.runtime.groups, states);
  }

  /** The configuration in force. */
  get config(): SwitchyardConfig {
    return this.#config;
  }

  /** Re-reads the configuration through `load` and applies it; an invalid one changes nothing. */
  reloadFromSource(): Promise<ReloadResult> {
    const load = this.#options.load;
    if (load === undefined)
      return Promise.resolve({ ok: false, error: 'no configuration source to reload from' });
    return this.#serialize(async () => {
      let next: SwitchyardConfig;
      try {
        next = await load();
      } catch (err) {
        return this.#report({ ok: false, error: (err as Error).message });
      }
      return this.#apply(next);
    });
  }

  /** Applies `next` as a diff; an invalid one (unreadable certificates, say) changes nothing. */
  reload(next: SwitchyardConfig): Promise<ReloadResult> {
    return this.#serialize(() => this.#apply(next));
  }

  /** Starts watching certificate files (and the config file when asked) for changes. */
  watch(): void {
    this.#files.update(this.#config, this.#options.configPath);
  }

  /** Stops file watching, health checking and every limiter's upkeep. */
  stop(): void {
    this.#files.stop();
    this.#rateLimitUpkeep?.stop();
    this.#listeners.guards.stop();
    this.#health.stop();
  }

  /** One reload at a time: a SIGHUP during a file-watch reload waits its turn. */
  #serialize<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(work, work);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  #report(result: ReloadResult, needsRestart: string[] = []): ReloadResult {
    if (result.ok) {
      const fields =
        needsRestart.length > 0 ? { changes: result.changes, needsRestart } : { changes: result.changes };
      this.#logger.info(fields, 'configuration reloaded');
    } else {
      this.#logger.error({ error: result.error }, 'reload refused; the running configuration is unchanged');
    }
    this.#options.onReload?.(result);
    return result;
  }

  async #apply(next: SwitchyardConfig): Promise<ReloadResult> {
    let built: BuiltRuntime;
    try {
      // Building first reads and checks every file, so a bad certificate refuses the whole reload.
      built = await buildRuntime(next, this.#options.build);
    } catch (err) {
      return this.#report({ ok: false, error: (err as Error).message });
    }
    const old = this.#config;
    const plan = planReload(old, next);
    const changes: string[] = [];
    let bound: Map<string, ProxyListener>;
    try {
      bound = await bindNewAddresses(this.#listeners, plan, next, built);
    } catch (err) {
      return this.#report({ ok: false, error: (err as Error).message });
    }
    this.#proxy.apply(this.#nextRuntime(plan, next, built, changes));
    try {
      await mergeListeners(this.#listeners, plan, next, built, bound, changes);
    } catch (err) {
      // Only a listener moving onto a port one of ours holds is bound this late (see
      // bindNewAddresses); if that fails, what was applied before stays.
      const serving = new Set(this.#proxy.listeners());
      await Promise.all([...bound.values()].filter((l) => !serving.has(l)).map((l) => l.close()));
      this.#swap({ listeners: appliedListeners(this.#listeners, old) });
      return this.#report({
        ok: false,
        error: `${(err as Error).message}; applied before the failure: ${changes.join('; ') || 'nothing'}`,
      });
    }
    this.#config = next;
    this.#healthFiles = built.healthFiles;
    // one runtime for the bound listeners and the restarted passive health, not one each
    this.#swap({
      listeners: appliedListeners(this.#listeners, next),
      outcomes: this.#restartedHealth(built),
    });
    this.#files.update(next, this.#options.configPath);
    const needsRestart = plan.flatMap((c) => (c.kind === 'needs-restart' ? [describeChange(c)] : []));
    return this.#report({ ok: true, changes }, needsRestart);
  }

  /**
   * The runtime after the plan's group, limit and timeout changes: a new object built from the one
   * in force, which itself is never edited (sessions hold it).
   */
  #nextRuntime(
    plan: ReloadPlan,
    next: SwitchyardConfig,
    built: BuiltRuntime,
    changes: string[],
  ): ProxyRuntime {
    const current = this.#proxy.runtime;
    const runtime: ProxyRuntime = {
      ...current,
      groups: applyGroups(plan, current.groups, next, built, changes),
      hashKeys: built.runtime.hashKeys,
      // for new connections; unchanged groups keep their sessions to resume
      upstreamTls: keepUnchanged(current.upstreamTls ?? new Map(), built.runtime.upstreamTls ?? new Map()),
    };
    for (const change of plan) {
      if (change.kind === 'rate-limit') {
        this.#rateLimitUpkeep?.stop();
        this.#rateLimitUpkeep = built.rateLimitUpkeep;
        this.#rateLimitUpkeep?.start();
        runtime.rateLimit = built.runtime.rateLimit;
        changes.push(describeChange(change));
      } else if (change.kind === 'concurrency') {
        // A live limiter takes the new cap and keeps the counts of sessions already admitted (they
        // release into it); only turning the cap on or off swaps the limiter.
        const live = current.concurrency;
        if (change.to > 0 && hasSettableCap(live)) {
          live.limit = change.to;
        } else {
          runtime.concurrency = built.runtime.concurrency;
          // a store's limiter lives as long as the process: turned on again, it takes the new cap
          if (change.to > 0 && hasSettableCap(runtime.concurrency)) runtime.concurrency.limit = change.to;
        }
        changes.push(describeChange(change));
      } else if (change.kind === 'timeouts') {
        runtime.timeouts = built.runtime.timeouts;
        runtime.connectAttempts = built.runtime.connectAttempts;
        changes.push(describeChange(change));
      }
    }
    return runtime;
  }

  /** Puts in force a new runtime: the one in force with `parts` replaced (that one is not edited). */
  #swap(parts: Partial<ProxyRuntime>): void {
    this.#proxy.apply({ ...this.#proxy.runtime, ...parts });
  }

  /** (Re)starts health checking from the build's plans; returns the passive part for the runtime. */
  #restartedHealth(built: { health: BuiltRuntime['health'] }): ProxyRuntime['outcomes'] {
    return this.#health.restart(this.#config, this.#proxy.runtime.groups, built.health);
  }

  /**
   * Certificates of one listener changed on disk: re-read them; a bad set keeps the old one. Runs
   * in the reload queue, so a reload that changes the listener's files meanwhile cannot be undone by
   * material read from the files it replaced.
   */
  reloadCertificates(listenerName: string): Promise<boolean> {
    return this.#serialize(async () => {
      const cfg = this.#config.listeners.find((l) => l.name === listenerName);
      const running = this.#listeners.applied.get(listenerName);
      const reloadFiles = cfg === undefined ? undefined : listenerSetup(cfg).reloadFiles;
      if (cfg === undefined || running === undefined || reloadFiles === undefined) return false;
      const index = this.#config.listeners.indexOf(cfg);
      try {
        const runtime = await reloadFiles(cfg, `listeners[${index}]`, running);
        if (runtime === undefined) return false;
        this.#proxy.listener(listenerName).update(runtime, this.#config.timeouts.handshake);
        this.#listeners.applied.set(listenerName, runtime);
        this.#swap({ listeners: appliedListeners(this.#listeners, this.#config) });
        this.#logger.info({ listener: listenerName }, 'certificates reloaded; new handshakes use them');
        return true;
      } catch (err) {
        this.#logger.error(
          { listener: listenerName, error: (err as Error).message },
          'certificate reload refused; the old certificates stay in use',
        );
        return false;
      }
    });
  }

  /**
   * Files named by health checks' `tls` blocks changed on disk: re-read them all and restart health
   * checking with them; a set that cannot be used keeps the checks running with the old one.
   */
  reloadHealthCertificates(): Promise<boolean> {
    return this.#serialize(async () => {
      const config = this.#config;
      let files: HealthFiles;
      try {
        files = await loadHealthFiles(config);
      } catch (err) {
        this.#logger.error(
          { error: (err as Error).message },
          'health check certificate reload refused; the checks keep the old ones',
        );
        return false;
      }
      if (sameFiles(files, this.#healthFiles)) return false;
      this.#healthFiles = files;
      this.#swap({ outcomes: this.#restartedHealth({ health: planHealth(config, files) }) });
      this.#logger.info({ files: [...files.keys()] }, 'health check certificates reloaded');
      return true;
    });
  }

  /**
   * Files named by groups' `upstreamTls` changed on disk: re-read them all; groups whose material
   * changed get a new context (and an empty session cache) for new connections, running sessions
   * keep theirs. A set that cannot be used keeps the old one everywhere.
   */
  reloadUpstreamTls(): Promise<boolean> {
    return this.#serialize(async () => {
      const current = this.#proxy.runtime.upstreamTls ?? new Map();
      let next: Map<string, UpstreamTls>;
      try {
        next = await loadUpstreamTls(this.#config, current);
      } catch (err) {
        this.#logger.error(
          { error: (err as Error).message },
          'upstream TLS reload refused; new connections keep the old certificates',
        );
        return false;
      }
      const changed = [...next].filter(([name, tls]) => current.get(name) !== tls).map(([name]) => name);
      if (changed.length === 0) return false;
      this.#swap({ upstreamTls: next });
      this.#logger.info(
        { groups: changed },
        'upstream TLS files reloaded; new upstream connections use them',
      );
      return true;
    });
  }
}

function sameFiles(a: HealthFiles, b: HealthFiles): boolean {
  if (a.size !== b.size) return false;
  for (const [path, text] of a) if (b.get(path) !== text) return false;
  return true;
}

/**
 * A limiter whose cap can change under live sessions (in memory, in Redis, or both Redis gates in
 * one), not a remote gate such as a worker's, which asks its primary.
 */
function hasSettableCap(gate: unknown): gate is { limit: number } {
  return typeof gate === 'object' && gate !== null && typeof (gate as { limit?: unknown }).limit === 'number';
}
