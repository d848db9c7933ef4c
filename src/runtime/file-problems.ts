import { readFile } from 'node:fs/promises';
import { listenerFiles } from '../config/listener-files.js';
import type { FileProblem } from '../config/load-config.js';
import type { SwitchyardConfig } from '../config/types.js';
import { readHealthFiles } from './build-health.js';
import { readUpstreamTls } from './build-upstream-tls.js';
import { listenerSetup } from './listener-kinds/registry.js';
import { whyUnreadable } from './read-pem.js';
import { clientMaterialProblem } from './tls-problem.js';

/**
 * For `loadConfigFile`'s `checkFiles`: every TLS file that cannot be read, and every listener, health
 * check or group `upstreamTls` whose files do not make a usable context.
 */
export async function configFileProblems(config: SwitchyardConfig): Promise<FileProblem[]> {
  const problems: FileProblem[] = [];
  const problem = (path: (string | number)[], message: string) => problems.push({ path, message });
  await Promise.all(
    config.listeners.map(async (l, i) => {
      const texts = new Map<string, string>();
      let unreadable = false;
      await Promise.all(
        listenerFiles(l).map(async ({ key, path }) => {
          try {
            texts.set(key.join('.'), await readFile(path, 'utf8'));
          } catch (err) {
            problem(['listeners', i, ...key], `cannot read "${path}": ${whyUnreadable(err)}`);
            unreadable = true;
          }
        }),
      );
      const why = unreadable ? undefined : listenerSetup(l).filesProblem?.(l, texts);
      if (why !== undefined) problem(['listeners', i, ...why.key], why.message);
    }),
  );
  for (const p of (await readHealthFiles(config)).problems) problem(p.path, p.message);
  for (const p of (await readUpstreamTls(config)).problems) problem(p.path, p.message);
  const store = config.limitStore;
  if (store.type === 'redis' && store.tls !== undefined) {
    const pem: { ca?: string; cert?: string; key?: string } = {};
    let unreadable = false;
    for (const key of ['ca', 'cert', 'key'] as const) {
      const path = store.tls[key];
      if (path === undefined) continue;
      try {
        pem[key] = await readFile(path, 'utf8');
      } catch (err) {
        problem(['limitStore', 'tls', key], `cannot read "${path}": ${whyUnreadable(err)}`);
        unreadable = true;
      }
    }
    // A certificate and key that are no pair would otherwise show only as Redis refusing every connect.
    const why = unreadable ? undefined : clientMaterialProblem(pem, store.tls);
    if (why !== undefined) problem(['limitStore', 'tls', ...(why.key === '' ? [] : [why.key])], why.message);
  }
  return problems;
}
