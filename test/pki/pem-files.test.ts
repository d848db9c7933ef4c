import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ErrorCodes, hasCode, SwitchyardError } from '../../src/lib/errors.js';
import type { PemPair } from '../../src/pki/dev-authority.js';
import { readPemPair, writePemPair } from '../../src/pki/pem-files.js';
import { getTestPki, type TestPki, writeTestPki } from '../helpers/certs.js';

const modeOf = async (path: string) => (await stat(path)).mode & 0o777;

describe('pem-files', () => {
  let root: string;
  let pki: TestPki;
  let pair: PemPair;
  let other: PemPair;
  let n = 0;
  // A fresh, not yet existing directory per test.
  const freshDir = () => join(root, `case-${++n}`, 'certs');

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'switchyard-pem-files-'));
    pki = await getTestPki();
    pair = pki.groupA;
    other = pki.groupB;
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('writes <base>.pem 0644 and <base>.key 0600, creating the directory', async () => {
    const dir = freshDir();
    const paths = await writePemPair(dir, 'client', pair, {});
    assert.deepEqual(paths, { certPath: join(dir, 'client.pem'), keyPath: join(dir, 'client.key') });
    assert.equal(await readFile(paths.certPath, 'utf8'), pair.cert);
    assert.equal(await readFile(paths.keyPath, 'utf8'), pair.key);
    assert.equal(await modeOf(paths.certPath), 0o644);
    assert.equal(await modeOf(paths.keyPath), 0o600);
  });

  it('refuses to overwrite without force, naming the file and --force, and leaves both files alone', async () => {
    const dir = freshDir();
    const paths = await writePemPair(dir, 'client', pair, {});
    await assert.rejects(writePemPair(dir, 'client', other, {}), (err: unknown) => {
      assert.ok(err instanceof SwitchyardError);
      assert.equal(err.code, ErrorCodes.ERR_INVALID_ARGUMENT);
      assert.match(err.message, /client\.pem/);
      assert.match(err.message, /--force/);
      return true;
    });
    assert.equal(await readFile(paths.certPath, 'utf8'), pair.cert);
    assert.equal(await readFile(paths.keyPath, 'utf8'), pair.key);
  });

  it('refuses when only the key exists, without writing the certificate', async () => {
    const dir = freshDir();
    const { certPath, keyPath } = await writePemPair(dir, 'client', pair, {});
    await rm(certPath);
    await assert.rejects(writePemPair(dir, 'client', other, {}), (err: unknown) => {
      assert.ok(hasCode(err, ErrorCodes.ERR_INVALID_ARGUMENT));
      assert.match((err as Error).message, /client\.key/);
      return true;
    });
    await assert.rejects(stat(certPath), { code: 'ENOENT' });
    assert.equal(await readFile(keyPath, 'utf8'), pair.key);
  });

  it('overwrites with force and restores the key mode to 0600', async () => {
    const dir = freshDir();
    const { keyPath, certPath } = await writePemPair(dir, 'client', pair, {});
    await chmod(keyPath, 0o644);
    const again = await writePemPair(dir, 'client', other, { force: true });
    assert.deepEqual(again, { certPath, keyPath });
    assert.equal(await readFile(certPath, 'utf8'), other.cert);
    assert.equal(await readFile(keyPath, 'utf8'), other.key);
    assert.equal(await modeOf(keyPath), 0o600);
    assert.equal(await modeOf(certPath), 0o644);
  });

  it('rejects a base name that is a path', async () => {
    for (const bad of ['', '.', '..', 'a/b', '../up']) {
      await assert.rejects(writePemPair(freshDir(), bad, pair, {}), (err: unknown) =>
        hasCode(err, ErrorCodes.ERR_INVALID_ARGUMENT),
      );
    }
  });

  it('reads back what it wrote', async () => {
    const { certPath, keyPath } = await writePemPair(freshDir(), 'server', pki.server, {});
    assert.deepEqual(await readPemPair(certPath, keyPath), pki.server);
  });

  it('refuses to read a missing file or one without the expected PEM block', async () => {
    const dir = freshDir();
    const { certPath, keyPath } = await writePemPair(dir, 'client', pair, {});
    const isInvalid = (err: unknown) => hasCode(err, ErrorCodes.ERR_INVALID_ARGUMENT);
    await assert.rejects(readPemPair(join(dir, 'missing.pem'), keyPath), isInvalid);
    await assert.rejects(readPemPair(keyPath, keyPath), isInvalid);
    await assert.rejects(readPemPair(certPath, certPath), isInvalid);
    const junk = join(dir, 'junk.key');
    await writeFile(junk, 'not a key');
    await assert.rejects(readPemPair(certPath, junk), isInvalid);
  });

  it('writeTestPki writes every pair and points caPath at the CA certificate', async () => {
    const dir = freshDir();
    const paths = await writeTestPki(dir);
    assert.equal(paths.caPath, join(dir, 'ca.pem'));
    assert.equal(await readFile(paths.caPath, 'utf8'), pki.ca.cert);
    for (const name of Object.keys(pki) as (keyof TestPki)[]) {
      assert.deepEqual(await readPemPair(paths[name].certPath, paths[name].keyPath), pki[name]);
      assert.equal(await modeOf(paths[name].keyPath), 0o600);
    }
    const untrusted = new X509Certificate(await readFile(paths.untrusted.certPath));
    assert.equal(untrusted.subject, 'O=groupA\nCN=stranger');
    // Written again over itself: the helper always forces.
    await writeTestPki(dir);
  });
});
