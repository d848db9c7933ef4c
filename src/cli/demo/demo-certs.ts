/**
 * The demo's certificates: a CA, a server certificate and one client certificate per org, kept in
 * one directory. Valid files from an earlier run are reused, so the curl lines printed last time
 * keep working; missing, expired or mismatched ones are (re)created.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import {
  createCertificateAuthority,
  createClientCertificate,
  createServerCertificate,
  type PemPair,
} from '../../pki/dev-authority.js';
import { writePemPair } from '../../pki/pem-files.js';

/** A certificate and key file pair. */
export interface PemFiles {
  certPath: string;
  keyPath: string;
}

/** A client identity of the demo. */
export interface DemoClient extends PemFiles {
  /** Organization (certificate O). */
  org: string;
  /** Client id (certificate CN). */
  cn: string;
}

/** Where the demo's certificates are, and which were made now. */
export interface DemoCertificates {
  /** The CA certificate clients trust and the balancer checks client certificates against. */
  ca: PemFiles;
  /** The balancer's certificate. */
  server: PemFiles;
  /** One per org, in the order asked. */
  clients: DemoClient[];
  /** Base names (`ca`, `server`, `client-groupA`) created or replaced by this call. */
  created: string[];
  /** Base names reused from an earlier run. */
  reused: string[];
}

/** Options of {@link ensureDemoCertificates}. */
export interface DemoCertificateOptions {
  /** One client certificate per org: CN `client-<org>`, O `<org>`, files `client-<org>.pem`/`.key`. */
  orgs: readonly string[];
  /** Names and addresses the server certificate must cover besides localhost, 127.0.0.1 and ::1. */
  serverNames?: readonly string[];
}

// A certificate this close to expiring is replaced rather than reused.
const MIN_REMAINING_MS = 86_400_000;

/** The CN of the demo's client certificate for `org`. */
export function demoClientId(org: string): string {
  return `client-${org}`;
}

/** Makes sure `dir` holds a usable demo PKI and returns its file paths. */
export async function ensureDemoCertificates(
  dir: string,
  options: DemoCertificateOptions,
): Promise<DemoCertificates> {
  const created: string[] = [];
  const reused: string[] = [];
  const names = [...new Set(['localhost', '127.0.0.1', '::1', ...(options.serverNames ?? [])])];

  let ca = await readUsable(dir, 'ca', (cert, now) => cert.ca && fresh(cert, now));
  if (ca === undefined) {
    ca = await createCertificateAuthority({ commonName: 'Switchyard Demo CA' });
    await writePemPair(dir, 'ca', ca, { force: true });
    created.push('ca');
  } else {
    reused.push('ca');
  }
  const caCert = new X509Certificate(ca.cert);
  const issuedByCa = (cert: X509Certificate, now: number) =>
    fresh(cert, now) && cert.checkIssued(caCert) && cert.verify(caCert.publicKey);

  const server = await readUsable(
    dir,
    'server',
    (cert, now) =>
      issuedByCa(cert, now) &&
      names.every((n) => (isIP(n) === 0 ? cert.checkHost(n) !== undefined : cert.checkIP(n) !== undefined)),
  );
  if (server === undefined) {
    await writePemPair(
      dir,
      'server',
      await createServerCertificate(ca, {
        dnsNames: names.filter((n) => isIP(n) === 0),
        ipAddresses: names.filter((n) => isIP(n) !== 0),
      }),
      { force: true },
    );
    created.push('server');
  } else {
    reused.push('server');
  }

  const clients: DemoClient[] = [];
  for (const org of options.orgs) {
    const base = `client-${org}`;
    const cn = demoClientId(org);
    const existing = await readUsable(
      dir,
      base,
      (cert, now) =>
        issuedByCa(cert, now) &&
        cert.subject.split('\n').includes(`O=${org}`) &&
        cert.subject.split('\n').includes(`CN=${cn}`),
    );
    if (existing === undefined) {
      await writePemPair(
        dir,
        base,
        await createClientCertificate(ca, { commonName: cn, organizations: [org] }),
        {
          force: true,
        },
      );
      created.push(base);
    } else {
      reused.push(base);
    }
    clients.push({ org, cn, ...files(dir, base) });
  }
  return { ca: files(dir, 'ca'), server: files(dir, 'server'), clients, created, reused };
}

function files(dir: string, base: string): PemFiles {
  return { certPath: join(dir, `${base}.pem`), keyPath: join(dir, `${base}.key`) };
}

/** The pair `<dir>/<base>.pem|key` if both parse, the key matches and `usable` holds; else undefined. */
async function readUsable(
  dir: string,
  base: string,
  usable: (cert: X509Certificate, now: number) => boolean,
): Promise<PemPair | undefined> {
  const { certPath, keyPath } = files(dir, base);
  try {
    const [certText, keyText] = await Promise.all([readFile(certPath, 'utf8'), readFile(keyPath, 'utf8')]);
    const cert = new X509Certificate(certText);
    if (!cert.checkPrivateKey(createPrivateKey(keyText))) return undefined;
    return usable(cert, Date.now()) ? { cert: certText, key: keyText } : undefined;
  } catch {
    // Missing, unreadable or not PEM: made anew.
    return undefined;
  }
}

function fresh(cert: X509Certificate, now: number): boolean {
  return Date.parse(cert.validFrom) <= now && Date.parse(cert.validTo) - now > MIN_REMAINING_MS;
}
