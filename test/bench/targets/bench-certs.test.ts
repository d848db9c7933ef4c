import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative } from 'node:path';
import { after, describe, it } from 'node:test';
import { writeBenchCerts } from '../../../src/bench/bench-certs.js';

describe('writeBenchCerts', () => {
  const root = mkdtempSync(join(tmpdir(), 'switchyard-bench-certs-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  it('writes an ECDSA P-256 CA, a loopback server certificate and the bench client certificate', async () => {
    // A relative directory still gives absolute paths: the proxies resolve relative ones elsewhere.
    const files = await writeBenchCerts(relative(process.cwd(), join(root, 'pki')));
    for (const path of Object.values(files)) assert.ok(isAbsolute(path), path);

    const ca = new X509Certificate(readFileSync(files.caCert));
    const server = new X509Certificate(readFileSync(files.serverCert));
    const client = new X509Certificate(readFileSync(files.clientCert));
    assert.ok(ca.ca);
    assert.equal(ca.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.ok(server.verify(ca.publicKey) && client.verify(ca.publicKey));
    assert.ok(server.checkIP('127.0.0.1') !== undefined);
    assert.ok(server.checkHost('localhost') !== undefined);
    assert.deepEqual(client.subject.split('\n').sort(), ['CN=bench-client', 'O=bench']);
  });

  it('writes the combined file as certificate then key, readable by its owner only', async () => {
    const files = await writeBenchCerts(join(root, 'combined'));
    const combined = readFileSync(files.serverCombined, 'utf8');
    const cert = readFileSync(files.serverCert, 'utf8').trim();
    const key = readFileSync(files.serverKey, 'utf8').trim();
    assert.equal(combined, `${cert}\n${key}\n`);
    assert.equal(statSync(files.serverCombined).mode & 0o777, 0o600);
    assert.equal(statSync(files.serverKey).mode & 0o777, 0o600);
    assert.equal(statSync(files.clientKey).mode & 0o777, 0o600);
  });

  it('replaces the files of an earlier run in the same directory', async () => {
    const dir = join(root, 'again');
    const first = await writeBenchCerts(dir);
    const firstCa = readFileSync(first.caCert, 'utf8');
    const second = await writeBenchCerts(dir);
    assert.notEqual(readFileSync(second.caCert, 'utf8'), firstCa);
  });
});
