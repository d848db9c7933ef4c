import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ErrorCode, ErrorCodes } from '../../src/lib/errors.js';
import type { UpstreamGroup } from '../../src/lib/upstreams/upstream-group.js';
import { type AdmissionSubject, admit, announceAdmission } from '../../src/proxy/admission.js';
import { ProxyEvents, type SessionAdmittedEvent } from '../../src/proxy/events.js';
import type { ConcurrencyGate, ListenerRuntime, ProxyRuntime, RateGate } from '../../src/proxy/runtime.js';
import type { SessionHost } from '../../src/proxy/session.js';
import { MemoryLogger } from '../helpers/proxy-harness.js';

/** A concurrency gate with `free` slots, recording what it was asked. */
class SlotGate implements ConcurrencyGate {
  readonly asked: string[] = [];
  constructor(public free: number) {}
  tryAcquire(key: string): boolean {
    this.asked.push(key);
    if (this.free === 0) return false;
    this.free--;
    return true;
  }
  release(): void {
    this.free++;
  }
}

/** A session stand-in that records admission's answer. */
class Subject implements AdmissionSubject {
  readonly host: SessionHost;
  readonly runtime: ProxyRuntime;
  readonly listener = { name: 'edge' } as ListenerRuntime;
  readonly clientId = 'client-a';
  readonly clientAddress = '127.0.0.5';
  readonly clientPort = 40_000;
  readonly group = { name: 'g' } as UpstreamGroup;
  readonly admissionKey = 'client-a';
  closing = false;
  answer: ErrorCode | ConcurrencyGate | 'no cap' | undefined;
  readonly logger = new MemoryLogger();
  readonly events = new ProxyEvents();

  constructor(rateLimit?: RateGate, concurrency?: ConcurrencyGate) {
    this.runtime = { rateLimit, concurrency } as ProxyRuntime;
    this.host = { runtime: this.runtime, logger: this.logger, events: this.events, sessionClosed() {} };
  }
  fail(code: ErrorCode): void {
    this.answer = code;
  }
  admitted(held: ConcurrencyGate | null): void {
    this.answer = held ?? 'no cap';
  }
}

const rate = (answer: number | Promise<number>): RateGate => ({ take: () => answer });

describe('admission: the rate limit, then the concurrency cap', () => {
  const slot = new SlotGate(1);
  const full = new SlotGate(0);
  const cases: {
    name: string;
    rate?: RateGate;
    concurrency?: SlotGate;
    answer: ErrorCode | ConcurrencyGate | 'no cap';
    capAsked: boolean;
  }[] = [
    { name: 'no gates: admitted, holding nothing', answer: 'no cap', capAsked: false },
    { name: 'rate allows, no cap', rate: rate(0), answer: 'no cap', capAsked: false },
    {
      name: 'rate refuses: the cap is never asked',
      rate: rate(500),
      concurrency: full,
      answer: ErrorCodes.ERR_RATE_LIMITED,
      capAsked: false,
    },
    {
      name: 'rate allows, a slot is free: admitted holding it',
      rate: rate(0),
      concurrency: slot,
      answer: slot,
      capAsked: true,
    },
    {
      name: 'no rate, the cap is full',
      concurrency: full,
      answer: ErrorCodes.ERR_CONCURRENCY_LIMIT,
      capAsked: true,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const asked = c.concurrency?.asked.length ?? 0;
      const s = new Subject(c.rate, c.concurrency);
      admit(s);
      assert.equal(s.answer, c.answer);
      assert.equal((c.concurrency?.asked.length ?? 0) - asked, c.capAsked ? 1 : 0);
    });
  }

  it('waits for a store that answers later', async () => {
    const cap = new SlotGate(1);
    const s = new Subject(rate(Promise.resolve(0)), cap);
    admit(s);
    assert.equal(s.answer, undefined);
    await new Promise(setImmediate);
    assert.equal(s.answer, cap);
  });

  it('admits when the store fails, and says so in the log', async () => {
    const s = new Subject(rate(Promise.reject(new Error('store down'))));
    admit(s);
    await new Promise(setImmediate);
    assert.equal(s.answer, 'no cap');
    const line = s.logger.lines.find((l) => l.message === 'rate limit store failed; admitting');
    assert.equal(line?.fields.code, ErrorCodes.ERR_STORE_UNAVAILABLE);
  });

  it('drops a late answer for a session that is closing, keeping no slot', async () => {
    const cap = new SlotGate(1);
    const s = new Subject(rate(Promise.resolve(0)), cap);
    admit(s);
    s.closing = true;
    await new Promise(setImmediate);
    assert.equal(s.answer, undefined);
    // The cap is asked (a shared one may have reserved the slot with the rate decision) and the
    // slot goes straight back.
    assert.deepEqual(cap.asked, ['client-a']);
    assert.equal(cap.free, 1);
  });

  it('drops a late concurrency answer for a session that is closing, giving the slot back', async () => {
    let released = 0;
    const late: ConcurrencyGate = {
      tryAcquire: () => Promise.resolve(true),
      release: () => {
        released++;
      },
    };
    const s = new Subject(rate(0), late);
    admit(s);
    s.closing = true;
    await new Promise(setImmediate);
    assert.equal(s.answer, undefined);
    assert.equal(released, 1);
  });

  it('announces an admission with the gates that were asked', () => {
    for (const [rateLimit, concurrency] of [
      [undefined, undefined],
      [rate(0), new SlotGate(1)],
    ] as const) {
      const s = new Subject(rateLimit, concurrency);
      const seen: SessionAdmittedEvent[] = [];
      s.events.sessionAdmitted.subscribe((e) => seen.push(e));
      announceAdmission(s);
      const checked = rateLimit !== undefined;
      assert.deepEqual(seen, [
        {
          listener: 'edge',
          clientId: 'client-a',
          clientAddress: '127.0.0.5',
          clientPort: 40_000,
          group: 'g',
          rateChecked: checked,
          concurrencyChecked: checked,
        },
      ]);
    }
  });
});
