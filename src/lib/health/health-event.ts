import type { ProbeFailure } from './health-probe.js';

/** Which kind of checking changed an upstream's health. */
export type HealthCheckKind = 'active' | 'passive';

/**
 * An upstream's health on one kind of checking's axis: active checks move it between `healthy` and
 * `unhealthy`, passive checks between `healthy` and `ejected`. The two are independent; an upstream
 * gets new connections only when neither holds it out.
 */
export type HealthState = 'healthy' | 'unhealthy' | 'ejected';

/** One change of an upstream's health, as logged, counted and shown by the server. */
export interface HealthChangeEvent {
  /** Group name. */
  group: string;
  /** Upstream id within the group. */
  upstream: string;
  /** Upstream `host:port`. */
  address: string;
  /** Which checking made the change. */
  check: HealthCheckKind;
  /** State before. */
  from: HealthState;
  /** State now. */
  to: HealthState;
  /** Why, for people: the last probe error, the failure count, the ejection's end. */
  reason: string;
  /** Coarse kind of the last probe failure, on active changes to `unhealthy`; a metrics label. */
  failure?: ProbeFailure;
  /** On changes to `ejected`: how long the ejection lasts, ms. */
  ejectionMs?: number;
  /** When, on the checker's clock (ms). */
  at: number;
  /**
   * Whether the upstream is in rotation after the change (up, healthy and not ejected): a return
   * from ejection while active checks still hold it out is `to: 'healthy'` with this false.
   */
  inRotation: boolean;
}

/** The events health checkers emit, for a typed `EventEmitter`. */
export type HealthEvents = {
  /** An upstream's health changed. */
  change: [event: HealthChangeEvent];
};
