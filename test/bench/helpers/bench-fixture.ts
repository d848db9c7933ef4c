/**
 * Real benchmark upstreams for the tests of the upstreams and the load generator: the upstream
 * process started on a fresh bench PKI in a private directory, the bench client's TLS options, and a
 * port nobody serves.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeBenchCerts } from '../../../src/bench/bench-certs.js';
import type { ClientTlsOptions } from '../../../src/bench/load/client-tls.js';
import type { BenchCertFiles, BenchUpstreams, Endpoint, Latency } from '../../../src/bench/types.js';
import { startBenchUpstreams } from '../../../src/bench/upstream/bench-upstreams.js';

/** Running upstreams, their certificate files, the bench client's TLS options, and `stop()` for all. */
export interface BenchFixture {
  upstreams: BenchUpstreams;
  certs: BenchCertFiles;
  /** Directory the certificates are in; removed by `stop()`. */
  dir: string;
  tls: ClientTlsOptions;
  stop(): Promise<void>;
}

/** Writes a bench PKI and starts the upstream process on it. */
export async function startBenchFixture(): Promise<BenchFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-load-'));
  const certs = await writeBenchCerts(dir);
  const [ca, cert, key] = await Promise.all(
    [certs.caCert, certs.clientCert, certs.clientKey].map((path) => readFile(path, 'utf8')),
  );
  const upstreams = await startBenchUpstreams(certs);
  return {
    upstreams,
    certs,
    dir,
    tls: { ca, cert, key, servername: 'localhost' },
    stop: async () => {
      await upstreams.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A loopback port that was just free and is closed: connections to it are refused. */
export async function refusedEndpoint(): Promise<Endpoint> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return { host: '127.0.0.1', port };
}

/** Asserts a latency was reported, positive, with p50 <= p90 <= p99 <= max. */
export function assertOrderedLatency(latency: Latency | undefined): void {
  assert.ok(latency, 'no latency reported');
  assert.ok(latency.p50 > 0, `p50 ${latency.p50}`);
  assert.ok(latency.p50 <= latency.p90, `p50 ${latency.p50} > p90 ${latency.p90}`);
  assert.ok(latency.p90 <= latency.p99, `p90 ${latency.p90} > p99 ${latency.p99}`);
  assert.ok(latency.p99 <= latency.max, `p99 ${latency.p99} > max ${latency.max}`);
}
