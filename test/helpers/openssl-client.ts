/** The real `openssl s_client` as a test client, for what operators see when they debug with it. */
import { spawn } from 'node:child_process';
import type { PemPairPaths } from '../../src/pki/pem-files.js';

/** How an `openssl s_client` run ended. */
export interface OpensslClientResult {
  /** Exit code, or the signal name when it was killed. */
  exit: number | string;
  stdout: string;
  stderr: string;
}

/** A running `openssl s_client`. */
export interface OpensslClient {
  /** Resolves once the process has exited. */
  result: Promise<OpensslClientResult>;
  /** True once stdout shows the handshake summary (`Verify return code`). */
  connected(): boolean;
}

/**
 * Starts `openssl s_client` against 127.0.0.1:`port` with the client pair `client`, trusting `caPath`.
 * Its stdin is empty and `-ign_eof` keeps it reading until the server closes, so it prints how the
 * connection ended ("closed", an alert, or "unexpected eof"). Killed after `timeoutMs` at the latest.
 */
export function startOpensslClient(
  port: number,
  caPath: string,
  client: PemPairPaths,
  extraArgs: string[] = [],
  timeoutMs = 20_000,
): OpensslClient {
  const args = ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost', '-CAfile', caPath];
  args.push('-cert', client.certPath, '-key', client.keyPath, '-ign_eof', ...extraArgs);
  const child = spawn('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString('latin1');
  });
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString('latin1');
  });
  const killer = setTimeout(() => child.kill(), timeoutMs);
  const result = new Promise<OpensslClientResult>((resolve) => {
    child.on('exit', (code, signal) => {
      clearTimeout(killer);
      resolve({ exit: code ?? signal ?? -1, stdout, stderr });
    });
  });
  return { result, connected: () => stdout.includes('Verify return code') };
}
