/**
 * Writing and reading a certificate and its key as a pair of PEM files: `<base>.pem` (world-readable)
 * and `<base>.key` (owner only). Existing files are never replaced unless the caller says so.
 */
import { chmod, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { ErrorCodes, SwitchyardError } from '../lib/errors.js';
import type { PemPair } from './dev-authority.js';

/** Where {@link writePemPair} put the certificate and the key. */
export interface PemPairPaths {
  certPath: string;
  keyPath: string;
}

/** Options of {@link writePemPair}: `force` replaces existing files. */
export interface WritePemPairOptions {
  force?: boolean;
}

const CERT_MODE = 0o644;
const KEY_MODE = 0o600;

/**
 * Writes `<dir>/<baseName>.pem` (0644) and `<dir>/<baseName>.key` (0600), creating `dir`; refuses to
 * replace either file unless `force`.
 */
export async function writePemPair(
  dir: string,
  baseName: string,
  pair: PemPair,
  options: WritePemPairOptions = {},
): Promise<PemPairPaths> {
  if (baseName.length === 0 || baseName !== basename(baseName) || baseName === '.' || baseName === '..') {
    throw invalid(`certificate name "${baseName}" must be a plain file name without directories`);
  }
  const certPath = join(dir, `${baseName}.pem`);
  const keyPath = join(dir, `${baseName}.key`);
  if (!options.force) {
    // Check both before writing either, so a refusal never leaves a new cert next to an old key.
    for (const path of [certPath, keyPath]) {
      if (await exists(path)) throw invalid(`${path} already exists; use --force to overwrite it`);
    }
  }
  await mkdir(dir, { recursive: true });
  // Remove and recreate rather than truncate: a file's mode is only set at creation, and the key must
  // never sit, even briefly, in a file someone else can read. 'wx' also catches a file that appeared
  // since the check above.
  if (options.force) await Promise.all([rm(certPath, { force: true }), rm(keyPath, { force: true })]);
  await writeExclusive(keyPath, pair.key, KEY_MODE);
  await writeExclusive(certPath, pair.cert, CERT_MODE);
  return { certPath, keyPath };
}

/** Reads a certificate and key PEM file pair, checking each holds the expected PEM block. */
export async function readPemPair(certPath: string, keyPath: string): Promise<PemPair> {
  // One after the other, so a missing pair always names the certificate first, never by race.
  const cert = await readPem(certPath);
  const key = await readPem(keyPath);
  if (!cert.includes('-----BEGIN CERTIFICATE-----')) throw invalid(`${certPath} holds no PEM certificate`);
  if (!/-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/.test(key))
    throw invalid(`${keyPath} holds no PEM private key`);
  return { cert, key };
}

async function writeExclusive(path: string, text: string, mode: number): Promise<void> {
  try {
    await writeFile(path, text, { flag: 'wx', mode });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw invalid(`${path} already exists; use --force to overwrite it`, err);
    }
    throw err;
  }
  // The process umask may have narrowed or (for the cert) kept the mode from what we asked for.
  await chmod(path, mode);
}

async function readPem(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw invalid(`cannot read ${path}: ${(err as Error).message}`, err);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

function invalid(message: string, cause?: unknown): SwitchyardError {
  return new SwitchyardError(
    ErrorCodes.ERR_INVALID_ARGUMENT,
    message,
    cause === undefined ? undefined : { cause },
  );
}
