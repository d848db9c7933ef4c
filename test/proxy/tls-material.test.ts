import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { ErrorCodes, hasCode } from '../../src/lib/errors.js';
import { buildSecureContext, TlsMaterialError } from '../../src/proxy/tls.js';
import { getTestPki, type TestPki } from '../helpers/certs.js';

describe('unusable TLS material (issue 12)', () => {
  let pki: TestPki;

  before(async () => {
    pki = await getTestPki();
  });

  it('is refused with a typed error carrying ERR_CONFIG_INVALID and the field at fault', () => {
    const material = { cert: pki.server.cert, key: pki.groupA.key, clientCa: pki.ca.cert };
    assert.throws(
      () => buildSecureContext(material),
      (err: unknown) =>
        err instanceof TlsMaterialError && err.field === 'key' && hasCode(err, ErrorCodes.ERR_CONFIG_INVALID),
    );
  });
});
