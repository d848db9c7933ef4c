import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import type { PeerCertificate } from 'node:tls';
import {
  identityFromCertificate,
  identityFromPeerCertificate,
  identityFromSubject,
} from '../../src/proxy/identity.js';
import { getTestPki } from '../helpers/certs.js';

describe('identityFromSubject', () => {
  const cases: [string, string, string, string[]][] = [
    ['CN and O', 'O=groupA\nCN=client-a', 'client-a', ['groupA']],
    ['several O in certificate order', 'O=groupB\nO=groupA\nCN=multi', 'multi', ['groupB', 'groupA']],
    ['no O', 'CN=lonely', 'lonely', []],
    ['no CN', 'O=groupA', '', ['groupA']],
    ['other attributes ignored', 'C=DE\nST=Berlin\nO=groupC\nOU=ops\nCN=c', 'c', ['groupC']],
    ['first CN wins', 'CN=one\nCN=two\nO=g', 'one', ['g']],
    ['empty O skipped', 'O=\nCN=x', 'x', []],
    ['values keep "=" after the first', 'CN=a=b\nO=o=p', 'a=b', ['o=p']],
    ['empty subject', '', '', []],
  ];
  for (const [what, subject, id, orgs] of cases) {
    it(what, () => assert.deepEqual(identityFromSubject(subject), { id, orgs }));
  }
});

describe('identityFromCertificate', () => {
  it('reads CN and O from real certificates', async () => {
    const pki = await getTestPki();
    assert.deepEqual(identityFromCertificate(new X509Certificate(pki.groupA.cert)), {
      id: 'client-a',
      orgs: ['groupA'],
    });
    assert.deepEqual(identityFromCertificate(new X509Certificate(pki.multiOrg.cert)), {
      id: 'multi',
      orgs: ['groupB', 'groupA'],
    });
    assert.deepEqual(identityFromCertificate(new X509Certificate(pki.noCn.cert)), {
      id: '',
      orgs: ['groupA'],
    });
  });
});

describe('identityFromPeerCertificate', () => {
  const peer = (subject: Record<string, string | string[]>) => ({ subject }) as unknown as PeerCertificate;
  const cases: [string, Record<string, string | string[]>, string, string[]][] = [
    ['CN and O', { O: 'groupA', CN: 'client-a' }, 'client-a', ['groupA']],
    [
      'several O in certificate order',
      { O: ['groupB', 'groupA'], CN: 'multi' },
      'multi',
      ['groupB', 'groupA'],
    ],
    ['no O', { CN: 'lonely' }, 'lonely', []],
    ['no CN', { O: 'groupA' }, '', ['groupA']],
    ['first CN wins', { CN: ['one', 'two'], O: 'g' }, 'one', ['g']],
    ['empty O skipped', { O: ['', 'g'], CN: 'x' }, 'x', ['g']],
    ['values kept as they are', { CN: 'a=b\nc', O: 'o,p' }, 'a=b\nc', ['o,p']],
  ];
  for (const [what, subject, id, orgs] of cases) {
    it(what, () => assert.deepEqual(identityFromPeerCertificate(peer(subject)), { id, orgs }));
  }
});
