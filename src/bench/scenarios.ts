/**
 * The proxy scenarios: what load each one drives through a target, and which report rows (a rate,
 * a CPU cost per unit, a memory cost) it yields. Rows of one scenario come from the same run, so a
 * rate and its CPU cost always describe the same work.
 */
import { setTimeout } from 'node:timers/promises';
import { runBulk } from './load/bulk.js';
import type { ClientTlsOptions } from './load/client-tls.js';
import { runHandshakes } from './load/handshakes.js';
import { holdIdle } from './load/idle-hold.js';
import { runIperf3 } from './load/iperf3.js';
import { runRequests } from './load/request-loop.js';
import { DATAGRAMS_PER_EXCHANGE, runUdpEchoLoop } from './load/udp-echo-loop.js';
import { runWrk } from './load/wrk.js';
import { readTreeUsage } from './measure/process-tree.js';
import type { AgreementPair } from './report/warnings.js';
import type { LoadResult, RunningTarget } from './types.js';

/** What a scenario run needs besides its target. */
export interface ScenarioContext {
  /** Measured span of one run, ms. */
  durationMs: number;
  /** Idle connections the memory scenario holds. */
  idleConnections: number;
  /** Client credentials for the mTLS scenarios. */
  tls: ClientTlsOptions;
  /** Use wrk for the HTTP scenarios (when it is installed and not switched off). */
  useWrk: boolean;
}

/** One run of a scenario on one target. */
export interface ScenarioMeasurement {
  load: LoadResult;
  /** CPU the target's processes used during the run, ms; undefined for `direct`. */
  proxyCpuMs?: number;
  /** Growth of the target's resident memory over the run, bytes; only the idle scenario reads it. */
  rssGrowthBytes?: number;
  /** Connections the target's guards refused during the run, by reason; set by the suite. */
  refused?: Record<string, number>;
}

/** A report row a scenario yields. */
export interface RowSpec {
  /** The row's name in tables and charts, e.g. `keep-alive requests/s`. */
  name: string;
  unit: string;
  higherIsBetter: boolean;
  /** A cost of the proxy itself (CPU, memory): `direct` has no row. */
  proxyOnly?: boolean;
  /** The row's figure for one run; undefined when it does not apply (CPU rows on `direct`). */
  value(m: ScenarioMeasurement): number | undefined;
}

/** A load shape and the rows it reports. */
export interface Scenario {
  id: string;
  /** One sentence for the report's notes: what the load is. */
  describe(context: ScenarioContext): string;
  rows: RowSpec[];
  /**
   * Run on a target started just for this run and stopped after it: memory figures need a process
   * whose heap has not already grown under earlier load.
   */
  freshTarget?: boolean;
  /** A tool the scenario drives its load with and cannot run without; the suite leaves it out then. */
  needs?: 'iperf3';
  /** Whether the scenario can run through `target`; one it cannot gets no cell (`—`). Every target when absent. */
  appliesTo?(target: RunningTarget): boolean;
  run(target: RunningTarget, context: ScenarioContext): Promise<ScenarioMeasurement>;
}

// Bounds far above what a run can reach in its span: the duration ends every run, the counts only
// guarantee that a runaway loop stops.
const MAX_UNITS = 50_000_000;
const MAX_BYTES = 1e13;
const HTTP_CONNECTIONS = 50;
const HANDSHAKE_CONCURRENCY = 16;
const IDLE_OPEN_CONCURRENCY = 64;
const IDLE_SETTLE_MS = 500;
const UDP_CLIENTS = 32;
const UDP_PAYLOAD_BYTES = 64;
const UDP_RESEND_MS = 200;

const perSecond = (m: ScenarioMeasurement) => (m.load.units * 1000) / m.load.elapsedMs;
const cpuMicrosPerUnit = (m: ScenarioMeasurement) =>
  m.proxyCpuMs === undefined || m.load.units === 0 ? undefined : (m.proxyCpuMs * 1000) / m.load.units;

/** Runs `load` between two readings of the target's CPU. */
async function withProxyCpu(
  target: RunningTarget,
  load: () => Promise<LoadResult>,
): Promise<ScenarioMeasurement> {
  if (target.pids.length === 0) return { load: await load() };
  const before = await readTreeUsage(target.pids);
  const result = await load();
  const after = await readTreeUsage(target.pids);
  return { load: result, proxyCpuMs: after.cpuMs - before.cpuMs };
}

function streamsLabel(streams: number): string {
  return streams === 1 ? '1 stream' : `${streams} streams`;
}

function bulkRowName(streams: number): string {
  return `bulk throughput, ${streamsLabel(streams)}`;
}

function iperf3RowName(streams: number, direction: Iperf3Direction = 'download'): string {
  return direction === 'upload'
    ? `bulk upload, ${streamsLabel(streams)} (iperf3)`
    : `bulk, ${streamsLabel(streams)} (iperf3)`;
}

type Iperf3Direction = 'download' | 'upload';

/** Our bulk rows and the iperf3 rows that measure the same paths, which must agree. */
export const AGREEMENT_PAIRS: readonly AgreementPair[] = [1, 8].map((streams) => ({
  ours: bulkRowName(streams),
  iperf3: iperf3RowName(streams),
}));

function bulkScenario(streams: number): Scenario {
  const label = streamsLabel(streams);
  return {
    id: `bulk-${streams}`,
    describe: () =>
      `bulk ${label}: the upstream writes 256 KiB buffers as fast as the path takes them; Gbit/s counted by the reader`,
    rows: [
      {
        name: bulkRowName(streams),
        unit: 'Gbit/s',
        higherIsBetter: true,
        value: (m) => (m.load.units * 8) / (m.load.elapsedMs * 1e6),
      },
      {
        name: `proxy CPU per GB, ${label}`,
        unit: 'ms',
        higherIsBetter: false,
        proxyOnly: true,
        value: (m) =>
          m.proxyCpuMs === undefined || m.load.units === 0 ? undefined : (m.proxyCpuMs * 1e9) / m.load.units,
      },
    ],
    run: (target, c) =>
      withProxyCpu(target, () =>
        // no separate warm-up: bytes and the proxy's CPU are then counted over the same span
        runBulk({
          endpoint: target.plain.bulk,
          streams,
          durationMs: c.durationMs,
          maxBytes: MAX_BYTES,
          warmupMs: 0,
        }),
      ),
  };
}

/**
 * Throughput measured by iperf3 through the target to an iperf3 server: `download` (`-R`, the
 * upstream sends, the path our own bulk rows measure) or `upload` (the client sends, iperf3's default).
 */
function iperf3Scenario(streams: number, direction: Iperf3Direction = 'download'): Scenario {
  const label = streamsLabel(streams);
  const upload = direction === 'upload';
  return {
    id: upload ? `iperf3-upload-${streams}` : `iperf3-${streams}`,
    needs: 'iperf3',
    describe: (c) =>
      `bulk ${upload ? 'upload ' : ''}${label} (iperf3): \`iperf3 -c${upload ? '' : ' -R'} -P ${streams} -t ${iperf3Seconds(c.durationMs)}\` through the target to an \`iperf3 -s\` upstream (${upload ? 'the client sends' : 'the upstream sends'}); Gbit/s as iperf3's receiver counts them`,
    rows: [
      {
        name: iperf3RowName(streams, direction),
        unit: 'Gbit/s',
        higherIsBetter: true,
        value: (m) => (m.load.units * 8) / (m.load.elapsedMs * 1e6),
      },
    ],
    run: async (target, c) => ({
      load: await runIperf3({ endpoint: target.plain.iperf3, streams, durationMs: c.durationMs, direction }),
    }),
  };
}

/** The whole seconds iperf3 runs for a run of `durationMs` (`-t` takes no fractions). */
function iperf3Seconds(durationMs: number): number {
  return Math.max(1, Math.ceil(durationMs / 1000));
}

function httpLoad(target: RunningTarget, c: ScenarioContext, keepAlive: boolean): Promise<LoadResult> {
  const endpoint = target.plain.http;
  if (c.useWrk) {
    return runWrk({
      endpoint,
      connections: HTTP_CONNECTIONS,
      threads: 1,
      durationMs: c.durationMs,
      keepAlive,
    });
  }
  return runRequests({
    endpoint,
    connections: HTTP_CONNECTIONS,
    durationMs: c.durationMs,
    maxRequests: MAX_UNITS,
    keepAlive,
  });
}

const keepAliveScenario: Scenario = {
  id: 'keepalive',
  describe: () =>
    `keep-alive: ${HTTP_CONNECTIONS} persistent connections, one small HTTP request at a time each, through a plain TCP listener`,
  rows: [
    { name: 'keep-alive requests/s', unit: 'req/s', higherIsBetter: true, value: perSecond },
    {
      name: 'proxy CPU per keep-alive request',
      unit: 'µs',
      higherIsBetter: false,
      proxyOnly: true,
      value: cpuMicrosPerUnit,
    },
  ],
  run: (target, c) => withProxyCpu(target, () => httpLoad(target, c, true)),
};

const newConnectionScenario: Scenario = {
  id: 'connect',
  describe: () =>
    `new connections: ${HTTP_CONNECTIONS} at a time, one request each with \`Connection: close\`, through a plain TCP listener`,
  rows: [
    { name: 'new TCP connections/s', unit: 'conn/s', higherIsBetter: true, value: perSecond },
    {
      name: 'proxy CPU per new connection',
      unit: 'µs',
      higherIsBetter: false,
      proxyOnly: true,
      value: cpuMicrosPerUnit,
    },
  ],
  run: (target, c) => withProxyCpu(target, () => httpLoad(target, c, false)),
};

function handshakeScenario(resume: boolean): Scenario {
  const kind = resume ? 'resumed' : 'full';
  return {
    id: `mtls-${kind}`,
    describe: () =>
      `${kind} mTLS handshakes: ${HANDSHAKE_CONCURRENCY} at a time, ECDSA P-256 client certificate, TLS 1.3, one echoed byte each${resume ? ', resuming the previous session ticket' : ''}`,
    rows: [
      { name: `${kind} mTLS handshakes/s`, unit: 'hs/s', higherIsBetter: true, value: perSecond },
      {
        name: `proxy CPU per ${kind} mTLS handshake`,
        unit: 'µs',
        higherIsBetter: false,
        proxyOnly: true,
        value: cpuMicrosPerUnit,
      },
    ],
    run: (target, c) =>
      withProxyCpu(target, () =>
        runHandshakes({
          endpoint: target.mtls,
          concurrency: HANDSHAKE_CONCURRENCY,
          durationMs: c.durationMs,
          maxHandshakes: MAX_UNITS,
          tls: c.tls,
          resume,
        }),
      ),
  };
}

const idleMemoryScenario: Scenario = {
  id: 'idle-memory',
  freshTarget: true,
  describe: (c) =>
    `idle connections: ${c.idleConnections} plain TCP connections opened through the target, each proven with one echoed byte, then held; resident memory growth of the target per connection`,
  rows: [
    {
      name: 'memory per idle proxied connection',
      unit: 'KB',
      higherIsBetter: false,
      proxyOnly: true,
      value: (m) =>
        m.rssGrowthBytes === undefined || m.load.units === 0
          ? undefined
          : m.rssGrowthBytes / 1000 / m.load.units,
    },
  ],
  async run(target, c) {
    const before = target.pids.length > 0 ? await readTreeUsage(target.pids) : undefined;
    const cpuStart = process.cpuUsage();
    const started = performance.now();
    const hold = await holdIdle({
      endpoint: target.plain.echo,
      count: c.idleConnections,
      concurrency: IDLE_OPEN_CONCURRENCY,
    });
    try {
      // let the target finish the bookkeeping of the last connections before reading its memory
      await setTimeout(IDLE_SETTLE_MS);
      const after = before === undefined ? undefined : await readTreeUsage(target.pids);
      const cpu = process.cpuUsage(cpuStart);
      const load: LoadResult = {
        units: hold.held,
        errors: hold.errors,
        elapsedMs: performance.now() - started,
        generatorCpuMs: (cpu.user + cpu.system) / 1000,
        tool: 'switchyard',
      };
      if (before === undefined || after === undefined) return { load };
      return { load, rssGrowthBytes: after.rssBytes - before.rssBytes };
    } finally {
      await hold.close();
    }
  },
};

const datagrams = (m: ScenarioMeasurement) => m.load.units * DATAGRAMS_PER_EXCHANGE;

/** The id of the UDP scenario, whose targets the suite also warms up over UDP. */
export const UDP_SCENARIO_ID = 'udp';

const udpScenario: Scenario = {
  id: UDP_SCENARIO_ID,
  describe: () =>
    `UDP: ${UDP_CLIENTS} client sockets (one flow each), each sending a ${UDP_PAYLOAD_BYTES}-byte datagram to a UDP echo and the next when the reply arrives (closed loop; a datagram unanswered in ${UDP_RESEND_MS} ms is sent again and counted as an error); each exchange is two datagrams through the proxy. HAProxy's open-source edition has no UDP proxying, so haproxy has no UDP cells; in switchyard-workers one worker reads the UDP socket`,
  rows: [
    {
      name: 'UDP datagrams/s',
      unit: 'dgram/s',
      higherIsBetter: true,
      value: (m) => (datagrams(m) * 1000) / m.load.elapsedMs,
    },
    {
      name: 'proxy CPU per datagram',
      unit: 'µs',
      higherIsBetter: false,
      proxyOnly: true,
      value: (m) =>
        m.proxyCpuMs === undefined || m.load.units === 0 ? undefined : (m.proxyCpuMs * 1000) / datagrams(m),
    },
  ],
  appliesTo: (target) => target.udp !== undefined,
  run: (target, c) =>
    withProxyCpu(target, () =>
      runUdpEchoLoop({
        endpoint: target.udp!,
        clients: UDP_CLIENTS,
        payloadBytes: UDP_PAYLOAD_BYTES,
        durationMs: c.durationMs,
        maxExchanges: MAX_UNITS,
        resendMs: UDP_RESEND_MS,
      }),
    ),
};

/** Every scenario, in run and report order. */
export const SCENARIOS: readonly Scenario[] = [
  bulkScenario(1),
  bulkScenario(8),
  iperf3Scenario(1),
  iperf3Scenario(8),
  iperf3Scenario(1, 'upload'),
  iperf3Scenario(8, 'upload'),
  keepAliveScenario,
  newConnectionScenario,
  handshakeScenario(false),
  handshakeScenario(true),
  udpScenario,
  idleMemoryScenario,
];
