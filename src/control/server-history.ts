/**
 * What a balancer remembers about itself for its operators: its version, when it started, its last
 * reload, and a bounded list of notable events (health changes, reloads, operator changes,
 * ejections, worker restarts, bursts of refusals). `/api/status` and the dashboard read it; the
 * composition root feeds it from the runtime manager's hooks, the dashboard's sampler from snapshots.
 */
import type { HealthChangeEvent } from '../lib/health/health-event.js';
import type { ReloadResult } from './admin-actions.js';
import { Ring } from './dashboard/ring.js';
import { packageVersion } from './package-version.js';

/** The kinds of {@link NotableEvent}. */
export type NotableKind =
  | 'health'
  | 'reload'
  | 'state'
  | 'weight'
  | 'balancer'
  | 'upstream'
  | 'ejection'
  | 'worker'
  | 'refusals';

/** One event worth an operator's attention. */
export interface NotableEvent {
  /** When, ms since the epoch. */
  at: number;
  kind: NotableKind;
  /** What happened, for people. */
  message: string;
  group?: string;
  upstream?: string;
  /** True for what needs attention (an upstream going down, a refused reload, a burst of refusals). */
  bad?: boolean;
}

/** The last reload, as `/api/status` shows it. */
export interface LastReload {
  /** ISO 8601 time. */
  at: string;
  ok: boolean;
  /** What changed, in the reload log's words (applied reloads). */
  changes?: string[];
  /** Why nothing was applied (refused reloads). */
  error?: string;
}

/** Options of {@link ServerHistory}. */
export interface ServerHistoryOptions {
  /** Default: this package's version. */
  version?: string;
  /** Wall clock, ms since the epoch. Default `Date.now`. */
  now?: () => number;
  /** Events kept. Default 200. */
  maxEvents?: number;
}

const DEFAULT_MAX_EVENTS = 200;

/** A balancer's version, start, last reload and recent events. */
export class ServerHistory {
  /** Package version. */
  readonly version: string;
  /** Start time, ms since the epoch. */
  readonly startedAt: number;
  readonly #now: () => number;
  readonly #events: Ring<NotableEvent>;
  #lastReload: LastReload | null = null;

  constructor(options: ServerHistoryOptions = {}) {
    this.version = options.version ?? packageVersion();
    this.#now = options.now ?? Date.now;
    this.startedAt = this.#now();
    this.#events = new Ring(options.maxEvents ?? DEFAULT_MAX_EVENTS);
  }

  /** Whole seconds since start. */
  uptimeSeconds(): number {
    return Math.floor((this.#now() - this.startedAt) / 1000);
  }

  /** The last reload, or null when there was none. */
  lastReload(): LastReload | null {
    return this.#lastReload;
  }

  /** Changes whenever an event is added, so a reader can skip an unchanged list. */
  get eventsVersion(): number {
    return this.#events.pushed;
  }

  /** The events kept, newest first. */
  events(): NotableEvent[] {
    return this.#events.newestFirst();
  }

  /** Records an event now. */
  note(event: Omit<NotableEvent, 'at'>): void {
    this.#events.push({ at: this.#now(), ...event });
  }

  /** Records a reload's outcome (the runtime manager's `onReload`). */
  reloaded(result: ReloadResult): void {
    const at = this.#now();
    this.#lastReload = result.ok
      ? { at: new Date(at).toISOString(), ok: true, changes: result.changes }
      : { at: new Date(at).toISOString(), ok: false, error: result.error };
    const message = result.ok
      ? `reload applied: ${result.changes.length === 0 ? 'nothing changed' : result.changes.join('; ')}`
      : `reload refused: ${result.error}`;
    this.#events.push({ at, kind: 'reload', message, ...(result.ok ? {} : { bad: true }) });
  }

  /**
   * Records an active health check's change (the manager's `onHealthChange`). Ejections by passive
   * checks are seen in snapshots instead, where several workers' ones are seen too.
   */
  healthChanged(event: HealthChangeEvent): void {
    if (event.check !== 'active') return;
    const message = `${event.group}/${event.upstream} ${event.to === 'healthy' ? 'is healthy again' : `is unhealthy: ${event.reason}`}`;
    this.note({
      kind: 'health',
      message,
      group: event.group,
      upstream: event.upstream,
      ...(event.to === 'healthy' ? {} : { bad: true }),
    });
  }
}
