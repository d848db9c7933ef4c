/**
 * The dashboard in a real headless Chromium (Debian's, driven by playwright-core; never a
 * downloaded browser): a balancer with real upstreams, an active health check, an admin token and
 * mutual-TLS clients of two identities, and the page as an operator uses it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import type { TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { stringify } from 'yaml';
import { parseConfigText } from '../../src/config/load-config.js';
import { createLogger } from '../../src/control/logger.js';
import { type RunningServer, startServer } from '../../src/server/start-server.js';
import { getTestPki, type TestPki } from '../helpers/certs.js';
import { connectTls, tlsGet } from '../helpers/clients.js';
import { testTlsBlock } from '../helpers/proxy-harness.js';
import { CHROMIUM, describeWith, installed } from '../helpers/system-tools.js';
import { startNamedHttpUpstream, type TestUpstream } from '../helpers/upstreams.js';

const HAVE_CHROMIUM = await installed(CHROMIUM);
const TOKEN = 'e2e-admin-token';
// `UPDATE_SCREENSHOT=1 npm test` refreshes the README's picture; otherwise it goes to a temp dir.
const SCREENSHOT =
  process.env.UPDATE_SCREENSHOT === '1'
    ? fileURLToPath(new URL('../../../docs/dashboard.png', import.meta.url))
    : join(mkdtempSync(join(tmpdir(), 'switchyard-dashboard-')), 'dashboard.png');
const WAIT = { timeout: 20_000 };

/**
 * Polls `check` from the test's side until it holds (bounded by WAIT): the page's CSP forbids the
 * string evaluation `page.waitForFunction` would need, which is the point of the CSP.
 */
async function waitUntil(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + WAIT.timeout;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describeWith(CHROMIUM, HAVE_CHROMIUM, 'dashboard in headless Chromium', { timeout: 60_000 }, () => {
  let pki: TestPki;
  let ups: TestUpstream[];
  let server: RunningServer;
  let browser: Browser;
  let page: Page;
  let base: string;
  const requested: string[] = [];
  const held: TLSSocket[] = [];

  const api = async (path: string) => (await fetch(base + path)).json() as Promise<Record<string, unknown>>;
  const upstreamState = async (group: string, id: string) =>
    ((await api(`/api/groups/${group}/upstreams/${id}`)) as { state: string }).state;
  const row = (key: string) => page.locator(`tr[data-upstream="${key}"]`);

  before(async () => {
    pki = await getTestPki();
    ups = await Promise.all(['web-1', 'web-2', 'web-3', 'api-1'].map((n) => startNamedHttpUpstream(n)));
    const config = parseConfigText(
      stringify({
        listeners: [
          {
            name: 'edge',
            bind: '127.0.0.1:0',
            tls: { ...(await testTlsBlock()), orgRule: 'any' },
            routes: [
              { org: 'groupA', group: 'web' },
              { org: 'groupB', group: 'api' },
            ],
          },
        ],
        groups: {
          web: {
            balancer: 'round-robin',
            healthCheck: { type: 'tcp', interval: '200ms', timeout: '500ms', rise: 1, fall: 1, jitter: 0 },
            upstreams: ups.slice(0, 3).map((u) => ({ address: u.address, id: u.name })),
          },
          api: { balancer: 'least-connections', upstreams: [{ address: ups[3].address, id: 'api-1' }] },
        },
        admin: { bind: '127.0.0.1:0', token: TOKEN },
        rateLimit: { algorithm: 'token-bucket', limit: 100_000, window: '1s' },
        concurrency: { perClient: 10 },
        timeouts: { shutdownGrace: '0s', shutdownJitter: '0s' },
      }),
      join(tmpdir(), 'switchyard-e2e.yaml'),
    );
    server = await startServer(config, { logger: createLogger('silent', 'json') });
    base = `http://127.0.0.1:${server.admin?.port}`;
    browser = await chromium.launch({
      executablePath: CHROMIUM.command,
      args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 1100 } });
    page.on('request', (r) => requested.push(r.url()));
    await page.goto(`${base}/`);
  });

  after(async () => {
    for (const s of held) s.destroy();
    await browser?.close();
    await server?.stop();
    await Promise.all((ups ?? []).map((u) => u.close()));
  });

  it('shows the configured listeners, groups and upstreams', async () => {
    await page.locator('#listeners tr[data-listener="edge"]').waitFor(WAIT);
    assert.match(
      await page.locator('#listeners tr[data-listener="edge"]').innerText(),
      /edge\s+tls\s+127\.0\.0\.1:\d+/,
    );
    for (const key of ['web/web-1', 'web/web-2', 'web/web-3', 'api/api-1']) await row(key).waitFor(WAIT);
    assert.equal(await page.locator('[data-group="web"] h3').innerText(), 'web');
    assert.equal(await page.locator('#balancer-api').inputValue(), 'least-connections');
    assert.equal(await page.locator('#version').innerText(), (await api('/api/status')).version);
    await page.locator('#link[data-state="live"]').waitFor(WAIT);
  });

  it('refuses an action without the token and says so', async () => {
    await row('web/web-2').locator('button[data-action="drain"]').click();
    await page.locator('#confirm-ok').click();
    await page.locator('#token-dialog[open]').waitFor(WAIT);
    const notice = page.locator('#notice');
    await notice.waitFor(WAIT);
    assert.match(
      await notice.innerText(),
      /refused: ERR_UNAUTHORIZED: a valid bearer token is required for changes/,
    );
    await page.locator('#token-dialog button[value="cancel"]').click();
    assert.equal(await upstreamState('web', 'web-2'), 'up');
  });

  it('drains an upstream once the token is given, in the API and on the page', async () => {
    await row('web/web-1').locator('button[data-action="drain"]').click();
    assert.match(await page.locator('#confirm-text').innerText(), /Drain web\/web-1/);
    await page.locator('#confirm-ok').click();
    await page.locator('#token-dialog[open]').waitFor(WAIT);
    await page.locator('#token').fill(TOKEN);
    await page.locator('#token-ok').click();
    await page.locator('#notice[data-state="up"]').waitFor(WAIT);
    assert.equal(await upstreamState('web', 'web-1'), 'draining');
    await row('web/web-1').locator('[data-field="state"][data-state="draining"]').waitFor(WAIT);
    await page
      .locator('#events li[data-kind="state"]', { hasText: 'web/web-1 is now draining' })
      .waitFor(WAIT);
  });

  it('moves the charts and the top-clients table with traffic from two identities', async () => {
    const port = server.proxy.listener('edge').address().port;
    for (const client of [pki.groupA, pki.groupA, pki.groupB])
      held.push(await connectTls({ port, ca: pki.ca.cert, client }));
    let pushing = true;
    const push = (async () => {
      while (pushing) {
        await Promise.all([
          tlsGet({ port, ca: pki.ca.cert, client: pki.groupA }),
          tlsGet({ port, ca: pki.ca.cert, client: pki.groupB }),
        ]);
      }
    })();
    try {
      await page.locator('#clients tr[data-client="client-a"]').waitFor(WAIT);
      await page.locator('#clients tr[data-client="client-b"]').waitFor(WAIT);
      assert.match(
        await page.locator('#clients tr[data-client="client-a"]').innerText(),
        /client-a\s+groupA\s+[2-9]/,
      );
      const text = (id: string) => page.locator(`#${id}`).innerText();
      await waitUntil('3 active connections', async () => Number.parseFloat(await text('now-active')) >= 3);
      await waitUntil('new connections', async () => /^[1-9]/.test(await text('now-connections')));
      await waitUntil('bytes in', async () => /^[1-9].* in/.test(await text('now-throughput')));
      // a few seconds of history, so the picture shows lines rather than points
      await waitUntil(
        '12 samples',
        async () => Number(await page.locator('#charts').getAttribute('data-samples')) >= 12,
      );
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
    } finally {
      pushing = false;
      await push;
    }
  });

  it("finds one client by its id: its live connections and its limits' state", async () => {
    // client-a still holds the two connections opened above; the pushed ones end soon after the push
    const detail = page.locator('#client-detail');
    await waitUntil("client-a's two held connections", async () => {
      await page.locator('#client-id').fill('client-a');
      await page.locator('#client-search button[type="submit"]').click();
      return /concurrency 2 of 10 in use/.test(await detail.innerText());
    });
    const text = await detail.innerText();
    assert.match(text, /client-a \(groupA\)/);
    assert.match(text, /rate limit token-bucket 100 k per 1\.0s \(burst 100 k\): [\d.]+( k)? left now/);
    assert.equal(await detail.locator('li', { hasText: 'edge → web/' }).count(), 2);
  });

  it('shows an upstream down within the health check interval once it stops', async () => {
    await ups[2].close();
    await row('web/web-3').locator('[data-field="state"][data-state="down"]').waitFor(WAIT);
    // the last check's result and how long the checks have had it down
    await waitUntil('the check column', async () =>
      /failure · down for \d+s/.test(await row('web/web-3').locator('td').nth(1).innerText()),
    );
    await page.locator('#events li[data-kind="health"]', { hasText: 'web/web-3 is unhealthy' }).waitFor(WAIT);
    assert.match(await page.locator('#health-summary').innerText(), /2 of 4 upstreams in rotation/);
  });

  it('made no request outside the admin origin', () => {
    assert.ok(requested.length > 0);
    const outside = requested.filter((url) => new URL(url).origin !== base);
    assert.deepEqual(outside, []);
  });
});
