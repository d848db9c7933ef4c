import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { type Browser, chromium, type Page } from 'playwright-core';
import { stringify } from 'yaml';
import { type CliProcess, startCli } from '../helpers/cli.js';
import { tcpGet } from '../helpers/clients.js';
import { CHROMIUM, describeWith, installed } from '../helpers/system-tools.js';
import { startNamedHttpUpstream, type TestUpstream } from '../helpers/upstreams.js';

const HAVE_CHROMIUM = await installed(CHROMIUM);
const WAIT = { timeout: 20_000 };

// The dashboard of a real `switchyard run` with two worker processes, as the Dockerfile and the
// Kubernetes files run it (`workers: auto`): the primary serves the page from the workers' merged
// pictures, and refusals that happen in the workers reach its client table.
describeWith(
  CHROMIUM,
  HAVE_CHROMIUM,
  'dashboard with workers: 2, in headless Chromium',
  { timeout: 60_000 },
  () => {
    let upstream: TestUpstream;
    let cli: CliProcess;
    let browser: Browser;
    let page: Page;
    let port: number;
    let dir: string;
    const requested: string[] = [];

    before(async () => {
      upstream = await startNamedHttpUpstream('web-1');
      dir = mkdtempSync(join(tmpdir(), 'switchyard-dash-workers-'));
      const file = join(dir, 'switchyard.yaml');
      writeFileSync(
        file,
        stringify({
          workers: 2,
          listeners: [{ name: 'plain', bind: '127.0.0.1:0', group: 'web', handshakeRate: { perSource: 0 } }],
          groups: { web: { upstreams: [{ address: upstream.address, id: 'web-1' }] } },
          // every test connection comes from 127.0.0.1: three pass, the rest are refused
          rateLimit: { algorithm: 'fixed-window', limit: 3, window: '1h' },
          admin: { bind: '127.0.0.1:0' },
          timeouts: { shutdownGrace: '1s' },
          log: { format: 'json' },
        }),
      );
      cli = startCli(['run', '--config', file]);
      port = (await cli.waitForLog('listening')).port as number;
      const admin = (await cli.waitForLog('admin API listening')).address as string;
      await cli.waitForLog('switchyard started');
      browser = await chromium.launch({
        executablePath: CHROMIUM.command,
        args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
      });
      page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
      page.on('request', (r) => requested.push(r.url()));
      await page.goto(`http://${admin}/`);
    });

    after(async () => {
      await browser?.close();
      if (cli !== undefined && cli.child.exitCode === null) cli.child.kill('SIGTERM');
      await cli?.exited;
      await upstream?.close();
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    });

    it('shows both workers, the listener, and the refusals that happened in the workers', async () => {
      await page.locator('#link[data-state="live"]').waitFor(WAIT);
      await page.locator('#workers', { hasText: '2 of 2 ready' }).waitFor(WAIT);
      await page.locator('#listeners tr[data-listener="plain"]').waitFor(WAIT);
      await page.locator('tr[data-upstream="web/web-1"]').waitFor(WAIT);
      const answers: string[] = [];
      for (let i = 0; i < 8; i++) answers.push(await tcpGet(port));
      assert.equal(answers.filter((a) => a === 'web-1').length, 3);
      // the five refusals, counted in whichever worker refused them, reach the client table
      await page
        .locator('#clients tr[data-client="127.0.0.1"] td:last-child', { hasText: /^5$/ })
        .waitFor(WAIT);
      await page.locator('#client-id').fill('127.0.0.1');
      await page.locator('#client-search button[type="submit"]').click();
      const detail = page.locator('#client-detail');
      await detail.locator('p.limits', { hasText: 'none left' }).waitFor(WAIT);
      assert.match(await detail.innerText(), /ERR_RATE_LIMITED on plain/);
      assert.deepEqual(
        requested.filter((url) => !url.startsWith(page.url().replace(/\/$/, ''))),
        [],
      );
    });
  },
);
