import { Counter, type Registry } from 'prom-client';
import { type ErrorCode, ErrorCodes } from '../../lib/errors.js';
import type { HandshakeEvent, SessionAdmittedEvent, SessionEndedEvent } from '../../proxy/events.js';
import type { ProxySnapshot } from '../../proxy/snapshot.js';
import { LabelledHistogram } from './labelled-histogram.js';
import type { ScrapeSnapshot } from './source.js';

const DEFAULT_SESSION_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600];
const DEFAULT_LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** Buckets of the session histograms. */
export interface SessionBuckets {
  /** Buckets of `switchyard_session_duration_seconds`. */
  sessionBuckets?: number[];
  /** Buckets of `switchyard_upstream_connect_seconds` and `switchyard_handshake_seconds`. */
  latencyBuckets?: number[];
}

/** The subscribers that feed the session metrics, one per channel. */
export interface SessionFeed {
  sessionAdmitted(e: SessionAdmittedEvent): void;
  sessionEnded(e: SessionEndedEvent): void;
  handshake(e: HandshakeEvent): void;
  /** Records one finished TLS handshake on `listener` that took `seconds` (told by hand). */
  observeHandshake(listener: string, seconds: number): void;
}

/** How many refusals of `code` the snapshot's listeners counted. */
function refusals(snap: ProxySnapshot | undefined, code: ErrorCode): number {
  let n = 0;
  for (const l of snap?.listeners ?? []) n += l.stats.rejections[code] ?? 0;
  return n;
}

/**
 * The session histograms and the rate-limit and concurrency decisions. Admissions are counted as
 * the `sessionAdmitted` event tells them, so a session is counted once, the moment it passes the
 * gates, however long it lives; refusals by a gate are the listeners' own counts, from the snapshot.
 */
export function registerSessionMetrics(
  registry: Registry,
  scrape: ScrapeSnapshot,
  options: SessionBuckets,
): SessionFeed {
  const registers = [registry];
  const histogram = (name: string, help: string, label: string, buckets: number[]): LabelledHistogram =>
    new LabelledHistogram({ name, help, label, buckets, registry });
  const latency = options.latencyBuckets ?? DEFAULT_LATENCY_BUCKETS;
  const sessionDuration = histogram(
    'switchyard_session_duration_seconds',
    'Session length from handshake done (accept on plain TCP) to close, refused sessions included.',
    'listener',
    options.sessionBuckets ?? DEFAULT_SESSION_BUCKETS,
  );
  const connectTime = histogram(
    'switchyard_upstream_connect_seconds',
    'Time a successful upstream connect took, per group.',
    'group',
    latency,
  );
  const handshakeTime = histogram(
    'switchyard_handshake_seconds',
    'TLS handshake time, per listener.',
    'listener',
    latency,
  );

  let rateAllowed = 0;
  let concurrencyAllowed = 0;
  const decisions = (name: string, help: string, allowed: () => number, limited: ErrorCode): void => {
    const counter: Counter = new Counter({
      name,
      help,
      labelNames: ['result'],
      registers,
      collect() {
        counter.reset();
        counter.inc({ result: 'allowed' }, allowed());
        counter.inc({ result: 'limited' }, refusals(scrape.get(), limited));
      },
    });
  };
  decisions(
    'switchyard_ratelimit_decisions_total',
    'Per-client rate limit decisions (only while a rate limit is configured).',
    () => rateAllowed,
    ErrorCodes.ERR_RATE_LIMITED,
  );
  decisions(
    'switchyard_concurrency_decisions_total',
    'Per-client concurrency cap decisions (only while a cap is configured).',
    () => concurrencyAllowed,
    ErrorCodes.ERR_CONCURRENCY_LIMIT,
  );

  return {
    sessionAdmitted(e) {
      if (e.rateChecked) rateAllowed++;
      if (e.concurrencyChecked) concurrencyAllowed++;
    },
    sessionEnded(r) {
      sessionDuration.observe(r.listener, r.durationMs / 1000);
      if (r.connectMs > 0 && r.group !== '') connectTime.observe(r.group, r.connectMs / 1000);
    },
    handshake(e) {
      handshakeTime.observe(e.listener, e.ms / 1000);
    },
    observeHandshake(listener, seconds) {
      handshakeTime.observe(listener, seconds);
    },
  };
}
