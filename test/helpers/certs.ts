/**
 * The shared test PKI: one CA with a server certificate and a set of client identities (good, bad and
 * odd), plus a second CA for "untrusted" cases. Generated once per process and reused by every test.
 */
import { join } from 'node:path';
import {
  createCertificateAuthority,
  createClientCertificate,
  createServerCertificate,
  type PemPair,
} from '../../src/pki/dev-authority.js';
import { type PemPairPaths, writePemPair } from '../../src/pki/pem-files.js';

/** Every certificate of the test PKI; all but `otherCa` and `untrusted` chain to `ca`. */
export interface TestPki {
  /** The trusted CA (ECDSA P-256). */
  ca: PemPair;
  /** Server certificate for localhost, 127.0.0.1 and ::1 (ECDSA). */
  server: PemPair;
  /** CN client-a, O groupA. */
  groupA: PemPair;
  /** CN client-b, O groupB. */
  groupB: PemPair;
  /** CN mallory, O intruder: trusted but belongs to no configured group. */
  intruder: PemPair;
  /** CN no-org and no O. */
  noOrg: PemPair;
  /** O groupA and no CN. */
  noCn: PemPair;
  /** CN multi, O groupB then O groupA. */
  multiOrg: PemPair;
  /** CN old, O groupA, expired yesterday. */
  expired: PemPair;
  /** RSA 2048 server certificate for localhost, 127.0.0.1 and ::1, signed by `ca`. */
  rsaServer: PemPair;
  /** RSA 2048 client certificate, CN rsa-client, O groupA, signed by `ca`. */
  rsaClient: PemPair;
  /** A second, unrelated CA. */
  otherCa: PemPair;
  /** CN stranger, O groupA, signed by `otherCa`: well-formed but not trusted by `ca`. */
  untrusted: PemPair;
}

/** Names of the pairs in a {@link TestPki}, which are also the base names {@link writeTestPki} uses. */
export type TestPkiName = keyof TestPki;

const DAY_MS = 86_400_000;
let cached: Promise<TestPki> | undefined;

/** The test PKI, created on first call and shared by every later call in the process. */
export function getTestPki(): Promise<TestPki> {
  cached ??= createTestPki();
  // A failed generation should fail every caller, not be retried with a half-built cache.
  return cached;
}

async function createTestPki(): Promise<TestPki> {
  const [ca, otherCa] = await Promise.all([
    createCertificateAuthority({ commonName: 'Switchyard Test CA' }),
    createCertificateAuthority({ commonName: 'Some Other CA' }),
  ]);
  const now = Date.now();
  const [server, groupA, groupB, intruder, noOrg, noCn, multiOrg, expired, rsaServer, rsaClient, untrusted] =
    await Promise.all([
      createServerCertificate(ca),
      createClientCertificate(ca, { commonName: 'client-a', organizations: ['groupA'] }),
      createClientCertificate(ca, { commonName: 'client-b', organizations: ['groupB'] }),
      createClientCertificate(ca, { commonName: 'mallory', organizations: ['intruder'] }),
      createClientCertificate(ca, { commonName: 'no-org' }),
      createClientCertificate(ca, { organizations: ['groupA'] }),
      createClientCertificate(ca, { commonName: 'multi', organizations: ['groupB', 'groupA'] }),
      createClientCertificate(ca, {
        commonName: 'old',
        organizations: ['groupA'],
        notBefore: new Date(now - 30 * DAY_MS),
        notAfter: new Date(now - DAY_MS),
      }),
      createServerCertificate(ca, { algorithm: 'rsa' }),
      createClientCertificate(ca, { commonName: 'rsa-client', organizations: ['groupA'], algorithm: 'rsa' }),
      createClientCertificate(otherCa, { commonName: 'stranger', organizations: ['groupA'] }),
    ]);
  return {
    ca,
    server,
    groupA,
    groupB,
    intruder,
    noOrg,
    noCn,
    multiOrg,
    expired,
    rsaServer,
    rsaClient,
    otherCa,
    untrusted,
  };
}

/** File paths of a written test PKI: `caPath` is the trusted CA certificate, the rest one pair per name. */
export type TestPkiPaths = Record<TestPkiName, PemPairPaths> & { caPath: string };

/**
 * Writes the whole test PKI under `dir` as `<name>.pem` / `<name>.key` (replacing earlier files) for
 * tests that configure Switchyard through files; returns the paths.
 */
export async function writeTestPki(dir: string): Promise<TestPkiPaths> {
  const pki = await getTestPki();
  const names = Object.keys(pki) as TestPkiName[];
  const written = await Promise.all(names.map((name) => writePemPair(dir, name, pki[name], { force: true })));
  const paths = Object.fromEntries(names.map((name, i) => [name, written[i]])) as Record<
    TestPkiName,
    PemPairPaths
  >;
  return { ...paths, caPath: join(dir, 'ca.pem') };
}
