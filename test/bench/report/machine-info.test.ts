import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { prettyName, readMachineInfo } from '../../../src/bench/report/machine-info.js';

describe('readMachineInfo', () => {
  it('describes this machine', () => {
    const info = readMachineInfo('/nonexistent/os-release');
    assert.equal(info.cpu, info.cpu.trim());
    assert.ok(info.cpu.length > 0);
    assert.ok(Number.isInteger(info.cores) && info.cores >= 1);
    assert.ok(info.memoryGiB > 0);
    assert.equal(info.memoryGiB, Math.round(info.memoryGiB * 10) / 10);
    assert.equal(info.os, `${os.type()} ${os.release()}`, 'no distribution without an os-release file');
    assert.equal(info.node, process.version);
  });

  it('adds the distribution from os-release', async () => {
    const dir = await mkdtemp(join(os.tmpdir(), 'switchyard-os-release-'));
    try {
      const file = join(dir, 'os-release');
      await writeFile(
        file,
        'NAME="Debian GNU/Linux"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n',
      );
      assert.equal(readMachineInfo(file).os, `${os.type()} ${os.release()} (Debian GNU/Linux 12 (bookworm))`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('prettyName', () => {
  it('reads PRETTY_NAME quoted, single-quoted, escaped or bare', () => {
    assert.equal(prettyName('ID=x\nPRETTY_NAME="Ubuntu 24.04 LTS"\n'), 'Ubuntu 24.04 LTS');
    assert.equal(prettyName("PRETTY_NAME='Alpine Linux v3.20'"), 'Alpine Linux v3.20');
    assert.equal(prettyName('PRETTY_NAME="Say \\"hi\\""'), 'Say "hi"');
    assert.equal(prettyName('PRETTY_NAME=Arch'), 'Arch');
  });

  it('has nothing to say without it', () => {
    assert.equal(prettyName('NAME=x\n'), undefined);
    assert.equal(prettyName('PRETTY_NAME=""\n'), undefined);
    assert.equal(prettyName(''), undefined);
  });
});
