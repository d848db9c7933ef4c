/**
 * Switchyard as a benchmark target, run fully featured as an operator would run it: the real
 * `switchyard run` binary, JSON access log on (one line per session), per-client rate limit and
 * concurrency cap on, the admin API and /metrics live. The limits are set far above any load the
 * suite makes, so they cost their bookkeeping but never refuse.
 *
 * Beside a plain TCP listener per upstream kind and a mutual-TLS one, it has a `protocol: udp`
 * listener in front of the UDP echo (with workers, one of them reads its socket).
 *
 * Two targets run it: `switchyard` with the listeners' per-source guards (connection cap, handshake
 * rate, handshake backlog) opened as wide as the limits, and `switchyard-defaults` with those guards
 * at their defaults, as a user who sets none runs it. Both count refusals in /metrics, which the
 * suite reads around every run.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { ErrorCodes, SwitchyardError } from '../../lib/errors.js';
import { BENCH_CLIENT_ORG } from '../bench-certs.js';
import { readRefusals } from '../measure/refusals.js';
import {
  type BenchCertFiles,
  type BenchUpstreams,
  type Endpoint,
  type RunningTarget,
  type Target,
  type TargetContext,
  type TargetName,
  UPSTREAM_KINDS,
  type UpstreamKind,
} from '../types.js';
import { LOOPBACK } from './free-port.js';
import { spawnTargetProcess, startFailure, stopTargetProcess, type TargetProcess } from './target-process.js';

/** A running Switchyard, which also serves its admin API (and /metrics). */
export interface SwitchyardRunningTarget extends RunningTarget {
  admin: Endpoint;
}

// dist/src/bench/targets/switchyard.js -> the package root.
const PACKAGE_ROOT = new URL('../../../../', import.meta.url);
const BIN = fileURLToPath(new URL('bin/switchyard.js', PACKAGE_ROOT));
const PACKAGE_JSON = fileURLToPath(new URL('package.json', PACKAGE_ROOT));
const READY_TIMEOUT_MS = 10_000;
const READY_POLL_MS = 25;
// Far above anything the suite generates: the limiters do their work on every connection and refuse none.
const NEVER_REACHED = 1_000_000_000;
const MTLS_LISTENER = 'mtls-echo';
/** The UDP listener's name, and its group's. */
const UDP_LISTENER = 'udp-echo';

/** Name of the plain TCP listener that reaches upstream `kind`. */
export function plainListenerName(kind: UpstreamKind): string {
  return `plain-${kind}`;
}

/** How a Switchyard target sets its listeners' guards: opened wide, or left at their defaults. */
export type ListenerGuards = 'open' | 'defaults';

/**
 * The configuration the suite runs Switchyard with (JSON, which the loader reads as such). Every
 * listener and the admin API bind port 0; the ports the kernel picks are read from the log, so there
 * is no window in which another process can take them.
 */
export function switchyardConfig(
  upstreams: BenchUpstreams,
  certs: BenchCertFiles,
  guards: ListenerGuards = 'open',
  workers = 1,
): Record<string, unknown> {
  // Every load-generator connection comes from 127.0.0.1, so opened guards must be at least as
  // generous as the client limits, or they would refuse first. Left out, they take their defaults.
  const listenerLimits =
    guards === 'defaults'
      ? {}
      : {
          maxConnections: NEVER_REACHED,
          handshakeRate: { perSource: NEVER_REACHED, window: '1s' },
          maxPendingHandshakes: NEVER_REACHED,
        };
  const groups: Record<string, unknown> = {};
  for (const kind of UPSTREAM_KINDS) {
    const { host, port } = upstreams.endpoints[kind];
    groups[kind] = { balancer: 'least-connections', upstreams: [{ address: `${host}:${port}` }] };
  }
  const { host, port } = upstreams.udpEcho;
  groups[UDP_LISTENER] = { balancer: 'least-connections', upstreams: [{ address: `${host}:${port}` }] };
  return {
    listeners: [
      ...UPSTREAM_KINDS.map((kind) => ({
        name: plainListenerName(kind),
        bind: `${LOOPBACK}:0`,
        ...listenerLimits,
        group: kind,
      })),
      {
        name: MTLS_LISTENER,
        bind: `${LOOPBACK}:0`,
        ...listenerLimits,
        tls: { cert: certs.serverCert, key: certs.serverKey, clientCa: certs.caCert },
        routes: [{ org: BENCH_CLIENT_ORG, group: 'echo' }],
      },
      // handshakeRate.perSource is a UDP listener's per-source new-flow rate; the flow table is
      // opened as wide as the connection cap. With workers, one of them reads the UDP socket.
      {
        name: UDP_LISTENER,
        bind: `${LOOPBACK}:0`,
        protocol: 'udp',
        ...listenerLimits,
        ...(guards === 'defaults' ? {} : { maxFlows: NEVER_REACHED }),
        group: UDP_LISTENER,
      },
    ],
    groups,
    workers,
    rateLimit: { algorithm: 'token-bucket', limit: NEVER_REACHED, window: '1s' },
    concurrency: { perClient: NEVER_REACHED },
    // A short grace: the suite stops a target only after its load has finished.
    timeouts: { shutdownGrace: '1s', shutdownJitter: '0' },
    admin: { bind: `${LOOPBACK}:0` },
    log: { level: 'info', format: 'json' },
  };
}

/**
 * Two environment variables serve profiling and before/after comparisons:
 * `SWITCHYARD_BENCH_BIN` runs another checkout's `bin/switchyard.js` (an earlier commit, say), and
 * `SWITCHYARD_BENCH_NODE_ARGS` adds Node.js flags.
 *
 * Extra Node.js flags for the Switchyard process from `SWITCHYARD_BENCH_NODE_ARGS`, e.g.
 * `--cpu-prof --cpu-prof-dir=/tmp/prof` for a profiling pass (Node refuses those in NODE_OPTIONS).
 */
export function nodeArgs(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env.SWITCHYARD_BENCH_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
}

/**
 * Writes the configuration into `workDir`, starts `switchyard run` and waits until it has started;
 * `guards` says how its listeners' guards are set and `name` what the suite calls it.
 */
export async function startSwitchyard(
  context: TargetContext,
  guards: ListenerGuards = 'open',
  name: TargetName = 'switchyard',
  workers = 1,
): Promise<SwitchyardRunningTarget> {
  const configPath = join(context.workDir, 'switchyard.json');
  await writeFile(
    configPath,
    `${JSON.stringify(switchyardConfig(context.upstreams, context.certs, guards, workers), null, 2)}\n`,
  );
  const target = await spawnTargetProcess(
    process.execPath,
    [...nodeArgs(), process.env.SWITCHYARD_BENCH_BIN ?? BIN, 'run', '--config', configPath],
    {
      workDir: context.workDir,
      name: 'switchyard',
      env: withoutSwitchyardVariables(process.env),
    },
  );
  let ports: StartedPorts;
  try {
    ports = await waitUntilStarted(target);
  } catch (err) {
    await stopTargetProcess(target, { signal: 'SIGKILL' });
    throw await startFailure('switchyard', target, (err as Error).message);
  }
  const endpoint = (port: number): Endpoint => ({ host: LOOPBACK, port });
  const admin = endpoint(ports.admin);
  let stopping: Promise<void> | undefined;
  return {
    name,
    plain: Object.fromEntries(
      UPSTREAM_KINDS.map((kind) => [kind, endpoint(ports.listeners[plainListenerName(kind)])]),
    ) as Record<UpstreamKind, Endpoint>,
    mtls: endpoint(ports.listeners[MTLS_LISTENER]),
    udp: endpoint(ports.listeners[UDP_LISTENER]),
    admin,
    pids: [target.pid],
    refusals: () => readRefusals(admin),
    stop: () => {
      stopping ??= stopTargetProcess(target, { signal: 'SIGTERM', graceMs: 5000 });
      return stopping;
    },
  };
}

/** This checkout's version from its package.json; undefined when it cannot be read. */
async function detectSwitchyard(): Promise<string | undefined> {
  try {
    const pkg = JSON.parse(await readFile(PACKAGE_JSON, 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : undefined;
  } catch {
    return undefined;
  }
}

/** Switchyard, run from this checkout's `bin/switchyard.js`, per-source guards opened wide. */
export const switchyardTarget: Target = {
  name: 'switchyard',
  detect: detectSwitchyard,
  start: (context) => startSwitchyard(context, 'open', 'switchyard'),
};

/** The same Switchyard with its listeners' guards at their defaults, as a user runs it. */
export const switchyardDefaultsTarget: Target = {
  name: 'switchyard-defaults',
  detect: detectSwitchyard,
  start: (context) => startSwitchyard(context, 'defaults', 'switchyard-defaults'),
};

/** The same Switchyard as `switchyard` with two worker processes (and a primary). */
export const switchyardWorkersTarget: Target = {
  name: 'switchyard-workers',
  detect: detectSwitchyard,
  start: (context) => startSwitchyard(context, 'open', 'switchyard-workers', 2),
};

/** The ports a started Switchyard bound: each listener's by name, and the admin API's. */
export interface StartedPorts {
  listeners: Record<string, number>;
  admin: number;
}

/**
 * Reads the JSON log until `switchyard started`, which comes after every `listening` line and the
 * `admin API listening` line, and returns the ports those lines name.
 */
async function waitUntilStarted(target: TargetProcess): Promise<StartedPorts> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const ports = startedPorts(await readFile(target.stdoutPath, 'utf8'));
    if (ports !== undefined) return ports;
    if (target.hasExited())
      throw new SwitchyardError(ErrorCodes.ERR_INTERNAL, 'it exited before logging "switchyard started"');
    if (Date.now() > deadline)
      throw new SwitchyardError(
        ErrorCodes.ERR_INTERNAL,
        `no "switchyard started" log line in ${READY_TIMEOUT_MS} ms`,
      );
    await sleep(READY_POLL_MS);
  }
}

/** The bound ports named by the log, once it holds `switchyard started`; undefined before. */
export function startedPorts(log: string): StartedPorts | undefined {
  const listeners: Record<string, number> = {};
  let admin: number | undefined;
  let started = false;
  for (const line of log.split('\n')) {
    if (!line.startsWith('{')) continue;
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue; // the last line may still be half written
    }
    if (entry.msg === 'listening' && typeof entry.listener === 'string' && typeof entry.port === 'number') {
      listeners[entry.listener] = entry.port;
    } else if (entry.msg === 'admin API listening' && typeof entry.address === 'string') {
      admin = Number(entry.address.slice(entry.address.lastIndexOf(':') + 1));
    } else if (entry.msg === 'switchyard started') {
      started = true;
      break;
    }
  }
  if (!started) return undefined;
  const expected = [...UPSTREAM_KINDS.map(plainListenerName), MTLS_LISTENER, UDP_LISTENER];
  const missing = expected.filter((name) => listeners[name] === undefined);
  if (missing.length > 0)
    throw new SwitchyardError(
      ErrorCodes.ERR_INTERNAL,
      `started without logging the port of ${missing.join(', ')}`,
    );
  if (admin === undefined)
    throw new SwitchyardError(ErrorCodes.ERR_INTERNAL, 'started without logging the admin API address');
  return { listeners, admin };
}

/** The environment without `SWITCHYARD_*` variables, which would override the bench configuration. */
function withoutSwitchyardVariables(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([key]) => !key.startsWith('SWITCHYARD_')));
}
