import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CONFIG_ENV_NAME, hostPort, LOG_LEVEL_NAMES, splitHostPort } from '../../src/cli/options.js';
import { CONFIG_ENV } from '../../src/config/overrides.js';
import { LOG_LEVELS } from '../../src/config/schema.js';

describe('cli options', () => {
  it('repeats the schema log levels and the config variable name without drifting', () => {
    assert.deepEqual([...LOG_LEVEL_NAMES], [...LOG_LEVELS]);
    assert.equal(CONFIG_ENV_NAME, CONFIG_ENV);
  });

  it('reads host:port options, port 0 included, IPv6 in brackets', () => {
    assert.equal(hostPort('127.0.0.1:0'), '127.0.0.1:0');
    assert.equal(hostPort('[::1]:8443'), '[::1]:8443');
    assert.deepEqual(splitHostPort(hostPort('[::]:00')), { host: '::', port: 0 });
    assert.deepEqual(splitHostPort('localhost:9000'), { host: 'localhost', port: 9000 });
    assert.throws(() => hostPort('8443'), /expected "host:port"/);
    assert.throws(() => hostPort('::1:80'), /brackets/);
  });
});
