/**
 * A development certificate authority in pure JavaScript (WebCrypto + @peculiar/x509): a self-signed CA
 * and the server and client certificates Switchyard's mutual TLS needs, as PEM strings. Meant for
 * `switchyard certs`, `switchyard demo` and tests; nothing here shells out to openssl.
 */
// @peculiar/x509 resolves its algorithm registry through decorators that need the metadata polyfill
// loaded first; this is the one source module that imports the library, so the polyfill lives here.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import * as x509 from '@peculiar/x509';
import { ErrorCodes, SwitchyardError } from '../lib/errors.js';

x509.cryptoProvider.set(webcrypto);

// The build has no DOM lib, so WebCrypto's types come from node:crypto's namespace.
type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
type Algorithm = webcrypto.Algorithm;

/** Key algorithm of a generated certificate: ECDSA P-256 (default) or RSA 2048. */
export type KeyAlgorithm = 'ecdsa' | 'rsa';

/** A certificate and its private key, both PEM: the key as PKCS#8 ("BEGIN PRIVATE KEY"). */
export interface PemPair {
  cert: string;
  key: string;
}

/** Options of {@link createCertificateAuthority}. */
export interface CertificateAuthorityOptions {
  commonName?: string;
  algorithm?: KeyAlgorithm;
  validDays?: number;
}

/**
 * Options of {@link createServerCertificate}; given names are added to localhost, 127.0.0.1 and ::1;
 * notBefore/notAfter override validDays (e.g. for expired certs).
 */
export interface ServerCertificateOptions {
  commonName?: string;
  dnsNames?: string[];
  ipAddresses?: string[];
  algorithm?: KeyAlgorithm;
  validDays?: number;
  notBefore?: Date;
  notAfter?: Date;
}

/** Options of {@link createClientCertificate}; notBefore/notAfter override validDays (e.g. for expired certs). */
export interface ClientCertificateOptions {
  commonName?: string;
  organizations?: string[];
  algorithm?: KeyAlgorithm;
  validDays?: number;
  notBefore?: Date;
  notAfter?: Date;
}

/** Common name of the CA when none is given. */
export const DEFAULT_CA_COMMON_NAME = 'Switchyard Development CA';
/** Validity of a CA certificate when none is given, in days. */
export const DEFAULT_CA_VALID_DAYS = 3650;
/** Validity of a server or client certificate when none is given, in days. */
export const DEFAULT_LEAF_VALID_DAYS = 825;

const DAY_MS = 86_400_000;
// Certificates start a little in the past so a peer whose clock lags ours still accepts them.
const BACKDATE_MS = 5 * 60_000;
const DEFAULT_DNS_NAMES = ['localhost'];
const DEFAULT_IP_ADDRESSES = ['127.0.0.1', '::1'];

const ECDSA_KEY: webcrypto.EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' };
const RSA_KEY: webcrypto.RsaHashedKeyGenParams = {
  name: 'RSASSA-PKCS1-v1_5',
  modulusLength: 2048,
  publicExponent: new Uint8Array([1, 0, 1]),
  hash: 'SHA-256',
};
// The hash travels with an RSA key; ECDSA keys take it from the signing parameters instead.
const ECDSA_SIGNING: webcrypto.EcdsaParams = { name: 'ECDSA', hash: 'SHA-256' };
const RSA_SIGNING: Algorithm = { name: 'RSASSA-PKCS1-v1_5' };

/** Creates a self-signed CA certificate (CA:true critical, keyCertSign + cRLSign) and its key. */
export async function createCertificateAuthority(
  options: CertificateAuthorityOptions = {},
): Promise<PemPair> {
  const algorithm = checkAlgorithm(options.algorithm);
  const commonName = options.commonName ?? DEFAULT_CA_COMMON_NAME;
  checkNonEmpty('commonName', commonName);
  const { notBefore, notAfter } = validity(options.validDays ?? DEFAULT_CA_VALID_DAYS);
  const keys = await generateKeys(algorithm);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerialNumber(),
    name: [{ CN: [commonName] }],
    notBefore,
    notAfter,
    keys,
    signingAlgorithm: signingAlgorithmFor(algorithm),
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert: cert.toString('pem'), key: await exportKey(keys.privateKey) };
}

/** Creates a server certificate (serverAuth) signed by `ca`, valid for localhost, 127.0.0.1, ::1 and any names given. */
export async function createServerCertificate(
  ca: PemPair,
  options: ServerCertificateOptions = {},
): Promise<PemPair> {
  const algorithm = checkAlgorithm(options.algorithm);
  const commonName = options.commonName ?? 'localhost';
  checkNonEmpty('commonName', commonName);
  const dnsNames = unique([...DEFAULT_DNS_NAMES, ...(options.dnsNames ?? [])]);
  for (const name of dnsNames) checkNonEmpty('dnsNames', name);
  const ipAddresses = unique([...DEFAULT_IP_ADDRESSES, ...(options.ipAddresses ?? [])]);
  for (const ip of ipAddresses) {
    if (isIP(ip) === 0) throw invalid(`ipAddresses: "${ip}" is not an IPv4 or IPv6 address`);
  }
  const { notBefore, notAfter } = leafValidity(options);
  return issue(ca, {
    algorithm,
    subject: [{ CN: [commonName] }],
    notBefore,
    notAfter,
    extendedKeyUsage: x509.ExtendedKeyUsage.serverAuth,
    extra: [
      new x509.SubjectAlternativeNameExtension([
        ...dnsNames.map((value) => ({ type: 'dns' as const, value })),
        ...ipAddresses.map((value) => ({ type: 'ip' as const, value })),
      ]),
    ],
  });
}

/**
 * Creates a client certificate (clientAuth) signed by `ca` whose subject carries the given CN (if any)
 * and one O attribute per organization, in order; either may be absent so tests can build bad identities.
 */
export async function createClientCertificate(
  ca: PemPair,
  options: ClientCertificateOptions = {},
): Promise<PemPair> {
  const algorithm = checkAlgorithm(options.algorithm);
  const organizations = options.organizations ?? [];
  for (const org of organizations) checkNonEmpty('organizations', org);
  if (options.commonName !== undefined) checkNonEmpty('commonName', options.commonName);
  const { notBefore, notAfter } = leafValidity(options);
  // One RDN per attribute, organizations first: the conventional "O=..., CN=..." order.
  const subject: x509.JsonName = organizations.map((org) => ({ O: [org] }));
  if (options.commonName !== undefined) subject.push({ CN: [options.commonName] });
  return issue(ca, {
    algorithm,
    subject,
    notBefore,
    notAfter,
    extendedKeyUsage: x509.ExtendedKeyUsage.clientAuth,
    extra: [],
  });
}

interface IssueParams {
  algorithm: KeyAlgorithm;
  subject: x509.JsonName;
  notBefore: Date;
  notAfter: Date;
  extendedKeyUsage: x509.ExtendedKeyUsage;
  extra: x509.Extension[];
}

/** Signs a new end-entity certificate with the CA's key. */
async function issue(ca: PemPair, params: IssueParams): Promise<PemPair> {
  const authority = await loadAuthority(ca);
  const keys = await generateKeys(params.algorithm);
  // RSA keys also encipher in TLS 1.2 RSA key exchange; ECDSA keys only sign.
  const usages =
    params.algorithm === 'rsa'
      ? x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment
      : x509.KeyUsageFlags.digitalSignature;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerialNumber(),
    subject: params.subject,
    issuer: authority.cert.subjectName,
    notBefore: params.notBefore,
    notAfter: params.notAfter,
    publicKey: keys.publicKey,
    signingKey: authority.signingKey,
    signingAlgorithm: authority.signingAlgorithm,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(usages, true),
      new x509.ExtendedKeyUsageExtension([params.extendedKeyUsage]),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      new x509.AuthorityKeyIdentifierExtension(authority.keyId),
      ...params.extra,
    ],
  });
  return { cert: cert.toString('pem'), key: await exportKey(keys.privateKey) };
}

interface Authority {
  cert: x509.X509Certificate;
  signingKey: CryptoKey;
  signingAlgorithm: Algorithm;
  keyId: string;
}

/** Parses a CA pair and imports its key for signing; the key algorithm follows the CA certificate's. */
async function loadAuthority(ca: PemPair): Promise<Authority> {
  let cert: x509.X509Certificate;
  try {
    cert = new x509.X509Certificate(ca.cert);
  } catch (err) {
    throw invalid('ca.cert is not a PEM certificate', err);
  }
  const basic = cert.getExtension(x509.BasicConstraintsExtension);
  if (!basic?.ca) throw invalid(`ca.cert (${cert.subject}) is not a CA certificate`);
  const algorithm = keyAlgorithmOf(cert);
  let signingKey: CryptoKey;
  try {
    const der = x509.PemConverter.decodeFirst(ca.key);
    signingKey = await webcrypto.subtle.importKey(
      'pkcs8',
      der,
      algorithm === 'rsa' ? RSA_KEY : ECDSA_KEY,
      false,
      ['sign'],
    );
  } catch (err) {
    throw invalid('ca.key is not a PKCS#8 PEM private key matching ca.cert', err);
  }
  // Reuse the CA's own key identifier so authority and subject key ids always match, even for a CA
  // made elsewhere; compute it the same way only when the CA lacks one.
  const keyId =
    cert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId ??
    Buffer.from(await cert.publicKey.getKeyIdentifier()).toString('hex');
  return { cert, signingKey, signingAlgorithm: signingAlgorithmFor(algorithm), keyId };
}

function keyAlgorithmOf(cert: x509.X509Certificate): KeyAlgorithm {
  const name = cert.publicKey.algorithm.name;
  if (name === 'ECDSA') {
    const curve = (cert.publicKey.algorithm as webcrypto.EcKeyAlgorithm).namedCurve;
    if (curve !== 'P-256') throw invalid(`ca.cert uses curve ${curve}; only P-256 is supported`);
    return 'ecdsa';
  }
  if (name === 'RSASSA-PKCS1-v1_5') return 'rsa';
  throw invalid(`ca.cert uses key algorithm ${name}; only ECDSA P-256 and RSA are supported`);
}

async function generateKeys(algorithm: KeyAlgorithm): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(algorithm === 'rsa' ? RSA_KEY : ECDSA_KEY, true, [
    'sign',
    'verify',
  ]) as Promise<CryptoKeyPair>;
}

async function exportKey(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

function signingAlgorithmFor(algorithm: KeyAlgorithm): Algorithm {
  return algorithm === 'rsa' ? RSA_SIGNING : ECDSA_SIGNING;
}

/** 16 random bytes, high bit clear (positive in DER) and never a leading zero byte (no re-encoding). */
function randomSerialNumber(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] &= 0x7f;
  if (bytes[0] === 0) bytes[0] = 0x01;
  return Buffer.from(bytes).toString('hex');
}

function validity(validDays: number): { notBefore: Date; notAfter: Date } {
  if (!Number.isFinite(validDays) || validDays <= 0) {
    throw invalid(`validDays must be a positive number of days, got ${validDays}`);
  }
  const now = Date.now();
  return { notBefore: new Date(now - BACKDATE_MS), notAfter: new Date(now + validDays * DAY_MS) };
}

function leafValidity(options: ClientCertificateOptions | ServerCertificateOptions): {
  notBefore: Date;
  notAfter: Date;
} {
  const validDays = options.validDays ?? DEFAULT_LEAF_VALID_DAYS;
  const defaults = validity(validDays);
  const notBefore = options.notBefore ?? defaults.notBefore;
  // An explicit notBefore shifts the whole window, so "notBefore only" still yields validDays of validity.
  const notAfter =
    options.notAfter ??
    (options.notBefore ? new Date(notBefore.getTime() + validDays * DAY_MS) : defaults.notAfter);
  for (const [name, date] of [
    ['notBefore', notBefore],
    ['notAfter', notAfter],
  ] as const) {
    if (Number.isNaN(date.getTime())) throw invalid(`${name} is not a valid date`);
  }
  if (notAfter.getTime() <= notBefore.getTime()) {
    throw invalid(
      `notAfter (${notAfter.toISOString()}) must be later than notBefore (${notBefore.toISOString()})`,
    );
  }
  return { notBefore, notAfter };
}

function checkAlgorithm(algorithm: KeyAlgorithm | undefined): KeyAlgorithm {
  if (algorithm === undefined) return 'ecdsa';
  if (algorithm !== 'ecdsa' && algorithm !== 'rsa') {
    throw invalid(`algorithm must be "ecdsa" or "rsa", got "${String(algorithm)}"`);
  }
  return algorithm;
}

function checkNonEmpty(field: string, value: string): void {
  if (typeof value !== 'string' || value.length === 0) throw invalid(`${field} must be a non-empty string`);
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

function invalid(message: string, cause?: unknown): SwitchyardError {
  return new SwitchyardError(
    ErrorCodes.ERR_INVALID_ARGUMENT,
    message,
    cause === undefined ? undefined : { cause },
  );
}
