import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli, startCli } from '../helpers/cli.js';
import { until } from '../helpers/clients.js';

describe('switchyard bench', { timeout: 120_000 }, () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sy-bench-cli-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('prints the report as JSON and rewrites the proxy section of --docs with a chart per row', async () => {
    const doc = join(dir, 'BENCH.md');
    await writeFile(doc, '# Benchmarks\n\nLibrary figures stay.\n\n## Proxy benchmarks\n\nold\n');
    const r = await runCli([
      'bench',
      '--quick',
      '--json',
      '--targets',
      'direct,switchyard',
      '--scenarios',
      'keepalive',
      '--duration',
      '300',
      '--no-wrk',
      '--docs',
      doc,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as {
      results: { scenario: string; target: string; errors: number }[];
    };
    assert.deepEqual(
      report.results.map((x) => `${x.scenario} via ${x.target}`),
      [
        'keep-alive requests/s via direct',
        'keep-alive requests/s via switchyard',
        'proxy CPU per keep-alive request via switchyard',
      ],
    );
    assert.ok(report.results.every((x) => x.errors === 0));
    // progress on stderr, one plain line per step when not a terminal
    assert.match(r.stderr, /1\/2 keepalive via direct/);
    const text = await readFile(doc, 'utf8');
    assert.ok(text.startsWith('# Benchmarks\n\nLibrary figures stay.\n'));
    assert.ok(!text.includes('\nold\n'));
    assert.match(text, /keep-alive requests\/s/);
    assert.match(text, /!\[keep-alive requests\/s\]\(bench\/keep-alive-requests-s\.svg\)/);
    assert.deepEqual((await readdir(join(dir, 'bench'))).sort(), [
      'keep-alive-requests-s.svg',
      'proxy-cpu-per-keep-alive-request.svg',
    ]);
    const chart = await readFile(join(dir, 'bench', 'keep-alive-requests-s.svg'), 'utf8');
    assert.ok(chart.startsWith('<svg'));
    assert.match(chart, /switchyard/);
  });

  it('on Ctrl-C finishes the run in progress, stops every process it started and exits 1', async () => {
    // the suite's work directory lands in this TMPDIR, so what it leaves behind can be seen
    const tmp = await mkdtemp(join(dir, 'tmp-'));
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = tmp;
    let cli: ReturnType<typeof startCli>;
    try {
      cli = startCli(['bench', '--quick', '--targets', 'direct,switchyard', '--duration', '500', '--no-wrk']);
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    }
    await until(() => cli.stderr.some((l) => /^1\/\d+ /.test(l)), 'the first run began');
    cli.child.kill('SIGINT');
    assert.equal(await cli.exited, 1);
    assert.ok(cli.stderr.some((l) => l.includes('stopping after the current run')));
    assert.ok(cli.stderr.some((l) => l.includes('bench interrupted; every process it started is stopped')));
    assert.deepEqual(await readdir(tmp), [], 'the work directory was removed');
    const left: string[] = [];
    for (const pid of await readdir('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
      if (cmdline.includes(tmp)) left.push(cmdline.replaceAll('\0', ' '));
    }
    assert.deepEqual(left, [], 'processes the suite started are still running');
  });

  it('refuses an unknown target or scenario with a usage error and runs nothing', async () => {
    const t = await runCli(['bench', '--targets', 'direct,envoy']);
    assert.equal(t.code, 2);
    assert.match(t.stderr, /unknown target envoy/);
    const s = await runCli(['bench', '--scenarios', 'warp']);
    assert.equal(s.code, 2);
    assert.match(s.stderr, /unknown scenario warp/);
    const n = await runCli(['bench', '--duration', '-5']);
    assert.equal(n.code, 2);
    assert.match(n.stderr, /--duration must be a positive whole number/);
  });
});
