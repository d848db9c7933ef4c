import type { GroupConfig, ListenerConfig, SwitchyardConfig } from '../config/types.js';
import { AddressRanges, AddressRules } from '../lib/address-ranges.js';
import { createBalancer } from '../lib/balancers/registry.js';
import type { GroupHealthOptions } from '../lib/health/group-health.js';
import { parseHostPort } from '../lib/upstreams/address.js';
import { UpstreamGroup } from '../lib/upstreams/upstream-group.js';
import type { ListenerRuntime, ProxyRuntime } from '../proxy/runtime.js';
import {
  type AdmissionControls,
  buildAdmissionControls,
  buildSourceGuard,
  type Stoppable,
} from './build-admission.js';
import { type HealthFiles, loadHealthFiles, planHealth } from './build-health.js';
import { loadUpstreamTls } from './build-upstream-tls.js';
import { listenerSetup } from './listener-kinds/registry.js';

/** A runtime model plus the background work (limiter sweeps) it owns. */
export interface BuiltRuntime {
  /** The model the proxy runs on. */
  runtime: ProxyRuntime;
  /** Upkeep of the per-client rate limiter, if there is one. */
  rateLimitUpkeep?: Stoppable;
  /** Upkeep of each listener's per-source guard, by listener name. */
  guardUpkeep: Map<string, Stoppable>;
  /** What each group's health checking is built from, by group name; groups without any are absent. */
  health: Map<string, GroupHealthOptions>;
  /** The files the health checks name, as read. */
  healthFiles: HealthFiles;
  /** Starts background timers (limiter sweeps). */
  start(): void;
  /** Stops every background timer, so shutdown leaves none behind. */
  stop(): void;
}

/** Options for building; tests inject a clock. */
export interface BuildOptions {
  /** Milliseconds clock for limiters. Default Date.now. */
  now?: () => number;
  /**
   * Builds the per-client gates instead of the in-memory ones: a worker process asks its primary,
   * so the limits hold across every worker of the balancer.
   */
  admission?: (config: SwitchyardConfig, now: () => number) => AdmissionControls;
}

/**
 * Turns a validated configuration into the data plane's typed model: reads certificate files (the
 * listeners', the health checks' and the groups' upstream TLS), builds groups with their balancers, limiters, route tables and
 * health checking plans. Throws ERR_CONFIG_READ naming the key whose file could not be used.
 */
export async function buildRuntime(
  config: SwitchyardConfig,
  options: BuildOptions = {},
): Promise<BuiltRuntime> {
  const now = options.now ?? Date.now;
  const groups = new Map<string, UpstreamGroup>();
  const hashKeys = new Map<string, 'client-id' | 'source-ip'>();
  for (const [name, g] of Object.entries(config.groups)) {
    groups.set(name, buildGroup(name, g));
    hashKeys.set(name, g.hashKey);
  }
  const admission: AdmissionControls = (options.admission ?? buildAdmissionControls)(config, now);
  const stoppables = [...admission.stoppables];
  const guardUpkeep = new Map<string, Stoppable>();
  const listeners: ListenerRuntime[] = [];
  for (let i = 0; i < config.listeners.length; i++) {
    const l = config.listeners[i];
    const guard = buildSourceGuard(l.handshakeRate, now);
    if (guard !== undefined) {
      stoppables.push(guard);
      guardUpkeep.set(l.name, guard);
    }
    listeners.push(await buildListener(l, i, groups, guard?.gate));
  }
  const healthFiles = await loadHealthFiles(config);
  const health = planHealth(config, healthFiles);
  const upstreamTls = await loadUpstreamTls(config);
  const runtime: ProxyRuntime = {
    listeners,
    groups,
    hashKeys,
    rateLimit: admission.rateLimit,
    concurrency: admission.concurrency,
    timeouts: {
      handshake: config.timeouts.handshake,
      connect: config.timeouts.connect,
      idle: config.timeouts.idle,
      maxLifetime: config.timeouts.maxLifetime,
    },
    connectAttempts: config.connect.attempts,
    outcomes: new Map(),
    upstreamTls,
  };
  return {
    runtime,
    rateLimitUpkeep: admission.stoppables[0],
    guardUpkeep,
    health,
    healthFiles,
    start: () => {
      for (const s of stoppables) s.start();
    },
    stop: () => {
      for (const s of stoppables) s.stop();
    },
  };
}

/** Builds one upstream group from its configuration. */
export function buildGroup(name: string, g: GroupConfig): UpstreamGroup {
  return new UpstreamGroup(name, {
    balancer: createBalancer(g.balancer, { boundedLoad: g.boundedLoad }),
    upstreams: g.upstreams.map((u) => ({
      address: u.address,
      id: u.id,
      weight: u.weight,
      maxConnections: u.maxConnections,
      state: u.state,
    })),
  });
}

/** Builds one listener's runtime; exported for reloads that replace a single listener. */
export async function buildListener(
  l: ListenerConfig,
  index: number,
  groups: Map<string, UpstreamGroup>,
  sourceGuard: ListenerRuntime['sourceGuard'],
): Promise<ListenerRuntime> {
  const { host, port } = parseBind(l.bind);
  const common = {
    name: l.name,
    host,
    port,
    maxConnections: l.maxConnections,
    maxPendingHandshakes: l.maxPendingHandshakes,
    proxyProtocol: l.proxyProtocol,
    acceptProxyProtocol: l.acceptProxyProtocol,
    trustedProxies: l.acceptProxyProtocol === 'none' ? undefined : new AddressRanges(l.trustedProxies),
    addressRules: l.allow.length + l.deny.length === 0 ? undefined : new AddressRules(l.allow, l.deny),
    sourceGuard,
  };
  const part = await listenerSetup(l).build(l, `listeners[${index}]`, new Set(groups.keys()));
  return { ...common, ...part };
}

/** Splits a bind address; port 0 is allowed here (tests), unlike upstream addresses. */
export function parseBind(bind: string): { host: string; port: number } {
  if (bind.endsWith(':0')) {
    const host = bind.slice(0, -2);
    return { host: host.startsWith('[') ? host.slice(1, -1) : host, port: 0 };
  }
  const hp = parseHostPort(bind);
  return { host: hp.host, port: hp.port };
}
