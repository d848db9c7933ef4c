import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Refusal, RefusalSource } from '../../src/control/dashboard/refusal-source.js';
import type { FromWorker } from '../../src/workers/messages.js';
import { RefusalRelay } from '../../src/workers/refusal-relay.js';
import { RefusalsFromWorkers } from '../../src/workers/refusals-from-workers.js';

/** A source whose refusals the test emits, and whether anyone watches it. */
function manualSource(): RefusalSource & { emit(r: Refusal): void; watched: number } {
  const watchers = new Set<(r: Refusal) => void>();
  return {
    get watched() {
      return watchers.size;
    },
    watch(record) {
      watchers.add(record);
      return () => watchers.delete(record);
    },
    emit(r) {
      for (const w of watchers) w(r);
    },
  };
}

const refusal = (id: string): Refusal => ({ id, org: 'acme', code: 'ERR_RATE_LIMITED', listener: 'edge' });

describe("a worker's refusal relay", () => {
  it('gathers refusals into one message, bounded, and leaves nothing subscribed or scheduled when stopped', async () => {
    const sent: FromWorker[] = [];
    const relay = new RefusalRelay((m) => sent.push(m));
    const source = manualSource();
    relay.start(source);
    relay.start(source);
    assert.equal(source.watched, 1, 'started once');
    for (let i = 0; i < 1005; i++) source.emit(refusal(`c${i}`));
    assert.equal(sent.length, 0, 'not one message per refusal');
    while (sent.length === 0) await sleep(50);
    const first = sent[0] as Extract<FromWorker, { type: 'refusals' }>;
    assert.equal(first.type, 'refusals');
    assert.equal(first.refusals.length, 1000);
    assert.equal(first.dropped, 5);
    source.emit(refusal('late'));
    relay.stop();
    assert.equal(source.watched, 0);
    assert.equal(relay.watching, false);
    assert.deepEqual(
      (sent[1] as Extract<FromWorker, { type: 'refusals' }>).refusals.map((r) => r.id),
      ['late'],
      'what was gathered goes at stop',
    );
    relay.stop();
    assert.equal(sent.length, 2, 'nothing more to send');
  });
});

describe("the primary's refusals from workers", () => {
  it('turns the workers on for the first watcher and off after the last, and hands on what they send', () => {
    const told: boolean[] = [];
    const from = new RefusalsFromWorkers((on) => told.push(on));
    const a: string[] = [];
    const b: string[] = [];
    const offA = from.watch((r) => a.push(r.id));
    const offB = from.watch((r) => b.push(r.id));
    assert.deepEqual(told, [true]);
    assert.equal(from.watching, true);
    from.deliver([refusal('x'), refusal('y')], 3);
    assert.deepEqual(a, ['x', 'y']);
    assert.deepEqual(b, ['x', 'y']);
    assert.equal(from.dropped, 3);
    offA();
    offA();
    assert.deepEqual(told, [true]);
    offB();
    assert.deepEqual(told, [true, false]);
    assert.equal(from.watching, false);
  });
});
