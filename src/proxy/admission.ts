import { type ErrorCode, ErrorCodes } from '../lib/errors.js';
import type { UpstreamGroup } from '../lib/upstreams/upstream-group.js';
import type { ConcurrencyGate, ListenerRuntime, ProxyRuntime } from './runtime.js';
import type { SessionHost } from './session.js';

/** A routed session as admission sees it. */
export interface AdmissionSubject {
  readonly host: SessionHost;
  /** The runtime the session started on: its gates decide, whatever a reload put in force since. */
  readonly runtime: ProxyRuntime;
  readonly listener: ListenerRuntime;
  readonly clientId: string;
  readonly clientAddress: string;
  readonly clientPort: number;
  /** The group the session was routed to. */
  readonly group: UpstreamGroup | null;
  /** What the per-client gates count the session under. */
  readonly admissionKey: string;
  /** True once the session is being closed; an answer that arrives then is dropped. */
  readonly closing: boolean;
  /** A gate refused the session. */
  fail(code: ErrorCode): void;
  /** Every gate let the session in; it holds a slot of `held` until it ends (null: no cap asked). */
  admitted(held: ConcurrencyGate | null): void;
}

/**
 * Admission, the per-client gates in order: the rate limit first (a refused connection must not
 * take a concurrency slot, even for a moment), then the concurrency cap. The rate limit may ask a
 * remote store and answer later; the memory store answers at once, without a promise.
 */
export function admit(s: AdmissionSubject): void {
  const gate = s.runtime.rateLimit;
  if (gate === undefined) {
    afterRateLimit(s, 0);
    return;
  }
  const verdict = gate.take(s.admissionKey);
  if (typeof verdict === 'number') {
    afterRateLimit(s, verdict);
    return;
  }
  verdict.then(
    (retryAfterMs) => afterRateLimit(s, retryAfterMs),
    (err: unknown) => rateStoreFailed(s, err),
  );
}

/** Publishes the session's admission; called by the session once it counts as admitted. */
export function announceAdmission(s: AdmissionSubject): void {
  const admitted = s.host.events.sessionAdmitted;
  if (!admitted.hasSubscribers) return;
  admitted.publish({
    listener: s.listener.name,
    clientId: s.clientId,
    clientAddress: s.clientAddress,
    clientPort: s.clientPort,
    group: s.group!.name,
    rateChecked: s.runtime.rateLimit !== undefined,
    concurrencyChecked: s.runtime.concurrency !== undefined,
  });
}

function rateStoreFailed(s: AdmissionSubject, err: unknown): void {
  // A limiter store outage must not take the service down with it: admit, and say so once per session.
  s.host.logger.warn(
    {
      listener: s.listener.name,
      clientId: s.clientId,
      code: ErrorCodes.ERR_STORE_UNAVAILABLE,
      err: String(err),
    },
    'rate limit store failed; admitting',
  );
  afterRateLimit(s, 0);
}

function afterRateLimit(s: AdmissionSubject, retryAfterMs: number): void {
  if (s.closing) {
    // Once the rate gate said yes the concurrency gate is always asked: a shared one may have
    // reserved the slot together with the rate decision, and the slot goes back here.
    const concurrency = s.runtime.concurrency;
    if (retryAfterMs === 0 && concurrency !== undefined) {
      const got = concurrency.tryAcquire(s.admissionKey);
      if (got === true) concurrency.release(s.admissionKey);
      else if (got !== false)
        got.then(
          (ok) => ok && concurrency.release(s.admissionKey),
          () => {},
        );
    }
    return;
  }
  if (retryAfterMs > 0) {
    s.fail(ErrorCodes.ERR_RATE_LIMITED);
    return;
  }
  const concurrency = s.runtime.concurrency;
  if (concurrency === undefined) {
    s.admitted(null);
    return;
  }
  const got = concurrency.tryAcquire(s.admissionKey);
  if (typeof got === 'boolean') {
    afterConcurrency(s, concurrency, got);
    return;
  }
  got.then(
    (acquired) => afterConcurrency(s, concurrency, acquired),
    (err: unknown) => {
      // Like the rate limit's store: a gate that cannot answer admits, holding no slot.
      s.host.logger.warn(
        {
          listener: s.listener.name,
          clientId: s.clientId,
          code: ErrorCodes.ERR_STORE_UNAVAILABLE,
          err: String(err),
        },
        'concurrency limit store failed; admitting',
      );
      if (!s.closing) s.admitted(null);
    },
  );
}

function afterConcurrency(s: AdmissionSubject, concurrency: ConcurrencyGate, acquired: boolean): void {
  if (s.closing) {
    // The client left while the gate answered: the slot it got goes back at once.
    if (acquired) concurrency.release(s.admissionKey);
    return;
  }
  if (!acquired) {
    s.fail(ErrorCodes.ERR_CONCURRENCY_LIMIT);
    return;
  }
  s.admitted(concurrency);
}
