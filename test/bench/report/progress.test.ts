import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { createProgress } from '../../../src/bench/report/progress.js';

/** A stream that collects what is written, posing as a terminal or not. */
function collector(isTTY: boolean, columns?: number) {
  const stream = Object.assign(new PassThrough(), { isTTY, columns });
  let written = '';
  stream.on('data', (chunk: Buffer) => {
    written += chunk.toString('utf8');
  });
  return { stream, output: () => written };
}

// ESC, CR and every other control character except the newline ending each line.
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it looks for
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f]/;

describe('createProgress', () => {
  it('prints one plain line per step when the stream is not a terminal', () => {
    const { stream, output } = collector(false);
    const progress = createProgress({ total: 3, stream });
    progress.step('keepalive via direct');
    progress.step('keepalive via haproxy');
    progress.step('evil\x1b[31m label\r\nhere');
    progress.done();
    assert.equal(
      output(),
      '1/3 keepalive via direct\n2/3 keepalive via haproxy\n3/3 evil [31m label  here\n',
    );
    assert.doesNotMatch(output(), CONTROL);
  });

  it('redraws one line with \\r on a terminal and clears it at done', () => {
    const { stream, output } = collector(true, 120);
    const progress = createProgress({ total: 4, stream });
    progress.step('keepalive via switchyard');
    progress.step('bulk via nginx');
    progress.step('idle via haproxy');
    const drawn = output();
    assert.ok(drawn.startsWith('\r[..........] 1/4 keepalive via switchyard'), JSON.stringify(drawn));
    assert.ok(drawn.includes('\r[###.......] 2/4 bulk via nginx'), JSON.stringify(drawn));
    assert.ok(drawn.includes('\r[#####.....] 3/4 idle via haproxy'), JSON.stringify(drawn));
    assert.ok(!drawn.includes('\n'), 'a redrawn line never moves down');
    assert.ok(!drawn.includes('\x1b'), 'no escape sequences');
    // The shorter second line blanks what the first one left behind.
    const second = drawn.split('\r')[2];
    assert.equal(second.length, '[..........] 1/4 keepalive via switchyard'.length);

    progress.done();
    const cleared = output().slice(drawn.length);
    assert.match(cleared, /^\r {10,}\r$/);
    progress.done();
    progress.step('after done');
    assert.equal(output().length, drawn.length + cleared.length, 'nothing after done');
  });

  it('keeps the line narrower than the terminal so it never wraps', () => {
    const { stream, output } = collector(true, 30);
    const progress = createProgress({ total: 2, stream });
    progress.step('a very long label that would wrap a narrow terminal');
    for (const line of output().split('\r')) assert.ok(line.length <= 29, JSON.stringify(line));
  });

  it('writes nothing at all when no step was taken', () => {
    for (const isTTY of [true, false]) {
      const { stream, output } = collector(isTTY);
      createProgress({ total: 5, stream }).done();
      assert.equal(output(), '');
    }
  });

  it('survives a total of zero and more steps than announced', () => {
    const { stream, output } = collector(true, 80);
    const progress = createProgress({ total: 0, stream });
    progress.step('one');
    progress.step('two');
    assert.ok(output().includes('[..........] 2/0 two'), JSON.stringify(output()));
    const { stream: s2, output: o2 } = collector(true, 80);
    const over = createProgress({ total: 1, stream: s2 });
    over.step('one');
    over.step('two');
    over.step('three');
    assert.ok(o2().includes('[##########] 3/1 three'), JSON.stringify(o2()));
  });

  it('writes to stderr by default, never to stdout', () => {
    const stdoutWrite = process.stdout.write;
    const stderrWrite = process.stderr.write;
    let toStdout = 0;
    let toStderr = '';
    process.stdout.write = (() => {
      toStdout += 1;
      return true;
    }) as typeof process.stdout.write;
    process.stderr.write = ((chunk: string) => {
      toStderr += chunk;
      return true;
    }) as typeof process.stderr.write;
    try {
      const progress = createProgress({ total: 1 });
      progress.step('keepalive via direct');
      progress.done();
    } finally {
      process.stdout.write = stdoutWrite;
      process.stderr.write = stderrWrite;
    }
    assert.equal(toStdout, 0);
    assert.ok(toStderr.includes('1/1 keepalive via direct'));
  });
});
