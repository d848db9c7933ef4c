import { checkCount, checkFraction, checkPort, checkPositiveMs, invalid } from './check-options.js';
import type { HealthProbe } from './health-probe.js';

/** What an upstream's health is assumed to be before its first check. */
export type InitialHealth = 'healthy' | 'unhealthy';

/** How one upstream is actively checked. */
export interface ActiveCheckSettings {
  /** The check to run. */
  probe: HealthProbe;
  /** Ms between the end of one check and the start of the next while healthy. Default 5000. */
  interval: number;
  /** Ms between checks while unhealthy. Default `interval`. */
  downInterval: number;
  /** Ms a check may take before it counts as failed. Default 2000. */
  timeout: number;
  /** Consecutive passed checks that make an unhealthy upstream healthy. Default 2. */
  rise: number;
  /** Consecutive failed checks that make a healthy upstream unhealthy. Default 3. */
  fall: number;
  /**
   * Spread of each wait as a fraction of it, 0 <= jitter < 1: a wait of `interval` becomes a uniform
   * draw from interval × (1 ± jitter), so checks of many upstreams and balancers never beat in step
   * with each other or with a periodic slowdown. Default 0.1.
   */
  jitter: number;
  /**
   * Assumed health until the first check, which then decides either way; an upstream found already
   * marked unhealthy stays unhealthy until then. Default `healthy`.
   */
  initialState: InitialHealth;
  /** Port to check instead of the upstream's own (a separate health port). Default the upstream's. */
  port: number | undefined;
  /** False leaves the upstream unchecked and healthy. Default true. */
  enabled: boolean;
}

/** Per-upstream changes to the group's settings. */
export type ActiveCheckOverrides = Partial<ActiveCheckSettings>;

/** Defaults of {@link ActiveCheckSettings} (`downInterval` defaults to the resolved `interval`). */
export const ACTIVE_CHECK_DEFAULTS = {
  interval: 5000,
  timeout: 2000,
  rise: 2,
  fall: 3,
  jitter: 0.1,
  initialState: 'healthy',
  enabled: true,
} as const;

/** A wait of `ms` spread uniformly over ms × (1 ± jitter), rounded to whole ms. */
export function jittered(ms: number, jitter: number, random: () => number): number {
  return Math.round(ms * (1 + jitter * (2 * random() - 1)));
}

/** Fills in defaults (`over` first, then `base`) and validates; `what` prefixes error messages. */
export function resolveSettings(
  base: Partial<ActiveCheckSettings>,
  over: ActiveCheckOverrides | undefined,
  what: string,
): ActiveCheckSettings {
  const o = over ?? {};
  const d = ACTIVE_CHECK_DEFAULTS;
  const probe = o.probe ?? base.probe;
  if (probe === undefined || typeof probe.check !== 'function') {
    throw invalid(`${what}: a probe is required`);
  }
  const interval = checkPositiveMs(`${what}: interval`, o.interval ?? base.interval ?? d.interval);
  const initialState = o.initialState ?? base.initialState ?? d.initialState;
  if (initialState !== 'healthy' && initialState !== 'unhealthy') {
    throw invalid(`${what}: initialState must be "healthy" or "unhealthy", got "${initialState}"`);
  }
  const port = o.port ?? base.port;
  return {
    probe,
    interval,
    downInterval: checkPositiveMs(`${what}: downInterval`, o.downInterval ?? base.downInterval ?? interval),
    timeout: checkPositiveMs(`${what}: timeout`, o.timeout ?? base.timeout ?? d.timeout),
    rise: checkCount(`${what}: rise`, o.rise ?? base.rise ?? d.rise),
    fall: checkCount(`${what}: fall`, o.fall ?? base.fall ?? d.fall),
    jitter: checkFraction(`${what}: jitter`, o.jitter ?? base.jitter ?? d.jitter, 0, 1),
    initialState,
    port: port === undefined ? undefined : checkPort(`${what}: port`, port),
    enabled: o.enabled ?? base.enabled ?? d.enabled,
  };
}
