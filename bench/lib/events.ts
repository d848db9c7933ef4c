// The cost of the proxy's events on the hot path: a publish site as the data plane writes it
// (`if (channel.hasSubscribers) channel.publish({...})`) with nobody listening, and with one
// subscriber, against the same loop without any event. The message is the one a session publishes
// when it is admitted, built per publish as a session builds it.
import { EventChannel, type SessionAdmittedEvent } from '../../src/proxy/events.js';
import type { BenchRow } from './report.js';

const ROUNDS = 7;

interface Case {
  name: string;
  /** Runs `n` iterations; returns a number so the work cannot be optimized away. */
  run(n: number): number;
}

const LISTENER = 'edge';
const GROUP = 'g';

/** A channel of its own per case, so no case sees another's subscribers. */
function admittedChannel(name: string): EventChannel<SessionAdmittedEvent> {
  return new EventChannel<SessionAdmittedEvent>(`switchyard:bench:${name}`);
}

function publishLoop(channel: EventChannel<SessionAdmittedEvent>, n: number): number {
  let ports = 0;
  for (let i = 0; i < n; i++) {
    ports += i & 0xffff;
    if (channel.hasSubscribers)
      channel.publish({
        listener: LISTENER,
        clientId: '',
        clientAddress: '127.0.0.1',
        clientPort: i & 0xffff,
        group: GROUP,
        rateChecked: true,
        concurrencyChecked: false,
      });
  }
  return ports;
}

function makeCases(): Case[] {
  const quiet = admittedChannel('quiet');
  const heard = admittedChannel('heard');
  let received = 0;
  heard.subscribe((m) => {
    received += m.clientPort;
  });
  return [
    {
      name: 'baseline: the same loop without an event',
      run(n) {
        let ports = 0;
        for (let i = 0; i < n; i++) ports += i & 0xffff;
        return ports;
      },
    },
    { name: 'publish site, no subscriber', run: (n) => publishLoop(quiet, n) },
    { name: 'publish site, one subscriber', run: (n) => publishLoop(heard, n) + received },
  ];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Measures each case in rounds taken in turn (so drift hits all alike); one row per case. */
export function runEventBenchmarks(options: { quick: boolean }): BenchRow[] {
  const n = options.quick ? 1_000_000 : 10_000_000;
  const cases = makeCases();
  // Warm-up, so every case runs optimized code.
  for (const c of cases) c.run(n / 10);
  const nsPer: number[][] = cases.map(() => []);
  let sink = 0;
  for (let r = 0; r < ROUNDS; r++) {
    cases.forEach((c, i) => {
      const start = process.hrtime.bigint();
      sink += c.run(n);
      nsPer[i].push(Number(process.hrtime.bigint() - start) / n);
    });
  }
  if (sink === -1) console.log(sink);
  return cases.map((c, i) => {
    const ns = median(nsPer[i]);
    return { suite: 'events', name: c.name, size: 1, opsPerSec: 1e9 / ns, extra: { nsPerOp: ns } };
  });
}
