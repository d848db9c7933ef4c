import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  PROXY_BENCH_END,
  PROXY_BENCH_START,
  replaceProxySection,
} from '../../../src/bench/report/doc-section.js';
import { renderBenchmarksSection, writeBenchmarksDoc } from '../../../src/bench/report/markdown.js';
import { renderScenarioChart } from '../../../src/bench/report/svg-chart.js';
import { fixtureResults, fixtureRun, result } from './fixtures.js';

describe('renderBenchmarksSection', () => {
  const section = renderBenchmarksSection(fixtureRun());

  it('opens with the heading and tells how, where and with what it ran', () => {
    assert.ok(section.startsWith('## Proxy benchmarks (npm run bench)\n'));
    assert.ok(section.endsWith('\n') && !section.endsWith('\n\n'));
    assert.ok(section.includes('2026-11-22 21:41 UTC'));
    assert.ok(section.includes('`npm run bench -- --quick`'));
    assert.ok(section.includes('3 repetitions of 5 s'));
    assert.ok(section.includes('quick run'));
    assert.ok(
      section.includes(
        'AMD EPYC 7B13, 2 cores, 23.5 GiB, Linux 6.1.0 (Debian GNU/Linux 12), Node.js v20.20.2',
      ),
    );
    assert.ok(section.includes('switchyard 0.1.0, haproxy 2.6.12, nginx 1.22.1, wrk 4.2.0'));
  });

  it('has a Markdown table of every scenario and target with ratios and ✓', () => {
    const lines = section.split('\n');
    const header = lines.findIndex((l) => l.startsWith('| scenario |'));
    assert.equal(
      lines[header],
      '| scenario | direct | switchyard | switchyard-defaults | switchyard-workers | naive | haproxy | nginx | switchyard/haproxy | switchyard/naive | switchyard/direct |',
    );
    assert.equal(lines[header + 1], '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    assert.equal(
      lines[header + 2],
      '| keepalive | 100.0 k req/s | 50.0 k req/s | — | — | — | 40.0 k req/s | 45.0 k req/s (3 errors) | 1.25x ✓ | — | 0.50x |',
    );
    assert.equal(
      lines[header + 3],
      '| cpu per connection | — | 50.0 µs/conn | — | — | — | 40.0 µs/conn | — | 0.80x | — | — |',
    );
    assert.equal(
      lines[header + 4],
      '| mtls handshake | 2000 conn/s | 1500 conn/s | — | — | — | — | — | — | — | 0.75x |',
    );
    assert.equal(lines[header + 5], '');
  });

  it('shows the naive ratio with ✓, marks refused cells with ! and lists the warnings first', () => {
    const run = fixtureRun([
      result('keepalive', 'switchyard', 50_000),
      result('keepalive', 'switchyard-defaults', 20_000, { refused: { ERR_HANDSHAKE_RATE: 7 } }),
      result('keepalive', 'naive', 40_000),
    ]);
    run.warnings = ['switchyard-defaults refused 7 connection(s) by its guards'];
    const text = renderBenchmarksSection(run);
    const row = text.split('\n').find((l) => l.startsWith('| keepalive |'));
    assert.equal(
      row,
      '| keepalive | — | 50.0 k req/s | 20.0 k req/s ! | — | 40.0 k req/s | — | — | — | 1.25x ✓ | — |',
    );
    assert.ok(
      text.includes('\n**Warnings:**\n\n- ⚠ switchyard-defaults refused 7 connection(s) by its guards\n'),
    );
    assert.ok(text.indexOf('**Warnings:**') < text.indexOf('- keepalive: requests per second'));
    assert.ok(!renderBenchmarksSection(fixtureRun()).includes('Warnings'));
  });

  it('lists the notes as bullets and links one chart per scenario', () => {
    assert.ok(section.includes('\n- keepalive: requests per second over 64 kept-alive connections.\n'));
    assert.ok(section.includes('\n- mtls handshake: full handshakes per second.\n'));
    assert.ok(section.includes('![keepalive](bench/keepalive.svg)'));
    assert.ok(section.includes('![cpu per connection](bench/cpu-per-connection.svg)'));
    assert.ok(section.includes('![mtls handshake](bench/mtls-handshake.svg)'));
  });

  it('keeps table rows intact whatever the names hold, and takes another charts path', () => {
    const run = fixtureRun([result('a|b [x]', 'switchyard', 1), result('A B x', 'haproxy', 1)]);
    run.versions = {};
    run.command = 'bench `quoted`';
    const text = renderBenchmarksSection(run, { chartsHref: '../img' });
    assert.ok(text.includes('| a\\|b [x] |'));
    assert.ok(text.includes('![a|b \\[x\\]](../img/a-b-x.svg)'));
    assert.ok(text.includes('![A B x](../img/a-b-x-2.svg)'), 'slugs stay unique');
    assert.ok(text.includes('`` bench `quoted` ``'));
    assert.ok(text.includes('Versions: not recorded.'));
  });

  it('says so when there are no results', () => {
    const text = renderBenchmarksSection(fixtureRun([]));
    assert.ok(text.includes('No results.'));
    assert.ok(!text.includes('| scenario |'));
  });
});

describe('replaceProxySection', () => {
  const section = '## Proxy benchmarks (npm run bench)\n\nnew\n';
  const block = `${PROXY_BENCH_START}\n${section}${PROXY_BENCH_END}`;

  it('replaces what is between the markers and nothing else', () => {
    const doc = `# T\n\nintro\n\n${PROXY_BENCH_START}\nold\n${PROXY_BENCH_END}\n\n## Log\n\nkept\n`;
    assert.equal(replaceProxySection(doc, section), `# T\n\nintro\n\n${block}\n\n## Log\n\nkept\n`);
  });

  it('replaces the ## Proxy benchmarks section up to the next ## heading, keeping ### inside it', () => {
    const doc = '# T\n\n## Library\n\nlib\n\n## Proxy benchmarks\n\nstub\n\n### sub\n\nx\n\n## Log\n\nkept\n';
    assert.equal(
      replaceProxySection(doc, section),
      `# T\n\n## Library\n\nlib\n\n${block}\n\n## Log\n\nkept\n`,
    );
  });

  it('replaces a ## Proxy benchmarks section that runs to the end', () => {
    assert.equal(replaceProxySection('# T\n\n## Proxy benchmarks\n\nstub\n', section), `# T\n\n${block}\n`);
    assert.equal(replaceProxySection('# T\n\n## Proxy benchmarks', section), `# T\n\n${block}\n`);
  });

  it('appends the section when the doc has neither markers nor heading', () => {
    assert.equal(replaceProxySection('# T\n\ntext\n', section), `# T\n\ntext\n\n${block}\n`);
    assert.equal(replaceProxySection('# T', section), `# T\n\n${block}\n`);
    assert.equal(replaceProxySection('', section), `${block}\n`);
  });

  it('does not take a ### Proxy benchmarks heading for the section', () => {
    const doc = '# T\n\n### Proxy benchmarks of old\n\nkept\n';
    assert.equal(replaceProxySection(doc, section), `${doc}\n${block}\n`);
  });

  it('is idempotent from every starting point', () => {
    for (const doc of [
      '# T\n\n## Proxy benchmarks\n\nstub\n\n## Log\n',
      '# T\n',
      '# T\n\n## Proxy benchmarks\n',
    ]) {
      const once = replaceProxySection(doc, section);
      assert.equal(replaceProxySection(once, section), once);
    }
  });

  it('refuses broken markers instead of guessing', () => {
    assert.throws(
      () => replaceProxySection(`a\n${PROXY_BENCH_START}\nb\n`, section),
      /no <!-- proxy-bench:end -->/,
    );
    assert.throws(
      () => replaceProxySection(`a\n${PROXY_BENCH_END}\nb\n`, section),
      /no <!-- proxy-bench:start -->/,
    );
    assert.throws(
      () => replaceProxySection(`${PROXY_BENCH_END}\n${PROXY_BENCH_START}\nx\n`, section),
      /no <!-- proxy-bench:end -->/,
    );
    const twice = `${PROXY_BENCH_START}\n${PROXY_BENCH_END}\n${PROXY_BENCH_START}\n${PROXY_BENCH_END}\n`;
    assert.throws(() => replaceProxySection(twice, section), /more than once/);
    assert.throws(() => replaceProxySection('# T\n', `x ${PROXY_BENCH_END}`), /markers/);
  });
});

describe('writeBenchmarksDoc', () => {
  let dir: string;
  // what docs/BENCHMARKS.md looked like before its first run: a library part and a stub section
  // (the live doc is rewritten by every `npm run bench`, so it cannot be the fixture)
  const original =
    '# Benchmarks\n\nMachine notes.\n\n## Library micro-benchmarks (`npm run bench:lib`)\n\n' +
    '| a | b |\n|---|---|\n| 1 | 2 |\n\n## Proxy benchmarks\n\nThe suite does not exist yet.\n';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'switchyard-bench-report-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const libraryPart = (doc: string) => doc.slice(0, doc.indexOf('## Proxy benchmarks'));

  it('replaces the stub section of the doc, keeps the rest byte-identical, and writes the charts', async () => {
    const docPath = join(dir, 'stub', 'BENCHMARKS.md');
    const chartsDir = join(dir, 'stub', 'bench');
    await writeFileDeep(docPath, original);
    await writeBenchmarksDoc(docPath, chartsDir, fixtureRun());

    const written = await readFile(docPath, 'utf8');
    const head = libraryPart(original);
    assert.ok(head.includes('## Library micro-benchmarks'));
    assert.ok(written.startsWith(head), 'the library section is untouched');
    assert.equal(
      written.slice(head.length),
      `${PROXY_BENCH_START}\n${renderBenchmarksSection(fixtureRun())}${PROXY_BENCH_END}\n`,
    );

    assert.deepEqual((await readdir(chartsDir)).sort(), [
      'cpu-per-connection.svg',
      'keepalive.svg',
      'mtls-handshake.svg',
    ]);
    const keepalive = fixtureResults().filter((r) => r.scenario === 'keepalive');
    assert.equal(
      await readFile(join(chartsDir, 'keepalive.svg'), 'utf8'),
      renderScenarioChart('keepalive', keepalive),
    );
  });

  it('replaces only what is between the markers, keeping text after them byte-identical', async () => {
    const docPath = join(dir, 'markers', 'BENCHMARKS.md');
    const log = '\n\n## Performance log\n\n- 2026-11-23: something got faster.\n';
    const doc = `${libraryPart(original)}${PROXY_BENCH_START}\nold figures\n${PROXY_BENCH_END}${log}`;
    await writeFileDeep(docPath, doc);
    await writeBenchmarksDoc(docPath, join(dir, 'markers', 'bench'), fixtureRun());
    const written = await readFile(docPath, 'utf8');
    assert.ok(
      written.startsWith(
        `${libraryPart(original)}${PROXY_BENCH_START}\n## Proxy benchmarks (npm run bench)\n`,
      ),
    );
    assert.ok(written.endsWith(`${PROXY_BENCH_END}${log}`));
    assert.ok(!written.includes('old figures'));
  });

  it('is idempotent: a second write leaves doc and charts as they were', async () => {
    const docPath = join(dir, 'twice', 'BENCHMARKS.md');
    const chartsDir = join(dir, 'twice', 'bench');
    await writeFileDeep(docPath, `${original}\n## Performance log\n\nkept\n`);
    await writeBenchmarksDoc(docPath, chartsDir, fixtureRun());
    const first = await readFile(docPath, 'utf8');
    const firstMtime = (await stat(docPath)).mtimeMs;
    const firstChart = await readFile(join(chartsDir, 'keepalive.svg'), 'utf8');
    assert.ok(first.endsWith(`${PROXY_BENCH_END}\n\n## Performance log\n\nkept\n`));

    await writeBenchmarksDoc(docPath, chartsDir, fixtureRun());
    assert.equal(await readFile(docPath, 'utf8'), first);
    assert.equal((await stat(docPath)).mtimeMs, firstMtime, 'an unchanged doc is not rewritten');
    assert.equal(await readFile(join(chartsDir, 'keepalive.svg'), 'utf8'), firstChart);
    assert.deepEqual(
      (await readdir(join(dir, 'twice'))).sort(),
      ['BENCHMARKS.md', 'bench'],
      'no temporary files left',
    );
  });

  it('links the charts relative to the doc', async () => {
    const docPath = join(dir, 'elsewhere', 'docs', 'BENCHMARKS.md');
    await writeFileDeep(docPath, '# Benchmarks\n');
    await writeBenchmarksDoc(docPath, join(dir, 'elsewhere', 'charts'), fixtureRun());
    const written = await readFile(docPath, 'utf8');
    assert.ok(written.includes('![keepalive](../charts/keepalive.svg)'), written);
    assert.ok(written.startsWith('# Benchmarks\n\n<!-- proxy-bench:start -->\n'));
  });
});

async function writeFileDeep(path: string, content: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, content);
}
