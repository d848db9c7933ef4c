import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { runCli } from '../helpers/cli.js';
import { heldPort } from '../helpers/upstreams.js';

describe('workers: a listener port already in use', () => {
  it('stops run with exit code 1 and the reason, binding nothing anywhere else', async () => {
    const taken = await heldPort();
    try {
      const dir = mkdtempSync(join(tmpdir(), 'switchyard-bind-'));
      const path = join(dir, 'switchyard.yaml');
      writeFileSync(
        path,
        stringify({
          workers: 2,
          listeners: [{ name: 'web', bind: `127.0.0.1:${taken.port}`, group: 'web' }],
          groups: { web: { upstreams: [{ address: '127.0.0.1:1' }] } },
          log: { format: 'json' },
        }),
      );
      const r = await runCli(['run', '--config', path]);
      assert.equal(r.code, 1);
      // With the listener's key and the file's line, as one process says it.
      assert.match(
        r.stderr,
        new RegExp(
          `listeners\\[0\\] "web" \\(.*switchyard\\.yaml:\\d+\\): cannot bind 127\\.0\\.0\\.1:${taken.port}: address already in use \\(EADDRINUSE\\)`,
        ),
      );
      // A socket whose bind failed must never be listened on: the kernel would pick every interface.
      assert.doesNotMatch(r.stdout, /"msg":"listening"/);
      assert.doesNotMatch(r.stdout, /"msg":"switchyard started"/);
    } finally {
      await taken.release();
    }
  });
});
