import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/config/config-error.js';
import { parseConfigText } from '../../src/config/load-config.js';
import {
  type ConfigOverride,
  flagOverride,
  formatIssue,
  overridesFromEnv,
  overridesFromFlags,
  overrideValue,
  screamingSnake,
} from '../../src/config/overrides.js';
import type { TcpListenerConfig } from '../../src/config/types.js';

const FILE = [
  'listeners:', //                  1
  '  - name: tcp', //               2
  '    bind: "127.0.0.1:7000"', //  3
  '    group: web', //              4
  'groups:', //                     5
  '  web-east.1:', //               6
  '    upstreams:', //              7
  '      - address: "127.0.0.1:9001"', // 8
  '  web:', //                      9
  '    upstreams:', //              10
  '      - address: "127.0.0.1:9002"', // 11
  'timeouts:', //                   12
  '  idle: 1m', //                  13
  '',
].join('\n');

/** The formatted issues thrown for FILE (or `text`) with `overrides`. */
function problems(overrides: ConfigOverride[], text = FILE): string[] {
  try {
    parseConfigText(text, 'lb.yaml', { overrides });
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err.issues.map(formatIssue);
  }
  assert.fail('expected the configuration to be refused');
}

const env = (vars: Record<string, string>) => overridesFromEnv(vars);

describe('override names and values', () => {
  it('turns camelCase keys into SCREAMING_SNAKE segments', () => {
    assert.equal(screamingSnake('rateLimit'), 'RATE_LIMIT');
    assert.equal(screamingSnake('perClient'), 'PER_CLIENT');
    assert.equal(screamingSnake('clientCa'), 'CLIENT_CA');
    assert.equal(screamingSnake('log'), 'LOG');
  });

  it('reads numbers, booleans and null as YAML and everything else as the text typed', () => {
    assert.equal(overrideValue('50'), 50);
    assert.equal(overrideValue('1.25'), 1.25);
    assert.equal(overrideValue('true'), true);
    assert.equal(overrideValue('null'), null);
    assert.equal(overrideValue('5m'), '5m');
    assert.equal(overrideValue('0.0.0.0:8443'), '0.0.0.0:8443');
    assert.equal(overrideValue('[::]:8443'), '[::]:8443');
    assert.equal(overrideValue('{org}'), '{org}');
    assert.equal(overrideValue('secret #1'), 'secret #1');
    assert.equal(overrideValue('"123"'), '123');
    assert.equal(overrideValue("'true'"), 'true');
  });

  it('takes SWITCHYARD_* variables sorted by name, skipping SWITCHYARD_CONFIG and empty ones', () => {
    const found = overridesFromEnv({
      SWITCHYARD_TIMEOUTS__IDLE: '10m',
      SWITCHYARD_CONFIG: 'lb.yaml',
      SWITCHYARD_ADMIN__TOKEN: '',
      SWITCHYARD_LOG__LEVEL: 'debug',
      PATH: '/usr/bin',
      switchyard_log__level: 'warn',
    });
    assert.deepEqual(
      found.map((o) => [o.name, o.segments, o.raw]),
      [
        ['SWITCHYARD_LOG__LEVEL', ['LOG', 'LEVEL'], 'debug'],
        ['SWITCHYARD_TIMEOUTS__IDLE', ['TIMEOUTS', 'IDLE'], '10m'],
      ],
    );
    assert.ok(found.every((o) => o.source === 'environment'));
  });

  it('splits --set at the first "=" and refuses one without it', () => {
    const [set] = overridesFromFlags(['admin.token=a=b']);
    assert.deepEqual([set.name, set.segments, set.raw], ['--set admin.token', ['admin', 'token'], 'a=b']);
    assert.throws(
      () => overridesFromFlags(['timeouts.idle']),
      (err: unknown) =>
        err instanceof ConfigError &&
        formatIssue(err.issues[0]) ===
          '--set timeouts.idle (flag): expected key.path=value, e.g. timeouts.idle=10m',
    );
  });
});

describe('parseConfigText with overrides', () => {
  it('applies environment then flags over the file: the flag wins, then the environment', () => {
    const overrides = [
      ...env({ SWITCHYARD_TIMEOUTS__IDLE: '2m', SWITCHYARD_TIMEOUTS__CONNECT: '3s' }),
      ...overridesFromFlags(['timeouts.idle=3m']),
    ];
    const config = parseConfigText(FILE, 'lb.yaml', { overrides });
    assert.equal(config.timeouts.idle, 180_000, 'flag beats environment and file');
    assert.equal(config.timeouts.connect, 3000, 'environment beats the default');
    assert.equal(
      parseConfigText(FILE, 'lb.yaml', { overrides: overrides.slice(0, 2) }).timeouts.idle,
      120_000,
    );
    assert.equal(parseConfigText(FILE, 'lb.yaml').timeouts.idle, 60_000);
  });

  it('sets list items by index, creates missing sections and matches group names loosely', () => {
    const config = parseConfigText(FILE, 'lb.yaml', {
      overrides: [
        ...env({
          SWITCHYARD_LISTENERS__0__BIND: '[::]:7001',
          SWITCHYARD_RATE_LIMIT__LIMIT: '50',
          SWITCHYARD_RATE_LIMIT__WINDOW: '1s',
          SWITCHYARD_GROUPS__WEB_EAST_1__UPSTREAMS__0__WEIGHT: '3',
          SWITCHYARD_CONCURRENCY__PER_CLIENT: '8',
          SWITCHYARD_ADMIN__TOKEN: 'secret #1',
        }),
        flagOverride('--log-level', 'log.level', 'debug'),
      ],
    });
    assert.equal((config.listeners[0] as TcpListenerConfig).bind, '[::]:7001');
    assert.deepEqual(config.rateLimit, { algorithm: 'fixed-window', limit: 50, window: 1000 });
    assert.equal(config.groups['web-east.1'].upstreams[0].weight, 3);
    assert.equal(config.concurrency.perClient, 8);
    assert.deepEqual(config.admin, { bind: '127.0.0.1:9090', token: 'secret #1' });
    assert.equal(config.log.level, 'debug');
  });

  it('names the variable or flag, not a line, when its value is bad', () => {
    assert.deepEqual(problems(env({ SWITCHYARD_TIMEOUTS__IDLE: 'soon' })), [
      'SWITCHYARD_TIMEOUTS__IDLE (environment) timeouts.idle: expected a duration like "5m", got "soon"',
    ]);
    assert.deepEqual(problems(overridesFromFlags(['timeouts.idle=soon'])), [
      '--set timeouts.idle (flag) timeouts.idle: expected a duration like "5m", got "soon"',
    ]);
    assert.deepEqual(problems([flagOverride('--log-level', 'log.level', 'loud')]), [
      '--log-level (flag) log.level: expected one of "trace", "debug", "info", "warn", "error", "fatal", "silent", got "loud"',
    ]);
  });

  it('blames the override for keys missing from a section it created', () => {
    assert.deepEqual(problems(env({ SWITCHYARD_RATE_LIMIT__LIMIT: '50' })), [
      'SWITCHYARD_RATE_LIMIT__LIMIT (environment) rateLimit.window: required',
    ]);
  });

  it('keeps file positions for the file and lists override problems after them', () => {
    const text = FILE.replace('  idle: 1m', '  idle: 5 minutes');
    assert.deepEqual(problems(env({ SWITCHYARD_TIMEOUTS__CONNECT: 'x' }), text), [
      'lb.yaml:13:9 timeouts.idle: expected a duration like "5m", got "5 minutes"',
      'SWITCHYARD_TIMEOUTS__CONNECT (environment) timeouts.connect: expected a duration like "5m", got "x"',
    ]);
  });

  it('refuses a variable that names no key, suggesting the closest one', () => {
    assert.deepEqual(problems(env({ SWITCHYARD_TIMEOUT__IDLE: '1m', SWITCHYARD_LOG__LEVL: 'debug' })), [
      'SWITCHYARD_LOG__LEVL (environment): unknown configuration key "LEVL" in log (did you mean "SWITCHYARD_LOG__LEVEL"?)',
      'SWITCHYARD_TIMEOUT__IDLE (environment): unknown configuration key "TIMEOUT" (did you mean "SWITCHYARD_TIMEOUTS__IDLE"?)',
    ]);
    assert.deepEqual(problems(overridesFromFlags(['timeout.idle=1m'])), [
      '--set timeout.idle (flag): unknown configuration key "timeout" (did you mean "--set timeouts.idle"?)',
    ]);
    const [nope] = problems(env({ SWITCHYARD_NOPE: '1' }));
    assert.match(
      nope,
      /^SWITCHYARD_NOPE \(environment\): unknown configuration key "NOPE"; known keys: LISTENERS, GROUPS, RATE_LIMIT, .*\bTIMEOUTS\b/,
    );
  });

  it('refuses list indexes that are not numbers or leave a gap, and keys below a single value', () => {
    assert.deepEqual(
      problems([
        ...env({
          SWITCHYARD_LISTENERS__2__BIND: '127.0.0.1:1',
          SWITCHYARD_LISTENERS__X__BIND: '127.0.0.1:1',
        }),
        ...overridesFromFlags(['listeners.0.bind.port=1']),
      ]),
      [
        'SWITCHYARD_LISTENERS__2__BIND (environment): index 2 is past the end of listeners (1 item; the next new one is 1)',
        'SWITCHYARD_LISTENERS__X__BIND (environment): listeners is a list: expected an index (0, 1, ...), got "X"',
        '--set listeners.0.bind.port (flag): listeners[0].bind is a single value and has no key "port"',
      ],
    );
  });
});
