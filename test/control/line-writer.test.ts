import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { LineWriter } from '../../src/control/line-writer.js';

const WRITER_MODULE = fileURLToPath(new URL('../../src/control/line-writer.js', import.meta.url));

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'switchyard-lines-'));
}

function flushed(w: LineWriter): Promise<void> {
  return new Promise((resolve) => w.flush(() => resolve()));
}

function closed(w: LineWriter): Promise<void> {
  return new Promise((resolve) => w.close(resolve));
}

function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

/** `n` distinct lines, each `bytes` long with its newline. */
function lines(n: number, bytes: number, tag = 'l'): string[] {
  return Array.from({ length: n }, (_, i) => {
    const head = `{"${tag}":${i},"pad":"`;
    return `${head}${'x'.repeat(bytes - head.length - 3)}"}\n`;
  });
}

describe('LineWriter', () => {
  it('writes every line once, in order, multi-byte characters and lines longer than a chunk included', async () => {
    const path = join(tempDir(), 'a.log');
    const before = openFds();
    const w = new LineWriter({ path, batchBytes: 4096 });
    const expected = [
      ...lines(500, 300),
      `{"name":"Zoë – 東京 🚦"}\n`,
      `{"big":"${'y'.repeat(200_000)}"}\n`,
      ...lines(500, 120, 'm'),
    ];
    for (const l of expected) w.write(l);
    await flushed(w);
    assert.equal(readFileSync(path, 'utf8'), expected.join(''));
    assert.equal(w.dropped, 0);
    await closed(w);
    assert.equal(openFds(), before, 'the file is closed');
  });

  it('writes a quiet line within its flush interval, without a flush', async () => {
    const path = join(tempDir(), 'b.log');
    const w = new LineWriter({ path, flushMs: 20 });
    w.write('{"one":1}\n');
    assert.equal(readFileSync(path, 'utf8'), '', 'batched, not written at once');
    for (let i = 0; i < 200 && readFileSync(path, 'utf8') === ''; i++)
      await new Promise((r) => setTimeout(r, 10));
    assert.equal(readFileSync(path, 'utf8'), '{"one":1}\n');
    await closed(w);
  });

  it('reopens the path after a rotation, and keeps the old file when the path cannot be opened', async () => {
    const dir = tempDir();
    const path = join(dir, 'access.log');
    const w = new LineWriter({ path });
    w.write('first\n');
    await flushed(w);
    renameSync(path, `${path}.1`);
    w.write('second\n');
    assert.equal(w.reopen(), undefined);
    w.write('third\n');
    await flushed(w);
    // a line still waiting at the reopen goes to the new file; none is lost or doubled
    assert.equal(readFileSync(`${path}.1`, 'utf8'), 'first\n');
    assert.equal(readFileSync(path, 'utf8'), 'second\nthird\n');

    // a directory where the file should be: the reopen fails, nothing is lost
    const blocked = join(dir, 'blocked');
    mkdirSync(blocked);
    const w2 = new LineWriter({ path: join(blocked, 'x.log') });
    w2.write('kept\n');
    renameSync(blocked, `${blocked}.old`);
    writeFileSync(blocked, 'a file, not a directory');
    const failure = w2.reopen();
    assert.ok(failure instanceof Error);
    w2.write('still kept\n');
    await flushed(w2);
    assert.equal(readFileSync(join(`${blocked}.old`, 'x.log'), 'utf8'), 'kept\nstill kept\n');
    await closed(w);
    await closed(w2);
  });

  it('waits for a slow reader of a pipe without losing a line under the bound', async () => {
    const out = join(tempDir(), 'read.log');
    // The reader starts reading only after the pipe (64 KiB) has long been full.
    const reader = spawn(
      process.execPath,
      [
        '-e',
        `setTimeout(() => process.stdin.pipe(require('fs').createWriteStream(${JSON.stringify(out)})), 300)`,
      ],
      { stdio: ['pipe', 'inherit', 'inherit'] },
    );
    const fd = (reader.stdin as unknown as { _handle: { fd: number } })._handle.fd;
    const w = new LineWriter({ fd, maxBufferedBytes: 4 * 1024 * 1024 });
    const expected = lines(3000, 400);
    for (const l of expected) w.write(l);
    await flushed(w);
    assert.equal(w.dropped, 0);
    reader.stdin!.end();
    await once(reader, 'exit');
    assert.equal(readFileSync(out, 'utf8'), expected.join(''));
  });

  it('drops and counts lines past the bound while the reader is stuck, and survives the reader going away', async () => {
    const reader = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], {
      stdio: ['pipe', 'inherit', 'inherit'],
    });
    const fd = (reader.stdin as unknown as { _handle: { fd: number } })._handle.fd;
    const bound = 256 * 1024;
    const w = new LineWriter({ fd, batchBytes: 4096, maxBufferedBytes: bound });
    for (let round = 0; round < 20; round++) {
      for (const l of lines(500, 400)) w.write(l);
      assert.ok(w.bufferedBytes <= bound, `waiting bytes stay under the bound (${w.bufferedBytes})`);
      await new Promise((r) => setTimeout(r, 5));
    }
    // 4 MB offered, 64 KiB of pipe and 256 KiB of waiting room (plus one write in flight) taken
    assert.ok(w.dropped > 8000, `dropped ${w.dropped}`);
    const droppedWhileStuck = w.dropped;
    reader.kill('SIGKILL');
    await once(reader, 'exit');
    // the write fails with EPIPE: what was waiting is dropped and counted, the process goes on
    await flushed(w);
    assert.ok(w.dropped > droppedWhileStuck);
    assert.equal(w.bufferedBytes, 0);
  });

  it('keeps every line whole when several processes write to one pipe behind a slow reader', async () => {
    const out = join(tempDir(), 'shared.log');
    // One reader for all: it starts late and reads in small sips, so the pipe is full most of the time.
    const reader = spawn(
      process.execPath,
      [
        '-e',
        `const fs = require('fs'); const o = fs.openSync(${JSON.stringify(out)}, 'w');
         setTimeout(() => process.stdin.on('data', (d) => { fs.writeSync(o, d); process.stdin.pause();
           setTimeout(() => process.stdin.resume(), 1); }), 200);`,
      ],
      { stdio: ['pipe', 'inherit', 'inherit'] },
    );
    // Lines of 100 to 1 500 bytes, so that whole batches of them are far above PIPE_BUF.
    const script = (tag: string) => `
      const { LineWriter } = await import(${JSON.stringify(WRITER_MODULE)});
      const w = new LineWriter({ fd: 1 });
      for (let i = 0; i < 2000; i++) w.write(JSON.stringify({ w: '${tag}', i, pad: 'x'.repeat(100 + ((i * 7919) % 1400)) }) + '\\n');
      w.flush(() => process.exit(0));
    `;
    const writers = ['a', 'b', 'c'].map((tag) =>
      spawn(process.execPath, ['--input-type=module', '-e', script(tag)], {
        stdio: ['ignore', reader.stdin!, 'inherit'],
      }),
    );
    const codes = await Promise.all(writers.map(async (w) => (await once(w, 'exit'))[0] as number));
    assert.deepEqual(codes, [0, 0, 0], 'every writer ran to its end');
    reader.stdin!.end();
    await once(reader, 'exit');
    const got = readFileSync(out, 'utf8')
      .split('\n')
      .filter((l) => l !== '');
    const seen = { a: 0, b: 0, c: 0 } as Record<string, number>;
    for (const line of got) {
      const record = JSON.parse(line) as { w: string; i: number };
      assert.equal(record.i, seen[record.w], `writer ${record.w}'s lines in order`);
      seen[record.w]!++;
    }
    assert.deepEqual(seen, { a: 2000, b: 2000, c: 2000 });
  });

  it('writes what is still waiting when the process exits', async () => {
    const script = `
      const { LineWriter } = await import(${JSON.stringify(WRITER_MODULE)});
      const w = new LineWriter({ fd: 1, flushMs: 60_000 });
      for (let i = 0; i < 1000; i++) w.write('{"n":' + i + '}\\n');
      process.exit(0);
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let text = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      text += d;
    });
    await once(child, 'close');
    const got = text.split('\n').filter((l) => l !== '');
    assert.equal(got.length, 1000);
    assert.deepEqual(got.slice(0, 2), ['{"n":0}', '{"n":1}']);
    assert.equal(got.at(-1), '{"n":999}');
  });
});
