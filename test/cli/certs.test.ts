import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tls from 'node:tls';
import { runCli } from '../helpers/cli.js';

const modeOf = (path: string) => statSync(path).mode & 0o777;

/** What the server saw of the client in a completed mutual-TLS handshake. */
interface Seen {
  authorized: boolean;
  subject: Record<string, string | string[]>;
  reply: string;
}

/**
 * A real mutual-TLS handshake with the files `certs` wrote: a node:tls server that requires a client
 * certificate from `ca.pem`, and a client that trusts `ca.pem` and checks the server's name.
 */
async function handshake(
  dir: string,
  server: string,
  client: string,
  connect: { host: string; servername?: string },
): Promise<Seen> {
  const read = (name: string) => readFileSync(join(dir, name), 'utf8');
  const srv = tls.createServer({
    cert: read(`${server}.pem`),
    key: read(`${server}.key`),
    ca: read('ca.pem'),
    requestCert: true,
    rejectUnauthorized: true,
  });
  const seen = new Promise<Omit<Seen, 'reply'>>((resolve) => {
    srv.once('secureConnection', (socket: tls.TLSSocket) => {
      const peer = socket.getPeerCertificate();
      resolve({ authorized: socket.authorized, subject: { ...peer.subject } as Seen['subject'] });
      socket.end('ok');
    });
  });
  srv.listen(0, connect.host);
  await once(srv, 'listening');
  try {
    const socket = tls.connect({
      host: connect.host,
      port: (srv.address() as AddressInfo).port,
      servername: connect.servername,
      ca: read('ca.pem'),
      cert: read(`${client}.pem`),
      key: read(`${client}.key`),
    });
    let reply = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      reply += d;
    });
    await once(socket, 'secureConnect');
    await once(socket, 'end');
    socket.destroy();
    return { ...(await seen), reply };
  } finally {
    srv.close();
  }
}

describe('switchyard certs', { timeout: 60_000 }, () => {
  let root: string;
  let n = 0;
  const fresh = () => join(root, `case-${++n}`);

  before(() => {
    root = mkdtempSync(join(tmpdir(), 'switchyard-certs-'));
  });
  after(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it('init, server and client make files that complete a mutual-TLS handshake with CN and O seen', async () => {
    const dir = fresh();
    const run = async (...args: string[]) => {
      const r = await runCli(['certs', ...args, '--dir', dir]);
      assert.equal(r.code, 0, r.stderr);
      return r.stdout;
    };
    assert.match(await run('init'), /wrote .*ca\.pem \(certificate authority\)/);
    assert.match(
      await run('server', '--name', 'lb.example.test', '--ip', '10.1.2.3'),
      /DNS:localhost, DNS:lb\.example\.test, IP Address:127\.0\.0\.1, IP Address:0:0:0:0:0:0:0:1, IP Address:10\.1\.2\.3/,
    );
    assert.match(await run('client', '--cn', 'alice', '--org', 'groupA'), /subject {2}O=groupA, CN=alice/);
    await run('client', '--cn', 'bob', '--org', 'groupB', '--org', 'ops', '--out', 'bob-ops');

    const ca = new X509Certificate(readFileSync(join(dir, 'ca.pem')));
    assert.equal(ca.ca, true);
    assert.equal(ca.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1', 'ECDSA P-256 by default');
    const server = new X509Certificate(readFileSync(join(dir, 'server.pem')));
    assert.equal(server.checkHost('lb.example.test'), 'lb.example.test');
    assert.equal(server.checkIP('::1'), '::1');

    // By IP (SAN 127.0.0.1), by name (SAN localhost) and by a given name.
    const byIp = await handshake(dir, 'server', 'alice', { host: '127.0.0.1' });
    assert.deepEqual(byIp, { authorized: true, subject: { O: 'groupA', CN: 'alice' }, reply: 'ok' });
    const byName = await handshake(dir, 'server', 'bob-ops', {
      host: '127.0.0.1',
      servername: 'lb.example.test',
    });
    assert.deepEqual(byName.subject, { O: ['groupB', 'ops'], CN: 'bob' });
    assert.equal(byName.authorized, true);
    const v6 = await handshake(dir, 'server', 'alice', { host: '::1', servername: 'localhost' });
    assert.equal(v6.reply, 'ok');

    for (const base of ['ca', 'server', 'alice', 'bob-ops']) {
      assert.equal(modeOf(join(dir, `${base}.key`)), 0o600, `${base}.key is 0600`);
      assert.equal(modeOf(join(dir, `${base}.pem`)), 0o644, `${base}.pem is 0644`);
    }
  });

  it('makes RSA keys on request', async () => {
    const dir = fresh();
    for (const args of [
      ['init', '--rsa'],
      ['server', '--rsa'],
      ['client', '--cn', 'rsa', '--org', 'groupA', '--rsa'],
    ]) {
      const r = await runCli(['certs', ...args, '--dir', dir]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /key {6}RSA 2048/);
    }
    const cert = new X509Certificate(readFileSync(join(dir, 'rsa.pem')));
    assert.equal(cert.publicKey.asymmetricKeyType, 'rsa');
    const seen = await handshake(dir, 'server', 'rsa', { host: '127.0.0.1' });
    assert.deepEqual(seen.subject, { O: 'groupA', CN: 'rsa' });
  });

  it('refuses to overwrite without --force (exit 1) and replaces with it', async () => {
    const dir = fresh();
    assert.equal((await runCli(['certs', 'init', '--dir', dir])).code, 0);
    assert.equal((await runCli(['certs', 'client', '--dir', dir, '--cn', 'c', '--org', 'o'])).code, 0);
    const before = readFileSync(join(dir, 'ca.pem'), 'utf8');
    const clientBefore = readFileSync(join(dir, 'c.key'), 'utf8');

    const refused = await runCli(['certs', 'init', '--dir', dir]);
    assert.equal(refused.code, 1);
    assert.equal(
      refused.stderr,
      `switchyard: ${join(dir, 'ca.pem')} already exists; use --force to overwrite it`,
    );
    const refusedClient = await runCli(['certs', 'client', '--dir', dir, '--cn', 'c', '--org', 'o']);
    assert.equal(refusedClient.code, 1);
    assert.match(refusedClient.stderr, /\/c\.pem already exists; use --force to overwrite it/);
    assert.equal(readFileSync(join(dir, 'ca.pem'), 'utf8'), before, 'nothing replaced');
    assert.equal(readFileSync(join(dir, 'c.key'), 'utf8'), clientBefore);

    const forced = await runCli(['certs', 'init', '--dir', dir, '--force', '--cn', 'Second CA']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.notEqual(readFileSync(join(dir, 'ca.pem'), 'utf8'), before);
    assert.equal(new X509Certificate(readFileSync(join(dir, 'ca.pem'))).subject, 'CN=Second CA');
    assert.equal(modeOf(join(dir, 'ca.key')), 0o600);
  });

  it('needs a CA for server and client certificates (exit 1) and --cn/--org for clients (exit 2)', async () => {
    const dir = fresh();
    const noCa = await runCli(['certs', 'server', '--dir', dir]);
    assert.equal(noCa.code, 1);
    assert.match(noCa.stderr, /ca\.pem.*create the CA first with: switchyard certs init --dir /);
    const noOrg = await runCli(['certs', 'client', '--dir', dir, '--cn', 'x']);
    assert.equal(noOrg.code, 2);
    assert.match(noOrg.stderr, /required option '--org <org>' not specified/);
  });

  it('names a client certificate after its CN, and asks for --out when the CN cannot be a file name', async () => {
    const dir = fresh();
    assert.equal((await runCli(['certs', 'init', '--dir', dir])).code, 0);
    const made = await runCli(['certs', 'client', '--dir', dir, '--cn', 'client-a', '--org', 'groupA']);
    assert.equal(made.code, 0, made.stderr);
    assert.match(made.stdout, /^wrote .*\/client-a\.pem \(client certificate\)$/m);
    assert.equal(
      new X509Certificate(readFileSync(join(dir, 'client-a.pem'))).subject,
      'O=groupA\nCN=client-a',
    );
    assert.equal(modeOf(join(dir, 'client-a.key')), 0o600);
    for (const [cn, why] of [
      ['../escape', /the common name "\.\.\/escape" is not a plain file name; give the file name with --out/],
      [
        'ca',
        /a client certificate named "ca" would sit on ca\.pem\/ca\.key; give another file name with --out/,
      ],
    ] as const) {
      const refused = await runCli(['certs', 'client', '--dir', dir, '--cn', cn, '--org', 'o', '--force']);
      assert.equal(refused.code, 1, cn);
      assert.match(refused.stderr, why);
    }
    assert.equal(new X509Certificate(readFileSync(join(dir, 'ca.pem'))).ca, true, 'the CA is untouched');
    const withOut = await runCli([
      'certs',
      'client',
      '--dir',
      dir,
      '--cn',
      'ca',
      '--org',
      'o',
      '--out',
      'ca-client',
    ]);
    assert.equal(withOut.code, 0, withOut.stderr);
  });
});
