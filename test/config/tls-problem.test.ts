/**
 * A listener's certificate files that cannot be used are reported against the key at fault, in words
 * that name the files: by `check` (loadConfigFile with checkFiles) and by `run` (buildRuntime).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { ConfigError, formatConfigIssue } from '../../src/config/config-error.js';
import { loadConfigFile } from '../../src/config/load-config.js';
import { ErrorCodes, hasCode } from '../../src/lib/errors.js';
import { buildRuntime } from '../../src/runtime/build-runtime.js';
import { configFileProblems } from '../../src/runtime/file-problems.js';
import type { TestPkiPaths } from '../helpers/certs.js';
import { testPkiFiles } from '../helpers/proxy-harness.js';

describe('unusable listener certificate files', () => {
  let dir: string;
  let pki: TestPkiPaths;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'switchyard-tls-problem-'));
    pki = await testPkiFiles();
  });

  /** Writes a one-listener configuration whose `tls` block has `extra` lines; returns its path. */
  const configWith = (name: string, cert: string, key: string, extra: string[] = []) => {
    const file = join(dir, `${name}.yaml`);
    writeFileSync(
      file,
      [
        'listeners:', //                    1
        '  - name: edge', //                2
        '    bind: "127.0.0.1:0"', //       3
        '    tls:', //                      4
        `      cert: ${cert}`, //           5
        `      key: ${key}`, //             6
        `      clientCa: ${pki.caPath}`, // 7
        ...extra.map((l) => `      ${l}`),
        '    routes: [{ org: "*", group: g }]',
        'groups: { g: { upstreams: [{ address: "127.0.0.1:9001" }] } }',
        '',
      ].join('\n'),
    );
    return file;
  };

  /** The issues `check` reports for `file`. */
  const checkIssues = async (file: string): Promise<string[]> => {
    try {
      await loadConfigFile(file, { checkFiles: configFileProblems });
    } catch (err) {
      assert.ok(err instanceof ConfigError, String(err));
      return err.issues.map(formatConfigIssue);
    }
    return assert.fail('expected the configuration to be refused');
  };

  /** The message `run` stops with for `file`. */
  const runMessage = async (file: string): Promise<string> => {
    const config = await loadConfigFile(file);
    try {
      await buildRuntime(config);
    } catch (err) {
      assert.ok(hasCode(err, ErrorCodes.ERR_CONFIG_READ), String(err));
      return (err as Error).message;
    }
    return assert.fail('expected buildRuntime to refuse');
  };

  it('a key that belongs to another certificate: at listeners[0].tls.key, naming the certificate file', async () => {
    const file = configWith('mismatch', pki.server.certPath, pki.groupA.keyPath);
    const why = `the private key does not match the certificate in "${pki.server.certPath}"`;
    assert.deepEqual(await checkIssues(file), [`${file}:6:12 listeners[0].tls.key: ${why}`]);
    const message = await runMessage(file);
    assert.equal(message, `listeners[0].tls.key: ${why}`);
    assert.doesNotMatch(message, /routines|05800074/);
  });

  it('a certificate file without a certificate, and a key file without a key', async () => {
    const notPem = join(dir, 'not-pem.txt');
    writeFileSync(notPem, 'hello\n');
    const badCert = configWith('bad-cert', notPem, pki.server.keyPath);
    assert.deepEqual(await checkIssues(badCert), [
      `${badCert}:5:13 listeners[0].tls.cert: "${notPem}" holds no usable PEM certificate`,
    ]);
    const badKey = configWith('bad-key', pki.server.certPath, pki.server.certPath);
    assert.equal(
      await runMessage(badKey),
      `listeners[0].tls.key: "${pki.server.certPath}" holds no usable PEM private key`,
    );
  });

  it('a cipher list OpenSSL does not know: at listeners[0].tls.ciphers', async () => {
    const file = configWith('ciphers', pki.server.certPath, pki.server.keyPath, ['ciphers: NO-SUCH-CIPHER']);
    assert.deepEqual(await checkIssues(file), [
      `${file}:8:16 listeners[0].tls.ciphers: OpenSSL knows no cipher in "NO-SUCH-CIPHER"`,
    ]);
  });
});
