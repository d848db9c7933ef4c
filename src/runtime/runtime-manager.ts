import { type StatWatcher, unwatchFile, watchFile } from 'node:fs';
import { bindOverlap } from '../config/bind-conflicts.js';
import { listenerLabel } from '../config/config-origin.js';
import { HEALTH_TLS_FILE_KEYS, healthTlsBlocks } from '../config/health-check.js';
import type { GroupConfig, ListenerConfig, SwitchyardConfig, TlsListenerConfig } from '../config/types.js';
import { createBalancer } from '../lib/balancers/registry.js';
import { BindError } from '../lib/bind-error.js';
import { ErrorCodes, SwitchyardError } from '../lib/errors.js';
import {
  GroupHealth,
  type GroupHealthOptions,
  type UpstreamHealthStatus,
} from '../lib/health/group-health.js';
import type { HealthChangeEvent } from '../lib/health/health-event.js';
import type { Logger } from '../lib/logger.js';
import { ConcurrencyLimiter } from '../lib/ratelimit/concurrency-limiter.js';
import type { UpstreamOptions, UpstreamState } from '../lib/upstreams/upstream.js';
import type { UpstreamGroup } from '../lib/upstreams/upstream-group.js';
import type { Listener } from '../proxy/listener.js';
import type { ProxyServer } from '../proxy/proxy.js';
import type { ListenerRuntime } from '../proxy/runtime.js';
import type { ListenerStats } from '../proxy/stats.js';
import type { Stoppable } from './build-admission.js';
import { type HealthFiles, loadHealthFiles, planHealth } from './build-health.js';
import { type BuiltRuntime, buildRuntime, loadTlsMaterial } from './build-runtime.js';

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
}

/**
 * Owns the running configuration: applies a new one as a diff without dropping live connections,
 * re-reads certificates when their files change, and offers the runtime changes the admin API
 * makes. Reloads and API calls change upstreams through the same group methods, so both paths
 * keep counters and live sessions alike.
 */
export class RuntimeManager {
  readonly #proxy: ProxyServer;
  readonly #logger: Logger;
  readonly #options: RuntimeManagerOptions;
  #config: SwitchyardConfig;
  #rateLimitUpkeep: Stoppable | undefined;
  readonly #guardUpkeep: Map<string, Stoppable>;
  readonly #watched = new Map<string, StatWatcher>();
  #queue: Promise<unknown> = Promise.resolve();
  readonly #health = new Map<string, GroupHealth>();
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
    this.#guardUpkeep = new Map(built.guardUpkeep);
    this.#healthFiles = built.healthFiles;
    this.#restartHealth(built.health);
  }

  /** What health checking last saw of an upstream, for the admin API. */
  healthStatus(group: string, id: string): UpstreamHealthStatus | undefined {
    return this.#health.get(group)?.status(id);
  }

  /**
   * (Re)starts health checking for every group from its plan. Restarting on each reload is cheap and
   * loses nothing: health lives on the upstreams, and a checker keeps an unhealthy upstream out until
   * its first check says otherwise.
   */
  #restartHealth(plans: ReadonlyMap<string, GroupHealthOptions>): void {
    const rt = this.#proxy.runtime;
    for (const h of this.#health.values()) h.stop();
    this.#health.clear();
    rt.outcomes.clear();
    for (const [name, cfg] of Object.entries(this.#config.groups)) {
      const group = rt.groups.get(name);
      if (group === undefined) continue;
      const plan = plans.get(name);
      if (plan?.active === undefined) {
        // Nobody checks this group any more: an upstream a dropped check left unhealthy would
        // otherwise stay out of rotation for good.
        for (const u of group.upstreams) if (!u.healthy) group.setHealthy(u.id, true);
      }
      if (plan === undefined) continue;
      const health = new GroupHealth(group, plan);
      health.on('change', (event) => this.#onHealthChange(event, cfg.shutdownSessionsOnDown));
      this.#health.set(name, health);
      rt.outcomes.set(name, health);
      health.start();
    }
  }

  #onHealthChange(event: HealthChangeEvent, shutdownSessions: boolean): void {
    const fields = {
      group: event.group,
      upstream: event.upstream,
      check: event.check,
      from: event.from,
      to: event.to,
      reason: event.reason,
    };
    if (event.to === 'healthy') this.#logger.info(fields, 'upstream health changed');
    else this.#logger.warn(fields, 'upstream health changed');
    this.#options.onHealthChange?.(event);
    if (shutdownSessions && event.to === 'unhealthy') {
      const u = this.#proxy.runtime.groups.get(event.group)?.get(event.upstream);
      if (u !== undefined) this.#proxy.closeSessionsOf(u, ErrorCodes.ERR_UPSTREAM_DOWN);
    }
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
    this.#rewatch();
  }

  /** Stops file watching and every limiter's upkeep. */
  stop(): void {
    for (const path of this.#watched.keys()) unwatchFile(path);
    this.#watched.clear();
    this.#rateLimitUpkeep?.stop();
    for (const g of this.#guardUpkeep.values()) g.stop();
    for (const h of this.#health.values()) h.stop();
    this.#health.clear();
  }

  // --- the admin API's changes: the same group calls a reload makes ---

  /** Sets an upstream's administrative state. */
  setUpstreamState(group: string, id: string, state: UpstreamState): void {
    this.#group(group).setState(id, state);
  }

  /** Sets an upstream's weight. */
  setUpstreamWeight(group: string, id: string, weight: number): void {
    this.#group(group).setWeight(id, weight);
  }

  /** Adds an upstream to a group. */
  addUpstream(group: string, upstream: UpstreamOptions): void {
    this.#group(group).add(upstream);
  }

  /** Removes an upstream; its live sessions finish. */
  removeUpstream(group: string, id: string): void {
    this.#group(group).remove(id);
  }

  /** Swaps a group's balancer; counters are kept. */
  setBalancer(group: string, balancer: string): void {
    const g = this.#group(group);
    const cfg = this.#config.groups[group];
    g.setBalancer(createBalancer(balancer, { boundedLoad: cfg?.boundedLoad ?? 0 }));
  }

  #group(name: string): UpstreamGroup {
    const g = this.#proxy.runtime.groups.get(name);
    if (g === undefined) throw new SwitchyardError(ErrorCodes.ERR_UNKNOWN_GROUP, `no group "${name}"`);
    return g;
  }

  /** One reload at a time: a SIGHUP during a file-watch reload waits its turn. */
  #serialize<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(work, work);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  #report(result: ReloadResult): ReloadResult {
    if (result.ok) this.#logger.info({ changes: result.changes }, 'configuration reloaded');
    else
      this.#logger.error({ error: result.error }, 'reload refused; the running configuration is unchanged');
    this.#options.onReload?.(result);
    return result;
  }

  async #apply(next: SwitchyardConfig): Promise<ReloadResult> {
    let built: BuiltRuntime;
    try {
      // Building first reads and checks every file, so a bad certificate refuses the whole reload.
      built = await buildRuntime(next);
    } catch (err) {
      return this.#report({ ok: false, error: (err as Error).message });
    }
    const old = this.#config;
    const rt = this.#proxy.runtime;
    const changes: string[] = [];
    let bound: Map<string, Listener>;
    try {
      bound = await this.#bindNewAddresses(old, next, built);
    } catch (err) {
      return this.#report({ ok: false, error: (err as Error).message });
    }

    for (const [name, g] of Object.entries(next.groups)) {
      const group = rt.groups.get(name);
      const before = old.groups[name];
      if (group === undefined || before === undefined) {
        rt.groups.set(name, built.runtime.groups.get(name)!);
        changes.push(`group ${name} added`);
      } else {
        mergeGroup(group, before, g, changes);
      }
    }
    for (const name of Object.keys(old.groups)) {
      if (next.groups[name] !== undefined) continue;
      rt.groups.delete(name);
      changes.push(`group ${name} removed (live sessions finish)`);
    }
    rt.hashKeys = built.runtime.hashKeys;

    if (!sameJson(old.rateLimit, next.rateLimit)) {
      this.#rateLimitUpkeep?.stop();
      this.#rateLimitUpkeep = built.rateLimitUpkeep;
      this.#rateLimitUpkeep?.start();
      rt.rateLimit = built.runtime.rateLimit;
      changes.push('rate limit replaced');
    }
    if (old.concurrency.perClient !== next.concurrency.perClient) {
      // Raising or lowering a live limiter keeps the counts of sessions already admitted.
      if (rt.concurrency instanceof ConcurrencyLimiter && next.concurrency.perClient > 0) {
        rt.concurrency.limit = next.concurrency.perClient;
      } else {
        rt.concurrency = built.runtime.concurrency;
      }
      changes.push(`concurrency per client ${old.concurrency.perClient} -> ${next.concurrency.perClient}`);
    }
    if (!sameJson(old.timeouts, next.timeouts) || old.connect.attempts !== next.connect.attempts) {
      rt.timeouts = built.runtime.timeouts;
      rt.connectAttempts = built.runtime.connectAttempts;
      changes.push('timeouts and connect attempts updated');
    }

    try {
      await this.#mergeListeners(old, next, built, bound, changes);
    } catch (err) {
      // Only a listener moving onto a port one of ours holds is bound this late (see
      // #bindNewAddresses); if that fails, what was applied before stays.
      const serving = new Set(this.#proxy.listeners());
      await Promise.all([...bound.values()].filter((l) => !serving.has(l)).map((l) => l.close()));
      rt.listeners = this.#proxy.listeners().map((l) => l.runtime);
      return this.#report({
        ok: false,
        error: `${(err as Error).message}; applied before the failure: ${changes.join('; ') || 'nothing'}`,
      });
    }
    rt.listeners = this.#proxy.listeners().map((l) => l.runtime);
    this.#config = next;
    this.#healthFiles = built.healthFiles;
    this.#restartHealth(built.health);
    this.#rewatch();
    return this.#report({ ok: true, changes });
  }

  /**
   * Binds the addresses of added and moved listeners before anything else changes, so a port in use
   * refuses the reload whole; a moved listener's new socket shares the counters of its old one. A
   * listener moving onto an address that collides with a socket of ours (its own old one included)
   * cannot be bound until that one lets go, so it is left for #mergeListeners to bind last.
   */
  async #bindNewAddresses(
    old: SwitchyardConfig,
    next: SwitchyardConfig,
    built: BuiltRuntime,
  ): Promise<Map<string, Listener>> {
    const bound = new Map<string, Listener>();
    const held = this.#proxy.listeners().map((l) => ({ host: l.address().address, port: l.address().port }));
    const oldByName = new Map(old.listeners.map((l) => [l.name, l]));
    for (let i = 0; i < next.listeners.length; i++) {
      const cfg = next.listeners[i];
      const live = this.#live(cfg.name);
      if (keepsSocket(oldByName.get(cfg.name), cfg) && live !== undefined) continue;
      const fresh = built.runtime.listeners[i];
      if (held.some((h) => bindOverlap(h, fresh) !== undefined)) continue;
      try {
        bound.set(cfg.name, await this.#proxy.bindListener(fresh, next.timeouts.handshake, live?.stats));
      } catch (err) {
        await Promise.all([...bound.values()].map((l) => l.close()));
        throw explainBindError(err, next, i);
      }
    }
    return bound;
  }

  /**
   * Applies the listeners of `next` in an order that never leaves a kept listener without a socket:
   * settings (and kind) changed in place; early-bound listeners put in place of the ones they move
   * (whose sockets then close) or added; removed ones closed; and last the ones that wait for a
   * port those steps free, after letting go of their own old sockets (so two can swap ports).
   */
  async #mergeListeners(
    old: SwitchyardConfig,
    next: SwitchyardConfig,
    built: BuiltRuntime,
    bound: Map<string, Listener>,
    changes: string[],
  ): Promise<void> {
    const proxy = this.#proxy;
    const handshakeMs = next.timeouts.handshake;
    const oldByName = new Map(old.listeners.map((l) => [l.name, l]));
    const late: number[] = [];
    for (let i = 0; i < next.listeners.length; i++) {
      const cfg = next.listeners[i];
      const fresh = built.runtime.listeners[i];
      const before = oldByName.get(cfg.name);
      const listener = this.#live(cfg.name);
      if (!keepsSocket(before, cfg) || listener === undefined) {
        const early = bound.get(cfg.name);
        if (early === undefined) {
          late.push(i);
          continue;
        }
        this.#replaceGuard(cfg.name, built);
        if (listener === undefined) proxy.adoptListener(early);
        else await proxy.replaceListener(early);
        changes.push(listenerMoved(before, cfg, listener !== undefined));
        continue;
      }
      let runtime: ListenerRuntime = fresh;
      if (sameJson(before.handshakeRate, cfg.handshakeRate)) {
        // Keep the guard that is running, with its per-source history.
        runtime = { ...fresh, sourceGuard: listener.runtime.sourceGuard };
      } else {
        this.#replaceGuard(cfg.name, built);
      }
      if (
        runtime.kind === 'tls' &&
        listener.runtime.kind === 'tls' &&
        sameJson(listener.runtime.tls, runtime.tls)
      ) {
        runtime = { ...runtime, tls: listener.runtime.tls };
      }
      listener.update(runtime, handshakeMs);
      if (before.kind !== cfg.kind) {
        changes.push(`listener ${cfg.name} changed from ${before.kind} to ${cfg.kind} on the same socket`);
      } else if (!sameJson(before, cfg)) {
        changes.push(`listener ${cfg.name} updated`);
      }
    }
    for (const l of old.listeners) {
      if (next.listeners.some((n) => n.name === l.name)) continue;
      await this.#dropListener(l.name);
      changes.push(`listener ${l.name} removed (live sessions finish)`);
    }
    const stats = new Map<string, ListenerStats>();
    for (const i of late) {
      const listener = this.#live(next.listeners[i].name);
      if (listener === undefined) continue;
      stats.set(listener.name, listener.stats);
      await this.#dropListener(listener.name);
    }
    for (const i of late) {
      const cfg = next.listeners[i];
      this.#takeGuard(cfg.name, built);
      try {
        await proxy.addListener(built.runtime.listeners[i], stats.get(cfg.name));
      } catch (err) {
        throw explainBindError(err, next, i);
      }
      changes.push(listenerMoved(oldByName.get(cfg.name), cfg, stats.has(cfg.name)));
    }
  }

  /** The bound listener called `name`, if there is one. */
  #live(name: string): Listener | undefined {
    return this.#proxy.listeners().find((l) => l.name === name);
  }

  /** Stops the guard upkeep of the listener's old settings and starts that of its new ones. */
  #replaceGuard(name: string, built: BuiltRuntime): void {
    this.#guardUpkeep.get(name)?.stop();
    this.#guardUpkeep.delete(name);
    this.#takeGuard(name, built);
  }

  #takeGuard(name: string, built: BuiltRuntime): void {
    const guard = built.guardUpkeep.get(name);
    if (guard === undefined) return;
    guard.start();
    this.#guardUpkeep.set(name, guard);
  }

  async #dropListener(name: string): Promise<void> {
    this.#guardUpkeep.get(name)?.stop();
    this.#guardUpkeep.delete(name);
    await this.#proxy.removeListener(name);
  }

  /** Certificates of one listener changed on disk: re-read them; a bad set keeps the old one. */
  async reloadCertificates(listenerName: string): Promise<boolean> {
    const cfg = this.#config.listeners.find((l) => l.name === listenerName);
    if (cfg === undefined || cfg.kind !== 'tls') return false;
    const index = this.#config.listeners.indexOf(cfg);
    const listener = this.#proxy.listener(listenerName);
    if (listener.runtime.kind !== 'tls') return false;
    try {
      const tls = await loadTlsMaterial(cfg.tls, `listeners[${index}].tls`);
      if (listener.runtime.kind === 'tls' && sameJson(listener.runtime.tls, tls)) return false;
      listener.update({ ...listener.runtime, tls }, this.#config.timeouts.handshake);
      this.#logger.info({ listener: listenerName }, 'certificates reloaded; new handshakes use them');
      return true;
    } catch (err) {
      this.#logger.error(
        { listener: listenerName, error: (err as Error).message },
        'certificate reload refused; the old certificates stay in use',
      );
      return false;
    }
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
      this.#restartHealth(planHealth(config, files));
      this.#logger.info({ files: [...files.keys()] }, 'health check certificates reloaded');
      return true;
    });
  }

  #rewatch(): void {
    // Several listeners may share one certificate file: a change reloads every one of them.
    const wanted = new Map<string, Set<string>>();
    const healthPaths = new Set<string>();
    const interval = this.#config.reload.interval;
    if (this.#config.reload.watchCertificates) {
      for (const l of this.#config.listeners) {
        if (l.kind !== 'tls') continue;
        for (const path of tlsPaths(l)) {
          const names = wanted.get(path) ?? new Set<string>();
          names.add(l.name);
          wanted.set(path, names);
        }
      }
      for (const { tls } of healthTlsBlocks(this.#config)) {
        for (const key of HEALTH_TLS_FILE_KEYS) {
          const path = tls[key];
          if (path === undefined) continue;
          healthPaths.add(path);
          if (!wanted.has(path)) wanted.set(path, new Set());
        }
      }
    }
    const configPath = this.#options.configPath;
    const watchConfig = this.#config.reload.watchConfig && configPath !== undefined;
    if (watchConfig && !wanted.has(configPath)) wanted.set(configPath, new Set());
    for (const path of [...this.#watched.keys()]) {
      if (wanted.has(path)) continue;
      unwatchFile(path);
      this.#watched.delete(path);
    }
    for (const [path, listeners] of wanted) {
      if (this.#watched.has(path)) unwatchFile(path);
      const onChange =
        watchConfig && path === configPath
          ? () => void this.reloadFromSource()
          : () => {
              for (const name of listeners) void this.reloadCertificates(name);
              if (healthPaths.has(path)) void this.reloadHealthCertificates();
            };
      // Stat polling sees both in-place writes and atomic renames, which inotify on the file would not.
      const watcher = watchFile(path, { interval, persistent: false }, (curr, prev) => {
        if (curr.mtimeMs !== prev.mtimeMs || curr.ino !== prev.ino || curr.size !== prev.size) onChange();
      });
      this.#watched.set(path, watcher);
    }
  }
}

function tlsPaths(l: TlsListenerConfig): string[] {
  const paths = [l.tls.cert, l.tls.key, l.tls.clientCa];
  if (l.tls.crl !== undefined) paths.push(l.tls.crl);
  return paths;
}

function mergeGroup(group: UpstreamGroup, before: GroupConfig, after: GroupConfig, changes: string[]): void {
  const name = group.name;
  const oldById = new Map(before.upstreams.map((u) => [u.id, u]));
  for (const u of after.upstreams) {
    const was = oldById.get(u.id);
    const live = group.get(u.id);
    if (was === undefined || live === undefined || was.address !== u.address) {
      if (live !== undefined) group.remove(u.id);
      group.add({
        address: u.address,
        id: u.id,
        weight: u.weight,
        maxConnections: u.maxConnections,
        state: u.state,
      });
      changes.push(`upstream ${name}/${u.id} added`);
      continue;
    }
    // Only what the file changed is applied, so a state or weight set through the API survives.
    if (was.weight !== u.weight) {
      group.setWeight(u.id, u.weight);
      changes.push(`upstream ${name}/${u.id} weight ${was.weight} -> ${u.weight}`);
    }
    if (was.maxConnections !== u.maxConnections) {
      group.setMaxConnections(u.id, u.maxConnections);
      changes.push(`upstream ${name}/${u.id} maxConnections ${was.maxConnections} -> ${u.maxConnections}`);
    }
    if (was.state !== u.state) {
      group.setState(u.id, u.state);
      changes.push(`upstream ${name}/${u.id} state ${was.state} -> ${u.state}`);
    }
    // Applied by the health restart every reload ends with; listed so the log says what changed.
    if (!sameJson(was.healthCheck, u.healthCheck))
      changes.push(`upstream ${name}/${u.id} health check updated`);
  }
  for (const u of before.upstreams) {
    if (after.upstreams.some((a) => a.id === u.id) || group.get(u.id) === undefined) continue;
    group.remove(u.id);
    changes.push(`upstream ${name}/${u.id} removed (live sessions finish)`);
  }
  if (before.balancer !== after.balancer || before.boundedLoad !== after.boundedLoad) {
    group.setBalancer(createBalancer(after.balancer, { boundedLoad: after.boundedLoad }));
    changes.push(`group ${name} balancer ${before.balancer} -> ${after.balancer}`);
  }
  for (const key of ['healthCheck', 'passiveHealth', 'slowStart', 'shutdownSessionsOnDown'] as const) {
    if (!sameJson(before[key], after[key])) changes.push(`group ${name} ${key} updated`);
  }
}

function sameFiles(a: HealthFiles, b: HealthFiles): boolean {
  if (a.size !== b.size) return false;
  for (const [path, text] of a) if (b.get(path) !== text) return false;
  return true;
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * A listener that existed with the same address is updated in place on its socket, even when its
 * kind changed; a new one, or one whose address changed, is bound afresh.
 */
function keepsSocket(before: ListenerConfig | undefined, next: ListenerConfig): before is ListenerConfig {
  return before !== undefined && before.bind === next.bind;
}

/** The change line of a listener bound afresh: added, or moved (with its counters) from its old address. */
function listenerMoved(before: ListenerConfig | undefined, next: ListenerConfig, moved: boolean): string {
  if (before === undefined || !moved) return `listener ${next.name} added`;
  const kind = before.kind === next.kind ? '' : ` (${before.kind} -> ${next.kind})`;
  return `listener ${next.name} moved ${before.bind} -> ${next.bind}${kind} (sessions on the old address finish)`;
}

/** A bind failure said with the listener's key and line in `config`; other errors as they are. */
function explainBindError(err: unknown, config: SwitchyardConfig, index: number): Error {
  if (err instanceof BindError) return err.withSubject(listenerLabel(config, index));
  return err instanceof Error ? err : new Error(String(err));
}
