/**
 * The benchmark's PKI: one ECDSA P-256 CA, a server certificate for 127.0.0.1 and localhost and the
 * `bench-client` client certificate, written as PEM files every target reads the same way.
 */
import { chmod, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  createCertificateAuthority,
  createClientCertificate,
  createServerCertificate,
} from '../pki/dev-authority.js';
import { writePemPair } from '../pki/pem-files.js';
import type { BenchCertFiles } from './types.js';

/** Common name of the client certificate the load generators present. */
export const BENCH_CLIENT_CN = 'bench-client';
/** Organization of the client certificate; every target routes this org to the echo upstream. */
export const BENCH_CLIENT_ORG = 'bench';

/**
 * Creates the bench PKI and writes it under `dir` (created if missing): `ca.pem`/`ca.key`,
 * `server.pem`/`server.key`, `client.pem`/`client.key` and `server-combined.pem`. Existing files of
 * those names are replaced. Paths are absolute, because the proxies resolve relative paths against
 * their own prefix directories rather than ours.
 */
export async function writeBenchCerts(dir: string): Promise<BenchCertFiles> {
  const root = resolve(dir);
  const ca = await createCertificateAuthority({ commonName: 'Switchyard Bench CA' });
  const [server, client] = await Promise.all([
    createServerCertificate(ca),
    createClientCertificate(ca, { commonName: BENCH_CLIENT_CN, organizations: [BENCH_CLIENT_ORG] }),
  ]);
  const caFiles = await writePemPair(root, 'ca', ca, { force: true });
  const serverFiles = await writePemPair(root, 'server', server, { force: true });
  const clientFiles = await writePemPair(root, 'client', client, { force: true });
  const serverCombined = join(root, 'server-combined.pem');
  // It holds the private key, so it gets the key's mode, not the certificate's.
  await writeFile(serverCombined, `${server.cert.trimEnd()}\n${server.key.trimEnd()}\n`, { mode: 0o600 });
  await chmod(serverCombined, 0o600);
  return {
    caCert: caFiles.certPath,
    serverCert: serverFiles.certPath,
    serverKey: serverFiles.keyPath,
    serverCombined,
    clientCert: clientFiles.certPath,
    clientKey: clientFiles.keyPath,
  };
}
