/**
 * Starts a real proxy the way the CLI does (config text -> validated config -> runtime -> ProxyServer),
 * on port 0, with an in-memory logger and the session records (from its events) the test can assert on.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { parseConfigText } from '../../src/config/load-config.js';
import type { SwitchyardConfig } from '../../src/config/types.js';
import { accessLogObserver } from '../../src/control/access-log.js';
import type { Logger } from '../../src/lib/logger.js';
import type { EventChannel, ProxyEvents, SessionRecord } from '../../src/proxy/events.js';
import { ProxyServer } from '../../src/proxy/proxy.js';
import { type BuiltRuntime, buildRuntime } from '../../src/runtime/build-runtime.js';
import { RuntimeManager } from '../../src/runtime/runtime-manager.js';
import { type TestPkiPaths, writeTestPki } from './certs.js';

/** One log call as the memory logger saw it. */
export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  fields: Record<string, unknown>;
}

/** A logger that keeps every line for assertions. */
export class MemoryLogger implements Logger {
  readonly lines: LogLine[] = [];
  debug(fields: object, message = ''): void {
    this.lines.push({ level: 'debug', message, fields: fields as Record<string, unknown> });
  }
  info(fields: object, message = ''): void {
    this.lines.push({ level: 'info', message, fields: fields as Record<string, unknown> });
  }
  warn(fields: object, message = ''): void {
    this.lines.push({ level: 'warn', message, fields: fields as Record<string, unknown> });
  }
  error(fields: object, message = ''): void {
    this.lines.push({ level: 'error', message, fields: fields as Record<string, unknown> });
  }
}

/** A running proxy under test. */
export interface TestProxy {
  proxy: ProxyServer;
  config: SwitchyardConfig;
  logger: MemoryLogger;
  /** Every session record, in the order sessions ended. */
  records: SessionRecord[];
  /** The bound port of listener `name` (default: the first). */
  port(name?: string): number;
  /** Waits for the first session record from index `from` on that matches, and returns it. */
  record(match: (r: SessionRecord) => boolean, from?: number): Promise<SessionRecord>;
  /** The reload/API manager of this proxy, as the CLI builds it. */
  manager: RuntimeManager;
  /** Shuts the proxy down with no grace and stops its timers. */
  stop(): Promise<void>;
}

let pkiDir: Promise<TestPkiPaths> | undefined;

/** The test PKI written once per process to a temp dir, for configs that name files. */
export function testPkiFiles(): Promise<TestPkiPaths> {
  pkiDir ??= writeTestPki(mkdtempSync(join(tmpdir(), 'switchyard-pki-')));
  return pkiDir;
}

/** The `tls:` block of a listener using the test PKI's server certificate. */
export async function testTlsBlock(
  server: 'server' | 'rsaServer' = 'server',
): Promise<Record<string, string>> {
  const p = await testPkiFiles();
  return { cert: p[server].certPath, key: p[server].keyPath, clientCa: p.caPath };
}

/** Starts a proxy from a configuration object written as YAML, exactly as a file would be. */
export async function startTestProxy(config: Record<string, unknown>): Promise<TestProxy> {
  const text = stringify(config);
  const parsed = parseConfigText(text, join(tmpdir(), 'switchyard-test.yaml'));
  const built = await buildRuntime(parsed);
  const logger = new MemoryLogger();
  const records: SessionRecord[] = [];
  const accessLog = accessLogObserver(logger);
  const waiters: (() => void)[] = [];
  const proxy = new ProxyServer(built.runtime, { logger });
  proxy.events.sessionEnded.subscribe((r) => {
    records.push(r);
    accessLog(r);
    for (const w of waiters.splice(0)) w();
  });
  built.start();
  await proxy.start();
  const manager = new RuntimeManager(proxy, parsed, built, logger);
  manager.watch();
  return {
    proxy,
    manager,
    config: parsed,
    logger,
    records,
    port: (name) => proxy.listener(name ?? parsed.listeners[0].name).address().port,
    record: async (match, from = 0) => {
      for (;;) {
        const found = records.slice(from).find(match);
        if (found !== undefined) return found;
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    },
    stop: async () => {
      await proxy.shutdown({ graceMs: 0, jitterMs: 0 });
      manager.stop();
    },
  };
}

/** Builds the runtime of a configuration object written as YAML, exactly as a file would be. */
export async function buildTestRuntime(config: Record<string, unknown>): Promise<BuiltRuntime> {
  return buildRuntime(parseConfigText(stringify(config), join(tmpdir(), 'switchyard-test.yaml')));
}

/** A proxy built but not yet bound, so a test can subscribe before the first event. */
export interface BuiltTestProxy {
  proxy: ProxyServer;
  logger: MemoryLogger;
  /** The built runtime (its limiters' and health checkers' timers are started by {@link start}). */
  built: BuiltRuntime;
  /** Starts the runtime's timers and binds every listener. */
  start(): Promise<void>;
  /** Shuts the proxy down with no grace and stops the runtime's timers. */
  stop(): Promise<void>;
}

/** Builds a proxy from a configuration object, without the reload manager and without binding it. */
export async function buildTestProxy(config: Record<string, unknown>): Promise<BuiltTestProxy> {
  const built = await buildTestRuntime(config);
  const logger = new MemoryLogger();
  const proxy = new ProxyServer(built.runtime, { logger });
  return {
    proxy,
    logger,
    built,
    start: async () => {
      built.start();
      await proxy.start();
    },
    stop: async () => {
      await proxy.shutdown({ graceMs: 0, jitterMs: 0 });
      built.stop();
    },
  };
}

/** One event as {@link recordEvents} saw it: the channel's property name and the message. */
export interface SeenEvent {
  channel: keyof ProxyEvents;
  message: unknown;
}

/** Subscribes to every channel of `events` and keeps what each delivers, in order. */
export function recordEvents(events: ProxyEvents): SeenEvent[] {
  const seen: SeenEvent[] = [];
  for (const channel of Object.keys(events) as (keyof ProxyEvents)[]) {
    const c = events[channel] as EventChannel<unknown>;
    c.subscribe((message) => seen.push({ channel, message }));
  }
  return seen;
}
