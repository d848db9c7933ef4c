import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/config/config-error.js';
import { parseConfigText } from '../../src/config/load-config.js';
import { ErrorCodes } from '../../src/lib/errors.js';

/** Two plain TCP listeners; `a`'s bind is on line 3, `b`'s on line 6. */
function twoListeners(a: string, b: string): string {
  return [
    'listeners:', //                 1
    '  - name: first', //            2
    `    bind: "${a}"`, //           3
    '    group: web', //             4
    '  - name: second', //           5
    `    bind: "${b}"`, //           6
    '    group: web', //             7
    'groups:',
    '  web:',
    '    upstreams:',
    '      - address: "127.0.0.1:9000"',
    '',
  ].join('\n');
}

function problems(text: string): string[] {
  try {
    parseConfigText(text, 'lb.yaml');
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    assert.equal(err.code, ErrorCodes.ERR_CONFIG_INVALID);
    return err.issues.map((i) => `${i.file}:${i.line} ${i.path}: ${i.message}`);
  }
  return [];
}

// On Linux a listening socket on a wildcard takes the port on every address it covers, and `[::]`
// is dual-stack by default; a specific IPv6 and a specific IPv4 address never share a socket.
const CONFLICTS: readonly [string, string, string][] = [
  ['127.0.0.1:8443', '127.0.0.1:8443', 'the same address'],
  ['0.0.0.0:8443', '127.0.0.1:8443', '0.0.0.0 takes the port on every IPv4 address'],
  ['127.0.0.1:8443', '0.0.0.0:8443', '0.0.0.0 takes the port on every IPv4 address'],
  ['[::]:8443', '0.0.0.0:8443', '[::] takes the port on every IPv6 address and, dual-stack, on every IPv4'],
  ['127.0.0.1:8443', '[::]:8443', '[::] takes the port on every IPv6 address'],
  ['[::]:8443', '[::1]:8443', '[::] takes the port on every IPv6 address'],
  ['[::1]:8443', '[::1]:8443', 'the same address'],
  ['[0:0::1]:8443', '[::1]:8443', 'the same address'],
  ['[::ffff:127.0.0.1]:8443', '127.0.0.1:8443', 'the same address'],
  ['localhost:8443', 'LocalHost:8443', 'the same address'],
  ['localhost:8443', '[::]:8443', '[::] takes the port'],
];

const NO_CONFLICTS: readonly [string, string][] = [
  ['[::1]:8443', '127.0.0.1:8443'],
  ['127.0.0.1:8443', '127.0.0.2:8443'],
  ['0.0.0.0:8443', '[::1]:8443'],
  ['127.0.0.1:8443', '127.0.0.1:8444'],
  ['[::]:8443', '[::]:8444'],
  ['127.0.0.1:0', '127.0.0.1:0'],
  ['0.0.0.0:0', '[::]:0'],
];

describe('bind conflicts: two sockets on one port are refused by validation', () => {
  for (const [a, b, why] of CONFLICTS) {
    it(`refuses ${a} beside ${b}, naming both listeners with their lines`, () => {
      const found = problems(twoListeners(a, b));
      assert.equal(found.length, 1, found.join('\n'));
      const [problem] = found;
      assert.ok(problem.startsWith('lb.yaml:6 listeners[1].bind: port '), problem);
      assert.ok(problem.includes(`listeners[0] "first" (lb.yaml:3) on`), problem);
      assert.ok(problem.includes(`listeners[1] "second" (lb.yaml:6) on`), problem);
      assert.ok(problem.includes(why), problem);
    });
  }

  for (const [a, b] of NO_CONFLICTS) {
    it(`accepts ${a} beside ${b}`, () => {
      assert.deepEqual(problems(twoListeners(a, b)), []);
    });
  }

  it('refuses admin.bind on a listener port, also when admin.bind is the default', () => {
    const withAdmin = (admin: string) => `${twoListeners('127.0.0.1:9090', '[::1]:8443')}${admin}`;
    const explicit = problems(withAdmin('admin:\n  bind: "0.0.0.0:9090"\n'));
    assert.equal(explicit.length, 1, explicit.join('\n'));
    assert.ok(explicit[0].startsWith('lb.yaml:13 admin.bind: port 9090 is bound twice:'), explicit[0]);
    assert.ok(explicit[0].includes('listeners[0] "first" (lb.yaml:3) on 127.0.0.1:9090'), explicit[0]);
    assert.ok(explicit[0].includes('admin API (admin.bind, lb.yaml:13) on 0.0.0.0:9090'), explicit[0]);

    // The default admin.bind is 127.0.0.1:9090: the clash points at the admin section.
    const byDefault = problems(withAdmin('admin:\n  token: secret-token\n'));
    assert.equal(byDefault.length, 1, byDefault.join('\n'));
    assert.ok(byDefault[0].includes('admin API (admin.bind, lb.yaml:13) on 127.0.0.1:9090'), byDefault[0]);
    assert.deepEqual(problems(withAdmin('admin:\n  bind: "127.0.0.1:9091"\n')), []);
  });

  it('names an override instead of a line when the bind came from one', () => {
    const text = twoListeners('0.0.0.0:8443', '127.0.0.1:8444');
    try {
      parseConfigText(text, 'lb.yaml', {
        overrides: [
          {
            source: 'flag',
            name: '--set listeners.1.bind',
            segments: ['listeners', '1', 'bind'],
            raw: '127.0.0.1:8443',
          },
        ],
      });
      assert.fail('the clash was accepted');
    } catch (err) {
      assert.ok(err instanceof ConfigError, String(err));
      assert.match(
        err.message,
        /--set listeners\.1\.bind \(flag\) listeners\[1\]\.bind: port 8443 is bound twice: listeners\[0\] "first" \(lb\.yaml:3\) on 0\.0\.0\.0:8443 and listeners\[1\] "second" \(--set listeners\.1\.bind \(flag\)\) on 127\.0\.0\.1:8443/,
      );
    }
  });

  it('reports each later listener once, against the first it collides with', () => {
    const text = twoListeners('0.0.0.0:8443', '127.0.0.1:8443').replace(
      'groups:',
      '  - name: third\n    bind: "[::]:8443"\n    group: web\ngroups:',
    );
    const found = problems(text);
    assert.equal(found.length, 2, found.join('\n'));
    assert.ok(found[1].startsWith('lb.yaml:9 listeners[2].bind:'), found[1]);
    assert.ok(found[1].includes('listeners[0] "first" (lb.yaml:3)'), found[1]);
  });
});
