import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runCli } from '../helpers/cli.js';

// Compiled to dist/test/cli, so the repository root is three levels up.
const EXAMPLES = fileURLToPath(new URL('../../../examples/', import.meta.url));
const EXAMPLE_FILES = readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml'));

/**
 * Runs the CLI with extra environment variables. Children inherit process.env at spawn time and the
 * tests of one file run one after another, so setting and restoring around the spawn is enough.
 */
async function runWithEnv(vars: Record<string, string>, args: string[], cwd?: string) {
  const saved = Object.keys(vars).map((k) => [k, process.env[k]] as const);
  Object.assign(process.env, vars);
  try {
    return await runCli(args, cwd);
  } finally {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

describe('switchyard check', { timeout: 60_000 }, () => {
  let dir: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'switchyard-check-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('passes every example once its certificate files exist (made with switchyard certs)', async () => {
    assert.ok(EXAMPLE_FILES.length >= 3, `examples found: ${EXAMPLE_FILES.join(', ')}`);
    const copy = join(dir, 'examples');
    const certs = join(copy, 'certs');
    for (const args of [['init'], ['server'], ['client', '--cn', 'switchyard-lb', '--org', 'lb']]) {
      const made = await runCli(['certs', ...args, '--dir', certs]);
      assert.equal(made.code, 0, made.stderr);
    }
    for (const file of EXAMPLE_FILES) {
      copyFileSync(join(EXAMPLES, file), join(copy, file));
      const { code, stdout, stderr } = await runCli(['check', '--config', join(copy, file)]);
      assert.equal(code, 0, `${file}: ${stderr}`);
      assert.equal(stderr, '');
      assert.match(stdout, /^listeners \(\d+\)$/m, file);
      assert.match(stdout, /^groups \(\d+\)$/m, file);
      assert.match(stdout, /^ {2}rate limit {4}/m, file);
      assert.match(stdout, /^configuration OK/m, file);
      assert.ok(stdout.trimEnd().split('\n').length <= 24, `${file}: the summary fits one screen`);
    }
  });

  it('passes every example as it is with --no-files, and reports its missing certificates without', async () => {
    for (const file of EXAMPLE_FILES) {
      const { code, stdout, stderr } = await runCli([
        'check',
        '--no-files',
        '--config',
        join(EXAMPLES, file),
      ]);
      assert.equal(code, 0, `${file}: ${stderr}`);
      assert.match(stdout, /configuration OK/);
    }
    // A copy without its certs/ folder (the README has users create examples/certs/ in place).
    const bare = mkdtempSync(join(tmpdir(), 'switchyard-bare-'));
    copyFileSync(join(EXAMPLES, 'mtls-by-org.yaml'), join(bare, 'mtls-by-org.yaml'));
    const { code, stderr } = await runCli(['check', '--config', 'mtls-by-org.yaml'], bare);
    assert.equal(code, 1);
    assert.equal(
      stderr,
      [
        'switchyard: invalid configuration mtls-by-org.yaml (3 problems):',
        `  mtls-by-org.yaml:7:13 listeners[0].tls.cert: cannot read "${join(bare, 'certs/server.pem')}": file not found`,
        `  mtls-by-org.yaml:8:12 listeners[0].tls.key: cannot read "${join(bare, 'certs/server.key')}": file not found`,
        `  mtls-by-org.yaml:9:17 listeners[0].tls.clientCa: cannot read "${join(bare, 'certs/ca.pem')}": file not found`,
      ].join('\n'),
    );
  });

  it('summarizes listeners, groups, limits and timeouts', async () => {
    writeFileSync(
      join(dir, 'summary.yaml'),
      [
        'listeners:',
        '  - name: tcp',
        '    bind: "127.0.0.1:7000"',
        '    group: web',
        '    acceptProxyProtocol: v1',
        '    trustedProxies: [10.0.0.0/8, "fd00::/8"]',
        '    allow: [10.0.0.0/8]',
        '    deny: [10.9.0.0/16]',
        '    proxyProtocol: v2',
        '  - name: sni',
        '    bind: "127.0.0.1:7443"',
        '    sniRoutes:',
        '      - { serverName: a.example.com, group: web }',
        '      - { serverName: "*.example.com", group: web }',
        '    defaultGroup: web',
        '  - { name: strict, bind: "127.0.0.1:7444", sniRoutes: [{ serverName: b.example.com, group: web }] }',
        'groups:',
        '  web:',
        '    balancer: round-robin',
        '    upstreams:',
        '      - address: "127.0.0.1:9001"',
        '        weight: 2',
        '      - { address: "127.0.0.1:9002", id: spare, state: draining }',
        'rateLimit: { algorithm: gcra, limit: 5, window: 1s, burst: 2 }',
        'concurrency: { perClient: 4 }',
        '',
      ].join('\n'),
    );
    const { code, stdout } = await runCli(['check', '-c', 'summary.yaml'], dir);
    assert.equal(code, 0);
    assert.equal(
      stdout,
      [
        'summary.yaml',
        '',
        'listeners (3)',
        '  tcp     127.0.0.1:7000  tcp  -> group web  (max 10000 connections, allow 10.0.0.0/8, deny 10.9.0.0/16, PROXY protocol v1 in from 10.0.0.0/8 fd00::/8, PROXY protocol v2 to upstreams)',
        '  sni     127.0.0.1:7443  tls-passthrough  sni: a.example.com -> web, *.example.com -> web, default -> web  (max 10000 connections)',
        '  strict  127.0.0.1:7444  tls-passthrough  sni: b.example.com -> web, default -> refused  (max 10000 connections)',
        'groups (1)',
        '  web  round-robin: 127.0.0.1:9001 (weight 2, up), spare=127.0.0.1:9002 (weight 1, draining)',
        'limits',
        '  rate limit    gcra, 5 per 1s, burst 2 per source address',
        '  concurrency   4 connections per source address',
        "  store         memory (this balancer's own counts)",
        '  connect       3 attempts per connection',
        'timeouts        handshake 5s, connect 2s, idle 5m, max lifetime off, shutdown grace 30s (+1s jitter)',
        'admin           off',
        'log             info, access log stdout',
        'workers         1 (one process)',
        '',
        'configuration OK',
      ].join('\n'),
    );
  });

  it('shows TLS to upstreams per group, and refuses its unusable files by key path', async () => {
    const certs = join(dir, 'upstream-tls-certs');
    for (const args of [
      ['init'],
      ['client', '--cn', 'lb', '--org', 'lb'],
      ['client', '--cn', 'other', '--org', 'lb'],
    ]) {
      const made = await runCli(['certs', ...args, '--dir', certs]);
      assert.equal(made.code, 0, made.stderr);
    }
    const config = (tls: string[]) =>
      [
        'listeners:',
        '  - { name: tcp, bind: "127.0.0.1:7000", group: api }',
        'groups:',
        '  api:',
        '    upstreams: [{ address: "10.0.2.1:8443" }]',
        '    upstreamTls:',
        ...tls.map((line) => `      ${line}`),
        '  plain:',
        '    upstreams: [{ address: "10.0.3.1:80" }]',
        '  public:',
        '    upstreams: [{ address: "api.example.com:443" }]',
        '    upstreamTls: { minVersion: TLSv1.3 }',
        '',
      ].join('\n');
    writeFileSync(
      join(dir, 'upstream-tls.yaml'),
      config([
        'ca: upstream-tls-certs/ca.pem',
        'serverName: api.internal',
        'cert: upstream-tls-certs/lb.pem',
        'key: upstream-tls-certs/lb.key',
      ]),
    );
    const ok = await runCli(['check', '-c', 'upstream-tls.yaml'], dir);
    assert.equal(ok.code, 0, ok.stderr);
    const lines = ok.stdout.split('\n');
    assert.ok(
      lines.includes(
        '  api     least-connections: 10.0.2.1:8443 (weight 1, up), TLS to upstreams (CA upstream-tls-certs/ca.pem, name api.internal, client cert upstream-tls-certs/lb.pem)',
      ),
      ok.stdout,
    );
    assert.ok(lines.includes('  plain   least-connections: 10.0.3.1:80 (weight 1, up)'), ok.stdout);
    assert.ok(
      lines.includes(
        "  public  least-connections: api.example.com:443 (weight 1, up), TLS to upstreams (public CAs, name: each upstream's host, TLSv1.3 and up)",
      ),
      ok.stdout,
    );
    assert.match(ok.stdout, /^configuration OK \(certificate files read and checked\)$/m);

    writeFileSync(
      join(dir, 'upstream-tls-bad.yaml'),
      config([
        'ca: upstream-tls-certs/lb.key',
        'cert: upstream-tls-certs/lb.pem',
        'key: upstream-tls-certs/other.key',
      ]),
    );
    const bad = await runCli(['check', '-c', 'upstream-tls-bad.yaml'], dir);
    assert.equal(bad.code, 1);
    assert.match(
      bad.stderr,
      /upstream-tls-bad\.yaml:\d+:\d+ groups\.api\.upstreamTls\.key: the private key does not match the certificate in "[^"]+lb\.pem"/,
    );

    // The same check for the client certificate Switchyard shows a Redis limit store.
    const store = (key: string) =>
      [
        'listeners: [{ name: tcp, bind: "127.0.0.1:7000", group: plain }]',
        'groups: { plain: { upstreams: [{ address: "10.0.3.1:80" }] } }',
        'limitStore:',
        '  type: redis',
        '  url: rediss://redis.internal:6380',
        `  tls: { ca: upstream-tls-certs/ca.pem, cert: upstream-tls-certs/lb.pem, key: upstream-tls-certs/${key} }`,
        '',
      ].join('\n');
    writeFileSync(join(dir, 'store-tls.yaml'), store('lb.key'));
    const storeOk = await runCli(['check', '-c', 'store-tls.yaml'], dir);
    assert.equal(storeOk.code, 0, storeOk.stderr);
    writeFileSync(join(dir, 'store-tls-bad.yaml'), store('other.key'));
    const storeBad = await runCli(['check', '-c', 'store-tls-bad.yaml'], dir);
    assert.equal(storeBad.code, 1);
    assert.match(
      storeBad.stderr,
      /store-tls-bad\.yaml:\d+:\d+ limitStore\.tls\.key: the private key does not match the certificate in "[^"]+lb\.pem"/,
    );
  });

  it('prints every error as file:line:column key.path: message and exits 1', async () => {
    writeFileSync(
      join(dir, 'bad.yaml'),
      [
        'listeners:', //                  1
        '  - name: edge', //              2
        '    bind: "127.0.0.1:8443"', //  3
        '    group: nowhere', //          4
        'groups:', //                     5
        '  web:', //                      6
        '    upstreams:', //              7
        '      - address: "127.0.0.1"', // 8
        'timeouts:', //                   9
        '  idle: 5 minutes', //           10
        '  conect: 2s', //                11
        '',
      ].join('\n'),
    );
    const { code, stdout, stderr } = await runCli(['check', '--config', 'bad.yaml'], dir);
    assert.equal(code, 1);
    assert.equal(stdout, '');
    assert.equal(
      stderr,
      [
        'switchyard: invalid configuration bad.yaml (4 problems):',
        '  bad.yaml:4:12 listeners[0].group: group "nowhere" is not defined in groups',
        '  bad.yaml:8:18 groups.web.upstreams[0].address: invalid address "127.0.0.1": expected "host:port"',
        '  bad.yaml:10:9 timeouts.idle: expected a duration like "5m", got "5 minutes"',
        '  bad.yaml:11:3 timeouts.conect: unknown key "conect" (did you mean "connect"?)',
      ].join('\n'),
    );
  });

  it('refuses two listeners, or a listener and the admin API, on one port, naming both lines', async () => {
    writeFileSync(
      join(dir, 'clash.yaml'),
      [
        'listeners:', //                 1
        '  - name: edge', //             2
        '    bind: "0.0.0.0:8443"', //   3
        '    group: web', //             4
        '  - name: local', //            5
        '    bind: "127.0.0.1:8443"', // 6
        '    group: web', //             7
        '  - name: v6', //               8
        '    bind: "[::1]:8443"', //     9
        '    group: web', //             10
        'groups:', //                    11
        '  web:', //                     12
        '    upstreams:', //             13
        '      - address: "127.0.0.1:9000"', // 14
        'admin:', //                     15
        '  bind: "[::1]:8443"', //       16
        '',
      ].join('\n'),
    );
    const { code, stdout, stderr } = await runCli(['check', '--config', 'clash.yaml', '--no-files'], dir);
    assert.equal(code, 1);
    assert.equal(stdout, '');
    assert.equal(
      stderr,
      [
        'switchyard: invalid configuration clash.yaml (2 problems):',
        '  clash.yaml:6:11 listeners[1].bind: port 8443 is bound twice: listeners[0] "edge" (clash.yaml:3) on 0.0.0.0:8443 and listeners[1] "local" (clash.yaml:6) on 127.0.0.1:8443 (0.0.0.0 takes the port on every IPv4 address); give one of them another port',
        '  clash.yaml:16:9 admin.bind: port 8443 is bound twice: listeners[2] "v6" (clash.yaml:9) on [::1]:8443 and admin API (admin.bind, clash.yaml:16) on [::1]:8443 (the same address); give one of them another port',
      ].join('\n'),
    );
  });

  it('prints the validated configuration as JSON with --json', async () => {
    const { code, stdout } = await runCli(['check', '--json', '--config', join(EXAMPLES, 'plain-tcp.yaml')]);
    assert.equal(code, 0);
    const config = JSON.parse(stdout);
    assert.equal(config.listeners[0].bind, '0.0.0.0:7000');
    assert.equal(config.timeouts.idle, 300_000);
    assert.equal(config.groups.sticky.balancer, 'consistent-hash');
  });

  it('takes flags over environment over file over defaults', async () => {
    const path = join(dir, 'precedence.yaml');
    writeFileSync(
      path,
      'listeners: [{ name: tcp, bind: "127.0.0.1:7000", group: web }]\n' +
        'groups: { web: { upstreams: [{ address: "127.0.0.1:9001" }] } }\n' +
        'timeouts: { idle: 1m }\nlog: { level: warn }\n',
    );
    const idle = async (vars: Record<string, string>, args: string[]) => {
      const { code, stdout, stderr } = await runWithEnv(vars, ['check', '--json', '-c', path, ...args]);
      assert.equal(code, 0, stderr);
      const config = JSON.parse(stdout);
      return [config.timeouts.idle, config.timeouts.connect, config.log.level];
    };
    const env = { SWITCHYARD_TIMEOUTS__IDLE: '2m', SWITCHYARD_LOG__LEVEL: 'error' };
    assert.deepEqual(await idle({}, []), [60_000, 2000, 'warn'], 'file over defaults');
    assert.deepEqual(await idle(env, []), [120_000, 2000, 'error'], 'environment over file');
    assert.deepEqual(
      await idle(env, ['--set', 'timeouts.idle=3m', '--log-level', 'debug', '--set', 'timeouts.connect=4s']),
      [180_000, 4000, 'debug'],
      'flags over environment',
    );
    // SWITCHYARD_CONFIG stands in for --config.
    const { code, stdout } = await runWithEnv({ SWITCHYARD_CONFIG: path }, ['check']);
    assert.equal(code, 0);
    assert.match(stdout, /configuration OK/);
  });

  it('names the variable or flag whose value is bad, and an unknown variable', async () => {
    const path = join(EXAMPLES, 'plain-tcp.yaml');
    const bad = await runWithEnv({ SWITCHYARD_TIMEOUTS__IDLE: 'soon' }, ['check', '-c', path]);
    assert.equal(bad.code, 1);
    assert.match(
      bad.stderr,
      /^ {2}SWITCHYARD_TIMEOUTS__IDLE \(environment\) timeouts\.idle: expected a duration like "5m", got "soon"$/m,
    );
    const flag = await runCli(['check', '-c', path, '--set', 'timeouts.idle=soon']);
    assert.equal(flag.code, 1);
    assert.match(
      flag.stderr,
      /^ {2}--set timeouts\.idle \(flag\) timeouts\.idle: expected a duration like "5m", got "soon"$/m,
    );
    const unknown = await runWithEnv({ SWITCHYARD_TIMEOUT__IDLE: '1m' }, ['check', '-c', path]);
    assert.equal(unknown.code, 1);
    assert.match(
      unknown.stderr,
      /SWITCHYARD_TIMEOUT__IDLE \(environment\): unknown configuration key "TIMEOUT" \(did you mean "SWITCHYARD_TIMEOUTS__IDLE"\?\)/,
    );
  });

  it('never prints the Redis password of limitStore.url: not in the summary, --json, nor an error', async () => {
    const password = 'Redis-Pa55-9931';
    const path = join(dir, 'redis-password.yaml');
    const config = (url: string) =>
      'listeners: [{ name: tcp, bind: "127.0.0.1:7000", group: web }]\n' +
      'groups: { web: { upstreams: [{ address: "127.0.0.1:9001" }] } }\n' +
      `limitStore: { type: redis, url: "${url}" }\n`;
    writeFileSync(path, config(`redis://app:${password}@redis.internal:6379/2`));
    const summary = await runCli(['check', '-c', path]);
    assert.equal(summary.code, 0, summary.stderr);
    assert.match(
      summary.stdout,
      /^ {2}store {9}redis redis:\/\/app:<redacted>@redis\.internal:6379\/2 \(key prefix/m,
    );
    const json = await runCli(['check', '--json', '-c', path]);
    assert.equal(JSON.parse(json.stdout).limitStore.url, 'redis://app:<redacted>@redis.internal:6379/2');
    writeFileSync(path, config(`http://app:${password}@redis.internal:6379`));
    const refused = await runCli(['check', '-c', path]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /limitStore\.url: expected a redis:\/\/ or rediss:\/\/ URL, got http:\/\//);
    for (const out of [summary.stdout, json.stdout, refused.stdout, refused.stderr]) {
      assert.ok(!out.includes(password), out);
    }
  });

  it('never prints the admin token: not in the summary, --json, nor an error about its value', async () => {
    const token = 's3cret-Admin-T0ken-7731';
    const path = join(dir, 'token.yaml');
    writeFileSync(
      path,
      'listeners: [{ name: tcp, bind: "127.0.0.1:7000", group: web }]\n' +
        'groups: { web: { upstreams: [{ address: "127.0.0.1:9001" }] } }\n' +
        `admin: { token: "${token}" }\n`,
    );
    const summary = await runCli(['check', '-c', path]);
    assert.equal(summary.code, 0, summary.stderr);
    assert.match(summary.stdout, /^admin {11}127\.0\.0\.1:9090, token set$/m);
    const fromFile = await runCli(['check', '--json', '-c', path]);
    assert.equal(fromFile.code, 0, fromFile.stderr);
    assert.equal(JSON.parse(fromFile.stdout).admin.token, '<redacted>');
    const fromEnv = await runWithEnv({ SWITCHYARD_ADMIN__TOKEN: `${token}-env` }, [
      'check',
      '--json',
      '-c',
      path,
    ]);
    assert.equal(JSON.parse(fromEnv.stdout).admin.token, '<redacted>');
    const fromFlag = await runCli(['check', '--json', '-c', path, '--set', `admin.token=${token}-flag`]);
    assert.equal(JSON.parse(fromFlag.stdout).admin.token, '<redacted>');
    // A token of digits is read as a number, which the schema refuses; the message must not echo it.
    const digits = '90817263544536';
    const badFile = join(dir, 'token-number.yaml');
    writeFileSync(badFile, readFileSync(path, 'utf8').replace(`"${token}"`, digits));
    const refused = await runCli(['check', '-c', badFile]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /admin\.token: expected a string, got <redacted>$/m);
    const refusedFlag = await runCli(['check', '-c', path, '--set', `admin.token=${digits}`]);
    assert.equal(refusedFlag.code, 1);
    assert.match(
      refusedFlag.stderr,
      /--set admin\.token \(flag\) admin\.token: expected a string, got <redacted>$/m,
    );
    for (const out of [summary, fromFile, fromEnv, fromFlag, refused, refusedFlag]) {
      assert.ok(!`${out.stdout}${out.stderr}`.includes(token), `${out.stdout}${out.stderr}`);
      assert.ok(!`${out.stdout}${out.stderr}`.includes(digits), `${out.stdout}${out.stderr}`);
    }
  });

  it('is a usage error (exit 2) without --config or SWITCHYARD_CONFIG', async () => {
    const { code, stderr } = await runCli(['check']);
    assert.equal(code, 2);
    assert.match(stderr, /no configuration file: give --config <file> or set SWITCHYARD_CONFIG/);
  });
});
