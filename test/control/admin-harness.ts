/**
 * Shared pieces of the control tests: an admin server on 127.0.0.1:0 in front of a test proxy, JSON
 * requests with fetch, and a parser for the Prometheus text format.
 */
import { type AdminActions, directAdminActions, type ReloadResult } from '../../src/control/admin-actions.js';
import { type AdminServer, startAdminServer } from '../../src/control/admin-server.js';
import type { HealthStatusFn } from '../../src/control/admin-views.js';
import { createMetrics, type Metrics } from '../../src/control/metrics.js';
import type { TestProxy } from '../helpers/proxy-harness.js';

/** An admin server under test. */
export interface TestAdmin {
  server: AdminServer;
  metrics: Metrics;
  actions: AdminActions;
  /** `http://127.0.0.1:<port>` */
  base: string;
  close(): Promise<void>;
}

/** Options of {@link startTestAdmin}. */
export interface TestAdminOptions {
  token?: string;
  reload?: () => Promise<ReloadResult>;
  healthStatus?: HealthStatusFn;
  actions?: AdminActions;
  maxBodyBytes?: number;
}

/** Starts metrics (watching the proxy's events and snapshots) and an admin server for `t`. */
export async function startTestAdmin(t: TestProxy, options: TestAdminOptions = {}): Promise<TestAdmin> {
  const metrics = createMetrics(t.proxy, { processMetrics: true });
  const actions = options.actions ?? directAdminActions(t.proxy, options.reload);
  const server = await startAdminServer({
    bind: '127.0.0.1:0',
    token: options.token,
    proxy: t.proxy,
    actions,
    metrics,
    healthStatus: options.healthStatus,
    logger: t.logger,
    maxBodyBytes: options.maxBodyBytes,
  });
  return {
    server,
    metrics,
    actions,
    base: `http://127.0.0.1:${server.port}`,
    close: () => server.close(),
  };
}

/** A response with its JSON body parsed (or undefined when it is not JSON). */
export interface JsonResponse {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: test code reads arbitrary JSON shapes
  body: any;
  text: string;
}

/** Sends one request; `body` objects are sent as JSON, strings as they are. */
export async function request(
  admin: TestAdmin,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<JsonResponse> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] = 'application/json';
  }
  const res = await fetch(admin.base + path, init);
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

/** One sample of the Prometheus text format. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses exposition text into samples: `name{labels} value` lines, comments skipped. */
export function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/.exec(line);
    if (m === null) throw new Error(`unparsable metrics line: ${line}`);
    const labels: Record<string, string> = {};
    const labelText = m[2] ?? '';
    for (const l of labelText.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[l[1]] = l[2].replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    const raw = m[3];
    const value = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw);
    samples.push({ name: m[1], labels, value });
  }
  return samples;
}

/** The value of the one sample named `name` whose labels include `labels`; undefined when none. */
export function sample(
  samples: Sample[],
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const found = samples.filter(
    (s) =>
      s.name === name &&
      Object.keys(labels).length === Object.keys(s.labels).length &&
      Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  if (found.length > 1) throw new Error(`${found.length} samples match ${name} ${JSON.stringify(labels)}`);
  return found[0]?.value;
}

/** Scrapes `/metrics` and parses it. */
export async function scrape(admin: TestAdmin): Promise<Sample[]> {
  const res = await fetch(`${admin.base}/metrics`);
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  return parseMetrics(await res.text());
}
