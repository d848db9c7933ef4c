import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { ConfigError, formatConfigIssue } from '../../src/config/config-error.js';
import { HEALTH_CHECK_DEFAULTS, mergeHealthCheck } from '../../src/config/health-check.js';
import { loadConfigFile, parseConfigText } from '../../src/config/load-config.js';
import { overridesFromEnv } from '../../src/config/overrides.js';
import type { HealthCheckConfig } from '../../src/config/types.js';
import { ErrorCodes, hasCode } from '../../src/lib/errors.js';
import { GroupHealth } from '../../src/lib/health/group-health.js';
import { loadHealthFiles, planGroupHealth } from '../../src/runtime/build-health.js';
import { buildGroup } from '../../src/runtime/build-runtime.js';
import { configFileProblems } from '../../src/runtime/file-problems.js';
import { type TestPkiPaths, writeTestPki } from '../helpers/certs.js';
import { FakeTimers } from '../lib/health/fakes.js';

/** A plain TCP listener in front of group `g`, whose text follows (indented under `groups:`). */
function withGroup(...groupLines: string[]): string {
  return [
    'listeners:', //                   1
    '  - name: edge', //               2
    '    bind: "127.0.0.1:0"', //      3
    '    group: g', //                 4
    'groups:', //                      5
    '  g:', //                         6
    ...groupLines.map((l) => `    ${l}`), // from line 7
  ].join('\n');
}

/** The formatted issues parsing `text` as `lb.yaml` throws. */
function issues(text: string): string[] {
  try {
    parseConfigText(text, 'lb.yaml');
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    assert.ok(hasCode(err, ErrorCodes.ERR_CONFIG_INVALID));
    return err.issues.map(formatConfigIssue);
  }
  assert.fail('expected parseConfigText to throw');
}

const group = (text: string) => parseConfigText(text, '/etc/sy/lb.yaml').groups.g;

describe('health checks per upstream: parsing and merging', () => {
  it('keeps an upstream check as written: durations in ms, TLS paths absolute, nothing defaulted', () => {
    const g = group(
      withGroup(
        'upstreams:',
        '  - address: "127.0.0.1:9001"',
        '    healthCheck:',
        '      type: tls',
        '      interval: 1s',
        '      port: 9100',
        '      tls: { cert: certs/hc.pem, key: /pki/hc.key, ca: ../ca.pem, servername: web-1 }',
        '  - address: "127.0.0.1:9002"',
      ),
    );
    assert.equal(g.healthCheck, undefined);
    assert.deepEqual(g.upstreams[0].healthCheck, {
      type: 'tls',
      interval: 1000,
      port: 9100,
      tls: { cert: '/etc/sy/certs/hc.pem', key: '/pki/hc.key', ca: '/etc/ca.pem', servername: 'web-1' },
    });
    assert.equal(g.upstreams[1].healthCheck, undefined);
  });

  it('resolves a group check TLS paths and fills its defaults, enabled included', () => {
    const g = group(
      withGroup(
        'healthCheck: { type: tls, tls: { ca: ca.pem } }',
        'upstreams: [{ address: "127.0.0.1:9001" }]',
      ),
    );
    assert.deepEqual(g.healthCheck, { ...HEALTH_CHECK_DEFAULTS, type: 'tls', tls: { ca: '/etc/sy/ca.pem' } });
  });

  it('merges what an upstream writes over its group check, tls key by key', () => {
    const groupCheck: HealthCheckConfig = {
      ...HEALTH_CHECK_DEFAULTS,
      type: 'http',
      path: '/healthz',
      port: 9100,
      tls: { cert: '/c.pem', key: '/k.pem', ca: '/ca.pem' },
    };
    assert.equal(mergeHealthCheck(groupCheck, undefined), groupCheck);
    assert.deepEqual(mergeHealthCheck(groupCheck, { interval: 1000, tls: { servername: 'web-1' } }), {
      ...groupCheck,
      interval: 1000,
      tls: { cert: '/c.pem', key: '/k.pem', ca: '/ca.pem', servername: 'web-1' },
    });
    const other = mergeHealthCheck(groupCheck, { type: 'tcp', port: 9200, enabled: false });
    assert.equal(other?.type, 'tcp');
    assert.equal(other?.port, 9200);
    assert.equal(other?.enabled, false);
    assert.equal(other?.path, '/healthz', 'kept, though a tcp check does not read it');
  });

  it('starts an upstream check from the defaults when its group has none', () => {
    assert.equal(mergeHealthCheck(undefined, undefined), undefined);
    assert.deepEqual(mergeHealthCheck(undefined, { port: 9100 }), { ...HEALTH_CHECK_DEFAULTS, port: 9100 });
  });

  it('accepts expectStatus as a number and keeps it as text', () => {
    const g = group(
      withGroup(
        'healthCheck: { type: http, expectStatus: 204 }',
        'upstreams: [{ address: "127.0.0.1:9001" }]',
      ),
    );
    assert.equal(g.healthCheck?.expectStatus, '204');
  });
});

describe('health checks per upstream: validation errors name file, line, column and key path', () => {
  it('an unknown key and a bad duration in an upstream check', () => {
    assert.deepEqual(
      issues(
        withGroup(
          'upstreams:', //                           7
          '  - address: "127.0.0.1:9001"', //       8
          '    healthCheck:', //                     9
          '      intervall: 1s', //                  10
          '      timeout: soon', //                  11
        ),
      ),
      [
        'lb.yaml:10:11 groups.g.upstreams[0].healthCheck.intervall: unknown key "intervall" (did you mean "interval"?)',
        'lb.yaml:11:20 groups.g.upstreams[0].healthCheck.timeout: expected a duration like "5m", got "soon"',
      ],
    );
  });

  it('keys of another check type, at the group and at the upstream', () => {
    assert.deepEqual(
      issues(
        withGroup(
          'healthCheck:', //                         7
          '  path: /healthz', //                     8
          '  send: PING', //                         9
          'upstreams:', //                           10
          '  - address: "127.0.0.1:9001"', //       11
          '  - address: "127.0.0.1:9002"', //       12
          '    healthCheck: { type: http, expect: PONG }', // 13
        ),
      ),
      [
        'lb.yaml:9:7 groups.g.healthCheck.send: only used by types "send-expect" and "udp" (this group\'s checks are "tcp", "http")',
        'lb.yaml:13:36 groups.g.upstreams[1].healthCheck.expect: only used by types "send-expect" and "udp" (this upstream\'s check is "http")',
      ],
    );
  });

  it('a group key read by an upstream that changes the type is fine', () => {
    const g = group(
      withGroup(
        'healthCheck: { path: /healthz }',
        'upstreams:',
        '  - address: "127.0.0.1:9001"',
        '    healthCheck: { type: http }',
      ),
    );
    assert.equal(g.healthCheck?.path, '/healthz');
  });

  it('send-expect without expect, reported where the type was set', () => {
    assert.deepEqual(
      issues(
        withGroup(
          'healthCheck: { type: send-expect, send: "PING" }', // 7
          'upstreams:', //                                     8
          '  - address: "127.0.0.1:9001"', //                 9
          '  - address: "127.0.0.1:9002"', //                 10
          '    healthCheck: { type: send-expect, send: "HELLO" }', // 11
          '  - address: "127.0.0.1:9003"', //                 12
          '    healthCheck: { expect: PONG }', //              13
        ),
      ),
      [
        'lb.yaml:7:18 groups.g.healthCheck: type "send-expect" needs "expect", the text the reply must contain',
        'lb.yaml:11:22 groups.g.upstreams[1].healthCheck: type "send-expect" needs "expect", the text the reply must contain',
      ],
    );
  });

  it('a client certificate without its key, and a key without its certificate', () => {
    assert.deepEqual(
      issues(
        withGroup(
          'healthCheck: { type: tls, tls: { cert: hc.pem } }', // 7
          'upstreams:', //                                       8
          '  - address: "127.0.0.1:9001"', //                   9
          '    healthCheck:', //                                  10
          '      tls: { key: hc.key }', //                       11
        ),
      ),
      [
        'lb.yaml:7:38 groups.g.healthCheck.tls.cert: needs "key" next to it',
        'lb.yaml:11:18 groups.g.upstreams[0].healthCheck.tls.key: needs "cert" next to it',
      ],
    );
  });

  it('a bad http path and expectStatus, jitter of 1, an unknown type and a wrong verify', () => {
    assert.deepEqual(
      issues(
        withGroup(
          'healthCheck:', //                         7
          '  type: http', //                         8
          '  path: healthz', //                      9
          '  expectStatus: "200-99"', //             10
          '  jitter: 1', //                          11
          'upstreams:', //                           12
          '  - address: "127.0.0.1:9001"', //       13
          '    healthCheck: { type: htttp, tls: { verify: yes } }', // 14
        ),
      ),
      [
        'lb.yaml:9:13 groups.g.healthCheck.path: expected a path starting with "/", without spaces or control characters, got "healthz"',
        'lb.yaml:10:21 groups.g.healthCheck.expectStatus: expected statuses from 100 to 599 like 200, "200-399" or "200,204", got "200-99"',
        'lb.yaml:11:15 groups.g.healthCheck.jitter: expected a number < 1, got 1',
        'lb.yaml:14:30 groups.g.upstreams[0].healthCheck.type: expected one of "tcp", "tls", "send-expect", "http", "udp", got "htttp" (did you mean "http"?)',
        'lb.yaml:14:52 groups.g.upstreams[0].healthCheck.tls.verify: expected true or false, got "yes"',
      ],
    );
  });

  it('environment variables reach an upstream check, and are validated like the file', () => {
    const text = withGroup('upstreams: [{ address: "127.0.0.1:9001" }]');
    const env = {
      SWITCHYARD_GROUPS__G__UPSTREAMS__0__HEALTH_CHECK__TYPE: 'tls',
      SWITCHYARD_GROUPS__G__UPSTREAMS__0__HEALTH_CHECK__PORT: '9100',
      SWITCHYARD_GROUPS__G__UPSTREAMS__0__HEALTH_CHECK__TLS__SERVERNAME: 'web-1',
    };
    const config = parseConfigText(text, '/etc/sy/lb.yaml', { overrides: overridesFromEnv(env) });
    assert.deepEqual(config.groups.g.upstreams[0].healthCheck, {
      type: 'tls',
      port: 9100,
      tls: { servername: 'web-1' },
    });
    assert.throws(
      () =>
        parseConfigText(text, 'lb.yaml', {
          overrides: overridesFromEnv({ SWITCHYARD_GROUPS__G__UPSTREAMS__0__HEALTH_CHECK__RISE: '0' }),
        }),
      /SWITCHYARD_GROUPS__G__UPSTREAMS__0__HEALTH_CHECK__RISE \(environment\) groups\.g\.upstreams\[0\]\.healthCheck\.rise: expected a whole number from 1 to 100, got 0/,
    );
  });
});

describe('health checks per upstream: plans and files', () => {
  let dir: string;
  let pki: TestPkiPaths;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'switchyard-hc-'));
    pki = await writeTestPki(dir);
  });

  it('without a group check, plans checks of the upstreams that have their own only', () => {
    const text = withGroup(
      'upstreams:',
      '  - address: "127.0.0.1:9001"',
      '    id: checked',
      '    healthCheck: { port: 9100, interval: 1s }',
      '  - address: "127.0.0.1:9002"',
      '    id: unchecked',
    );
    const g = group(text);
    const plan = planGroupHealth(g, new Map());
    assert.ok(plan?.active !== undefined);
    assert.equal(plan.active.enabled, false);
    assert.deepEqual(Object.keys(plan.active.overrides ?? {}), ['checked']);
    const timers = new FakeTimers();
    const health = new GroupHealth(buildGroup('g', g), { ...plan, timers, now: timers.now });
    health.start();
    try {
      assert.equal(health.checker?.settings('checked')?.port, 9100);
      assert.equal(health.checker?.settings('checked')?.interval, 1000);
      assert.equal(health.checker?.settings('unchecked'), undefined);
    } finally {
      health.stop();
    }
  });

  it('plans nothing for a group with no check, passive check or slow start anywhere', () => {
    assert.equal(
      planGroupHealth(group(withGroup('upstreams: [{ address: "127.0.0.1:9001" }]')), new Map()),
      undefined,
    );
  });

  it('an upstream can leave its group checks with enabled: false', () => {
    const g = group(
      withGroup(
        'healthCheck: { interval: 2s }',
        'upstreams:',
        '  - { address: "127.0.0.1:9001", id: a }',
        '  - { address: "127.0.0.1:9002", id: b, healthCheck: { enabled: false } }',
      ),
    );
    const timers = new FakeTimers();
    const health = new GroupHealth(buildGroup('g', g), {
      ...planGroupHealth(g, new Map()),
      timers,
      now: timers.now,
    });
    health.start();
    try {
      assert.equal(health.checker?.settings('a')?.interval, 2000);
      assert.equal(health.checker?.settings('b'), undefined);
    } finally {
      health.stop();
    }
  });

  it('reads each health check file once and refuses a missing file naming its key', async () => {
    const ok = group(
      withGroup(
        `healthCheck: { type: tls, tls: { cert: ${pki.groupA.certPath}, key: ${pki.groupA.keyPath}, ca: ${pki.caPath} } }`,
        'upstreams:',
        '  - address: "127.0.0.1:9001"',
        `    healthCheck: { tls: { ca: ${pki.caPath} } }`,
      ),
    );
    const config = parseConfigText(withGroup('upstreams: [{ address: "127.0.0.1:9001" }]'), 'lb.yaml');
    const files = await loadHealthFiles({ ...config, groups: { g: ok } });
    assert.deepEqual([...files.keys()].sort(), [pki.caPath, pki.groupA.certPath, pki.groupA.keyPath].sort());

    const missing = join(dir, 'missing.pem');
    const bad = parseConfigText(
      withGroup(
        'upstreams:',
        '  - address: "127.0.0.1:9001"',
        `    healthCheck: { type: tls, tls: { ca: ${missing} } }`,
      ),
      'lb.yaml',
    );
    await assert.rejects(loadHealthFiles(bad), (err: Error) => {
      assert.ok(hasCode(err, ErrorCodes.ERR_CONFIG_READ));
      assert.equal(
        err.message,
        `groups.g.upstreams[0].healthCheck.tls.ca: cannot read "${missing}": file not found`,
      );
      return true;
    });
  });

  it('checkFiles reports unreadable and mismatched health check files at their line and column', async () => {
    const notCa = join(dir, 'not-a-ca.pem');
    writeFileSync(notCa, 'no certificate here\n');
    const file = join(dir, 'lb.yaml');
    writeFileSync(
      file,
      withGroup(
        'healthCheck:', //                                                    7
        '  type: tls', //                                                      8
        `  tls: { cert: ${pki.groupA.certPath}, key: ${pki.groupB.keyPath} }`, // 9
        'upstreams:', //                                                       10
        '  - address: "127.0.0.1:9001"', //                                   11
        '    healthCheck:', //                                                 12
        '      tls:', //                                                       13
        '        ca: not-a-ca.pem', //                                         14
        '  - address: "127.0.0.1:9002"', //                                   15
        '    healthCheck:', //                                                 16
        '      tls:', //                                                       17
        '        ca: nowhere.pem', //                                          18
      ),
    );
    await assert.rejects(loadConfigFile(file, { checkFiles: configFileProblems }), (err: Error) => {
      assert.ok(err instanceof ConfigError);
      const lines = err.issues.map(formatConfigIssue);
      assert.equal(lines.length, 3, lines.join('\n'));
      // The key's value, on line 9 after the certificate's path.
      const keyColumn = readFileSync(file, 'utf8').split('\n')[8].indexOf(pki.groupB.keyPath) + 1;
      assert.equal(
        lines[0],
        `${file}:9:${keyColumn} groups.g.healthCheck.tls.key: the private key does not match the certificate in "${pki.groupA.certPath}"`,
      );
      assert.equal(
        lines[1],
        `${file}:14:17 groups.g.upstreams[0].healthCheck.tls.ca: the CA file holds no PEM certificate`,
      );
      assert.equal(
        lines[2],
        `${file}:18:17 groups.g.upstreams[1].healthCheck.tls.ca: cannot read "${join(dir, 'nowhere.pem')}": file not found`,
      );
      return true;
    });
  });
});
