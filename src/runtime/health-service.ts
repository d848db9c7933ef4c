import type { SwitchyardConfig } from '../config/types.js';
import {
  GroupHealth,
  type GroupHealthOptions,
  type UpstreamHealthStatus,
} from '../lib/health/group-health.js';
import type { HealthChangeEvent } from '../lib/health/health-event.js';
import type { Logger } from '../lib/logger.js';
import type { Upstream } from '../lib/upstreams/upstream.js';
import type { UpstreamGroup } from '../lib/upstreams/upstream-group.js';
import type { ConnectOutcomes } from '../proxy/runtime.js';

/** What the health service needs of the rest of the process. */
export interface HealthServiceHost {
  readonly logger: Logger;
  /** Closes the sessions on an upstream found down, for groups that ask for it. */
  closeSessionsOf(upstream: Upstream): void;
  /** Told of every health state change (metrics). */
  onHealthChange?: (event: HealthChangeEvent) => void;
  /**
   * False in a worker process: the primary runs the active checks and sends their results
   * ({@link HealthService.applyRemote}); passive health still runs here, on this process's sessions.
   */
  activeChecks?: boolean;
}

/**
 * Active and passive health checking of every group, started from the groups' plans. Restarting on
 * each reload is cheap and loses nothing: health lives on the upstreams, and a checker keeps an
 * unhealthy upstream out until its first check says otherwise.
 */
export class HealthService {
  readonly #host: HealthServiceHost;
  readonly #health = new Map<string, GroupHealth>();

  constructor(host: HealthServiceHost) {
    this.#host = host;
  }

  /** What health checking last saw of an upstream, for the admin API. */
  status(group: string, id: string): UpstreamHealthStatus | undefined {
    return this.#health.get(group)?.status(id);
  }

  /**
   * Stops the running checks and starts those `plans` describe for the groups of `config`; returns
   * the connect-outcome listeners (passive health) by group, for the runtime the proxy is given.
   */
  restart(
    config: SwitchyardConfig,
    groups: ReadonlyMap<string, UpstreamGroup>,
    plans: ReadonlyMap<string, GroupHealthOptions>,
  ): Map<string, ConnectOutcomes> {
    this.stop();
    const outcomes = new Map<string, ConnectOutcomes>();
    for (const [name, cfg] of Object.entries(config.groups)) {
      const group = groups.get(name);
      if (group === undefined) continue;
      const remote = this.#host.activeChecks === false;
      const planned = plans.get(name);
      const plan = remote && planned !== undefined ? { ...planned, active: undefined } : planned;
      if (!remote && plan?.active === undefined) {
        // Nobody checks this group any more: an upstream a dropped check left unhealthy would
        // otherwise stay out of rotation for good.
        for (const u of group.upstreams) if (!u.healthy) group.setHealthy(u.id, true);
      }
      if (plan === undefined) continue;
      const health = new GroupHealth(group, plan);
      health.on('change', (event) => this.#changed(event, group, cfg.shutdownSessionsOnDown));
      this.#health.set(name, health);
      outcomes.set(name, health);
      health.start();
    }
    return outcomes;
  }

  /**
   * Health the primary's active checks found, in a worker: each upstream taken out of or put back
   * into rotation, and the sessions of one found down closed when its group asks for that.
   */
  applyRemote(
    config: SwitchyardConfig,
    groups: ReadonlyMap<string, UpstreamGroup>,
    states: readonly { group: string; upstream: string; healthy: boolean }[],
  ): void {
    for (const { group: name, upstream, healthy } of states) {
      const group = groups.get(name);
      const u = group?.get(upstream);
      if (group === undefined || u === undefined || u.healthy === healthy) continue;
      group.setHealthy(upstream, healthy);
      if (!healthy && config.groups[name]?.shutdownSessionsOnDown === true) this.#host.closeSessionsOf(u);
    }
  }

  /** Stops every check. */
  stop(): void {
    for (const h of this.#health.values()) h.stop();
    this.#health.clear();
  }

  #changed(event: HealthChangeEvent, group: UpstreamGroup, shutdownSessions: boolean): void {
    const fields = {
      group: event.group,
      upstream: event.upstream,
      check: event.check,
      from: event.from,
      to: event.to,
      reason: event.reason,
    };
    const logger = this.#host.logger;
    if (event.to === 'healthy') logger.info(fields, 'upstream health changed');
    else logger.warn(fields, 'upstream health changed');
    this.#host.onHealthChange?.(event);
    if (shutdownSessions && event.to === 'unhealthy') {
      const u = group.get(event.upstream);
      if (u !== undefined) this.#host.closeSessionsOf(u);
    }
  }
}
