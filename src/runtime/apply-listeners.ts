import { bindOverlap } from '../config/bind-conflicts.js';
import { listenerLabel } from '../config/config-origin.js';
import type { SwitchyardConfig } from '../config/types.js';
import { BindError } from '../lib/bind-error.js';
import { ErrorCodes, SwitchyardError } from '../lib/errors.js';
import type { ProxyServer } from '../proxy/proxy.js';
import type { ProxyListener } from '../proxy/proxy-listener.js';
import type { ListenerRuntime } from '../proxy/runtime.js';
import type { ListenerStats } from '../proxy/stats.js';
import type { BuiltRuntime } from './build-runtime.js';
import type { GuardUpkeep } from './guard-upkeep.js';
import { listenerSetup } from './listener-kinds/registry.js';
import { describeChange, type ReloadChange, type ReloadPlan } from './reload-plan.js';

/** What applying listeners works with: the proxy's listener commands and the manager's records. */
export interface ListenerContext {
  readonly proxy: ProxyServer;
  /** The settings each bound listener runs on, by name: the manager's record, not the listener's. */
  readonly applied: Map<string, ListenerRuntime>;
  readonly guards: GuardUpkeep;
}

/**
 * Binds the addresses of the plan's added and moved listeners before anything else changes, so a
 * port in use refuses the reload whole; a moved listener's new socket shares the counters of its
 * old one. A listener moving onto an address that collides with a socket of ours (its own old one
 * included) cannot be bound until that one lets go, so it is left for {@link mergeListeners} to
 * bind last.
 */
export async function bindNewAddresses(
  ctx: ListenerContext,
  plan: ReloadPlan,
  next: SwitchyardConfig,
  built: BuiltRuntime,
): Promise<Map<string, ProxyListener>> {
  const bound = new Map<string, ProxyListener>();
  const proxy = ctx.proxy;
  const changes = listenerChanges(plan);
  // TCP and UDP ports are separate: a socket of the other transport never holds an address up.
  const held = proxy.listeners().map((l) => ({
    host: l.address().address,
    port: l.address().port,
    transport: listenerSetup(l.runtime).transport,
  }));
  for (let i = 0; i < next.listeners.length; i++) {
    const cfg = next.listeners[i];
    const live = liveListener(proxy, cfg.name);
    if (!bindsAfresh(changes.get(cfg.name)) && live !== undefined) continue;
    const fresh = built.runtime.listeners[i];
    const transport = listenerSetup(fresh).transport;
    if (held.some((h) => h.transport === transport && bindOverlap(h, fresh) !== undefined)) continue;
    try {
      bound.set(cfg.name, await proxy.bindListener(fresh, next.timeouts.handshake, live?.stats));
    } catch (err) {
      await Promise.all([...bound.values()].map((l) => l.close()));
      throw explainBindError(err, next, i);
    }
  }
  return bound;
}

/**
 * Applies the plan's listener changes in an order that never leaves a kept listener without a
 * socket: settings (and kind) changed in place; early-bound listeners put in place of the ones they
 * move (whose sockets then close) or added; removed ones closed; and last the ones that wait for a
 * port those steps free, after letting go of their own old sockets (so two can swap ports). Kept
 * listeners the plan does not name are given their settings again too: the handshake timeout is
 * the configuration's, not the listener's.
 */
export async function mergeListeners(
  ctx: ListenerContext,
  plan: ReloadPlan,
  next: SwitchyardConfig,
  built: BuiltRuntime,
  bound: Map<string, ProxyListener>,
  changes: string[],
): Promise<void> {
  const { proxy, applied, guards } = ctx;
  const handshakeMs = next.timeouts.handshake;
  const planned = listenerChanges(plan);
  const late: number[] = [];
  for (let i = 0; i < next.listeners.length; i++) {
    const cfg = next.listeners[i];
    const fresh = built.runtime.listeners[i];
    const change = planned.get(cfg.name);
    const listener = liveListener(proxy, cfg.name);
    const running = applied.get(cfg.name);
    if (bindsAfresh(change) || listener === undefined || running === undefined) {
      const early = bound.get(cfg.name);
      if (early === undefined) {
        late.push(i);
        continue;
      }
      guards.replace(cfg.name, built);
      if (listener === undefined) proxy.adoptListener(early);
      else await proxy.replaceListener(early);
      applied.set(cfg.name, fresh);
      changes.push(boundLine(change, cfg.name, listener !== undefined));
      continue;
    }
    let runtime: ListenerRuntime = fresh;
    if (change?.kind === 'listener-updated' && change.fields.includes('handshakeRate')) {
      guards.replace(cfg.name, built);
    } else {
      // Keep the guard that is running, with its per-source history.
      runtime = { ...fresh, sourceGuard: running.sourceGuard };
    }
    runtime = listenerSetup(runtime).keepLoaded?.(running, runtime) ?? runtime;
    listener.update(runtime, handshakeMs);
    applied.set(cfg.name, runtime);
    if (change !== undefined) changes.push(describeChange(change));
  }
  for (const change of plan) {
    if (change.kind !== 'listener-removed') continue;
    await dropListener(ctx, change.listener);
    changes.push(describeChange(change));
  }
  const stats = new Map<string, ListenerStats>();
  for (const i of late) {
    const listener = liveListener(proxy, next.listeners[i].name);
    if (listener === undefined) continue;
    stats.set(listener.name, listener.stats);
    await dropListener(ctx, listener.name);
  }
  for (const i of late) {
    const cfg = next.listeners[i];
    guards.take(cfg.name, built);
    try {
      await proxy.addListener(built.runtime.listeners[i], stats.get(cfg.name));
    } catch (err) {
      throw explainBindError(err, next, i);
    }
    applied.set(cfg.name, built.runtime.listeners[i]);
    changes.push(boundLine(planned.get(cfg.name), cfg.name, stats.has(cfg.name)));
  }
}

/** The settings of the bound listeners, in the order of `config`. */
export function appliedListeners(ctx: ListenerContext, config: SwitchyardConfig): ListenerRuntime[] {
  const bound = new Set(ctx.proxy.listeners().map((l) => l.name));
  const out: ListenerRuntime[] = [];
  for (const l of config.listeners) {
    const rt = ctx.applied.get(l.name);
    if (rt !== undefined && bound.has(l.name)) out.push(rt);
  }
  return out;
}

async function dropListener(ctx: ListenerContext, name: string): Promise<void> {
  ctx.guards.drop(name);
  ctx.applied.delete(name);
  await ctx.proxy.removeListener(name);
}

/** The bound listener called `name`, if there is one. */
function liveListener(proxy: ProxyServer, name: string): ProxyListener | undefined {
  return proxy.listeners().find((l) => l.name === name);
}

type ListenerChange = Extract<
  ReloadChange,
  { kind: 'listener-added' | 'listener-moved' | 'listener-updated' }
>;

/** The plan's changes of the listeners the next configuration keeps or adds, by name. */
function listenerChanges(plan: ReloadPlan): Map<string, ListenerChange> {
  const byName = new Map<string, ListenerChange>();
  for (const change of plan) {
    if (
      change.kind === 'listener-added' ||
      change.kind === 'listener-moved' ||
      change.kind === 'listener-updated'
    )
      byName.set(change.listener, change);
  }
  return byName;
}

/**
 * An added or moved listener is bound afresh; any other is updated in place on its socket, even
 * when its kind changed.
 */
function bindsAfresh(change: ListenerChange | undefined): boolean {
  return change !== undefined && change.kind !== 'listener-updated';
}

/** The line of a listener bound afresh: moved with its counters when its old socket was live, else added. */
function boundLine(change: ListenerChange | undefined, name: string, moved: boolean): string {
  if (change?.kind === 'listener-moved' && moved) return describeChange(change);
  return describeChange({ kind: 'listener-added', listener: name });
}

/** A bind failure said with the listener's key and line in `config`; other errors as they are. */
function explainBindError(err: unknown, config: SwitchyardConfig, index: number): Error {
  if (err instanceof BindError) return err.withSubject(listenerLabel(config, index));
  return err instanceof Error ? err : new SwitchyardError(ErrorCodes.ERR_INTERNAL, String(err));
}
