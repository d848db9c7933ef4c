/** Test clients that push bytes through a target and report what came back. */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import type { BenchCertFiles, Endpoint } from '../../../src/bench/types.js';

const EXCHANGE_TIMEOUT_MS = 10_000;

/** How a test client reaches an endpoint: plain TCP, or TLS with or without the bench client certificate. */
export type ClientMode = { kind: 'tcp' } | { kind: 'tls'; certs: BenchCertFiles; withClientCert: boolean };

/** A payload large enough to take several reads and writes on every hop. */
export function testPayload(): Buffer {
  return randomBytes(256 * 1024);
}

/**
 * Connects, writes `payload` and collects what comes back until `expectedBytes` have arrived, the
 * peer closes, or the time bound passes; resolves with the bytes received and why it stopped.
 */
export function exchange(
  endpoint: Endpoint,
  mode: ClientMode,
  payload: Buffer,
  expectedBytes: number,
): Promise<{ received: Buffer; ended: 'complete' | 'closed' | 'timeout'; error?: Error }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let length = 0;
    let error: Error | undefined;
    let settled = false;
    const socket: Socket =
      mode.kind === 'tcp'
        ? connectTcp({ host: endpoint.host, port: endpoint.port }, () => socket.write(payload))
        : connectTls(
            {
              host: endpoint.host,
              port: endpoint.port,
              servername: 'localhost',
              ca: readFileSync(mode.certs.caCert),
              ...(mode.withClientCert
                ? { cert: readFileSync(mode.certs.clientCert), key: readFileSync(mode.certs.clientKey) }
                : {}),
            },
            () => socket.write(payload),
          );
    const finish = (ended: 'complete' | 'closed' | 'timeout') => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ received: Buffer.concat(chunks), ended, error });
    };
    const timer = setTimeout(() => finish('timeout'), EXCHANGE_TIMEOUT_MS);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      length += chunk.length;
      if (length >= expectedBytes) finish('complete');
    });
    socket.on('error', (err) => {
      error = err;
    });
    socket.on('close', () => finish('closed'));
  });
}
