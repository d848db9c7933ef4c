import assert from 'node:assert/strict';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { listenerFiles } from '../../../src/config/listener-files.js';
import { loadConfigFile } from '../../../src/config/load-config.js';
import type { SwitchyardConfig } from '../../../src/config/types.js';
import { buildRuntime } from '../../../src/runtime/build-runtime.js';
import { configFileProblems } from '../../../src/runtime/file-problems.js';
import { listenerSetup } from '../../../src/runtime/listener-kinds/registry.js';
import { type TestPkiPaths, writeTestPki } from '../../helpers/certs.js';

describe('listener kinds on the configuration side', () => {
  let dir: string;
  let pki: TestPkiPaths;
  let config: SwitchyardConfig;

  /** One listener of each kind; the TLS one names its files relative to the configuration file. */
  const write = async (name: string, tls: Record<string, string>): Promise<string> => {
    const path = join(dir, name);
    await writeFile(
      path,
      JSON.stringify({
        listeners: [
          { name: 'plain', bind: '127.0.0.1:0', group: 'web' },
          { name: 'mtls', bind: '127.0.0.1:0', tls, routes: [{ org: '*', group: 'web' }] },
          { name: 'sni', bind: '127.0.0.1:0', sniRoutes: [{ serverName: 'a.test', group: 'web' }] },
          { name: 'dns', bind: '127.0.0.1:0', protocol: 'udp', group: 'web' },
        ],
        groups: { web: { upstreams: [{ address: '127.0.0.1:9' }] } },
      }),
    );
    return path;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'listener-kinds-'));
    pki = await writeTestPki(dir);
    const path = await write('switchyard.json', {
      cert: 'server.pem',
      key: 'server.key',
      clientCa: 'ca.pem',
    });
    config = await loadConfigFile(path);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('has a setup for every kind, which builds runtimes of that kind on the right transport', async () => {
    const built = await buildRuntime(config);
    try {
      const seen = config.listeners.map((l, i) => ({
        kind: listenerSetup(l).kind,
        runtime: built.runtime.listeners[i].kind,
        transport: listenerSetup(l).transport,
      }));
      assert.deepEqual(seen, [
        { kind: 'tcp', runtime: 'tcp', transport: 'tcp' },
        { kind: 'tls', runtime: 'tls', transport: 'tcp' },
        { kind: 'tls-passthrough', runtime: 'tls-passthrough', transport: 'tcp' },
        { kind: 'udp', runtime: 'udp', transport: 'udp' },
      ]);
    } finally {
      built.stop();
    }
  });

  it('names the files only the TLS listener reads, resolved against the configuration file', () => {
    const files = config.listeners.map((l) => listenerFiles(l).map((f) => `${f.key.join('.')}=${f.path}`));
    assert.deepEqual(files, [
      [],
      [`tls.cert=${pki.server.certPath}`, `tls.key=${pki.server.keyPath}`, `tls.clientCa=${pki.caPath}`],
      [],
      [],
    ]);
  });

  it("reports a TLS listener's key that does not match its certificate at the key's path", async () => {
    const path = await write('mismatch.json', { cert: 'server.pem', key: 'groupA.key', clientCa: 'ca.pem' });
    const problems = await configFileProblems(await loadConfigFile(path));
    assert.equal(problems.length, 1);
    assert.deepEqual(problems[0].path, ['listeners', 1, 'tls', 'key']);
  });

  it('reads a TLS listener anew only when its files changed, and keeps loaded material a reload did not touch', async () => {
    const copyDir = await mkdtemp(join(dir, 'copy-'));
    await copyFile(pki.server.certPath, join(copyDir, 'server.pem'));
    await copyFile(pki.server.keyPath, join(copyDir, 'server.key'));
    await copyFile(pki.caPath, join(copyDir, 'ca.pem'));
    const path = join(copyDir, 'switchyard.json');
    await copyFile(join(dir, 'switchyard.json'), path);
    const cfg = await loadConfigFile(path);
    const built = await buildRuntime(cfg);
    built.stop();
    const running = built.runtime.listeners[1];
    const setup = listenerSetup(cfg.listeners[1]);
    assert.equal(await setup.reloadFiles?.(cfg.listeners[1], 'listeners[1]', running), undefined);

    const again = (await buildRuntime(cfg)).runtime.listeners[1];
    const kept = setup.keepLoaded?.(running, again);
    assert.ok(kept?.kind === 'tls' && running.kind === 'tls' && kept.tls === running.tls);

    await copyFile(pki.rsaServer.certPath, join(copyDir, 'server.pem'));
    await copyFile(pki.rsaServer.keyPath, join(copyDir, 'server.key'));
    const fresh = await setup.reloadFiles?.(cfg.listeners[1], 'listeners[1]', running);
    assert.ok(fresh?.kind === 'tls' && running.kind === 'tls');
    assert.notEqual(fresh.tls.cert, running.tls.cert);
  });
});
