/** `switchyard certs init|server|client`: the development certificate authority on the command line. */
import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { ErrorCodes, SwitchyardError } from '../../lib/errors.js';
import {
  createCertificateAuthority,
  createClientCertificate,
  createServerCertificate,
  type KeyAlgorithm,
  type PemPair,
} from '../../pki/dev-authority.js';
import { type PemPairPaths, readPemPair, writePemPair } from '../../pki/pem-files.js';
import { showPath } from '../check/summary.js';

interface CommonOptions {
  dir: string;
  rsa?: boolean;
  force?: boolean;
}

/** Options of `switchyard certs init`. */
export interface CertsInitOptions extends CommonOptions {
  cn?: string;
}

/** Options of `switchyard certs server`. */
export interface CertsServerOptions extends CommonOptions {
  name: string[];
  ip: string[];
  out: string;
}

/** Options of `switchyard certs client`. */
export interface CertsClientOptions extends CommonOptions {
  cn: string;
  org: string[];
  out?: string;
}

/** Writes `<dir>/ca.pem` and `<dir>/ca.key`: a new self-signed CA. */
export async function certsInit(options: CertsInitOptions): Promise<void> {
  const pair = await createCertificateAuthority({ commonName: options.cn, algorithm: algorithm(options) });
  const paths = await writePemPair(options.dir, 'ca', pair, { force: options.force });
  report(paths, pair, 'certificate authority');
  console.log(
    `next: switchyard certs server --dir ${options.dir}   and   switchyard certs client --dir ${options.dir} --cn NAME --org ORG`,
  );
}

/** Writes `<dir>/<out>.pem` and `.key`: a server certificate signed by `<dir>/ca.*`. */
export async function certsServer(options: CertsServerOptions): Promise<void> {
  const ca = await readAuthority(options.dir);
  const pair = await createServerCertificate(ca, {
    commonName: options.name[0],
    dnsNames: options.name,
    ipAddresses: options.ip,
    algorithm: algorithm(options),
  });
  report(
    await writePemPair(options.dir, options.out, pair, { force: options.force }),
    pair,
    'server certificate',
  );
}

/** Writes `<dir>/<out>.pem` and `.key` (default `<cn>`): a client certificate signed by `<dir>/ca.*`. */
export async function certsClient(options: CertsClientOptions): Promise<void> {
  const out = options.out ?? clientBaseName(options.cn);
  const ca = await readAuthority(options.dir);
  const pair = await createClientCertificate(ca, {
    commonName: options.cn,
    organizations: options.org,
    algorithm: algorithm(options),
  });
  report(await writePemPair(options.dir, out, pair, { force: options.force }), pair, 'client certificate');
}

/**
 * The file name a client certificate gets from its CN: the CN itself, as people look for it. A CN
 * that is no plain file name, or one that would replace the CA's or the server's files, needs --out.
 */
function clientBaseName(cn: string): string {
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.@-]*$/.test(cn)) {
    throw new SwitchyardError(
      ErrorCodes.ERR_INVALID_ARGUMENT,
      `the common name "${cn}" is not a plain file name; give the file name with --out, e.g. --out client-1`,
    );
  }
  if (cn === 'ca' || cn === 'server') {
    throw new SwitchyardError(
      ErrorCodes.ERR_INVALID_ARGUMENT,
      `a client certificate named "${cn}" would sit on ${cn}.pem/${cn}.key; give another file name with --out, e.g. --out client-${cn}`,
    );
  }
  return cn;
}

function algorithm(options: CommonOptions): KeyAlgorithm {
  return options.rsa ? 'rsa' : 'ecdsa';
}

async function readAuthority(dir: string): Promise<PemPair> {
  const certPath = join(dir, 'ca.pem');
  const keyPath = join(dir, 'ca.key');
  try {
    return await readPemPair(certPath, keyPath);
  } catch (err) {
    throw new SwitchyardError(
      ErrorCodes.ERR_INVALID_ARGUMENT,
      `${(err as Error).message}; create the CA first with: switchyard certs init --dir ${dir}`,
      { cause: err },
    );
  }
}

/** One line per file written, then what the certificate says. */
function report(paths: PemPairPaths, pair: PemPair, what: string): void {
  const cert = new X509Certificate(pair.cert);
  const key = cert.publicKey.asymmetricKeyType === 'rsa' ? 'RSA 2048' : 'ECDSA P-256';
  const cwd = process.cwd();
  console.log(`wrote ${showPath(paths.certPath, cwd)} (${what})`);
  console.log(`wrote ${showPath(paths.keyPath, cwd)} (private key, mode 0600)`);
  console.log(`  subject  ${cert.subject.split('\n').join(', ')}`);
  if (cert.subjectAltName !== undefined) console.log(`  names    ${cert.subjectAltName}`);
  console.log(`  issuer   ${cert.issuer.split('\n').join(', ')}`);
  console.log(`  key      ${key}, valid until ${new Date(cert.validTo).toISOString()}`);
}
