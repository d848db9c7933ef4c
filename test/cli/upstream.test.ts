import assert from 'node:assert/strict';
import { get } from 'node:http';
import { describe, it } from 'node:test';
import { startCli } from '../helpers/cli.js';

/** One HTTP request; resolves with status, Connection header and body. */
function request(port: number, path: string): Promise<{ status: number; connection: string; body: string }> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        body += d;
      });
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, connection: String(res.headers.connection), body }),
      );
    }).on('error', reject);
  });
}

describe('switchyard upstream', { timeout: 30_000 }, () => {
  it('answers any request with "hello from <name> (group <group>)", logs its port, exits 0 on SIGTERM', async () => {
    const up = startCli(['upstream', '--name', 'groupB-2', '--listen', '127.0.0.1:0']);
    try {
      const listening = await up.waitForLog('listening');
      assert.equal(listening.upstream, 'groupB-2');
      assert.equal(listening.group, 'groupB');
      const port = listening.port as number;
      for (const path of ['/', '/any/path?x=1']) {
        assert.deepEqual(await request(port, path), {
          status: 200,
          connection: 'close',
          body: 'hello from groupB-2 (group groupB)\n',
        });
      }
      up.child.kill('SIGTERM');
      assert.equal(await up.exited, 0);
    } finally {
      up.child.kill('SIGKILL');
    }
  });

  it('takes the group from --group when given', async () => {
    const up = startCli(['upstream', '-n', 'web', '-g', 'blue', '-l', '127.0.0.1:0']);
    try {
      const port = (await up.waitForLog('listening')).port as number;
      assert.equal((await request(port, '/')).body, 'hello from web (group blue)\n');
      up.child.kill('SIGINT');
      assert.equal(await up.exited, 0);
    } finally {
      up.child.kill('SIGKILL');
    }
  });
});
