import { readFile } from 'node:fs/promises';
import type { FileProblem } from '../config/load-config.js';
import type { SwitchyardConfig } from '../config/types.js';
import { readHealthFiles } from './build-health.js';
import { readUpstreamTls } from './build-upstream-tls.js';
import { whyUnreadable } from './read-pem.js';
import { listenerTlsProblem, tlsMaterial } from './tls-problem.js';

/**
 * For `loadConfigFile`'s `checkFiles`: every TLS file that cannot be read, and every listener, health
 * check or group `upstreamTls` whose files do not make a usable context.
 */
export async function configFileProblems(config: SwitchyardConfig): Promise<FileProblem[]> {
  const problems: FileProblem[] = [];
  const problem = (path: (string | number)[], message: string) => problems.push({ path, message });
  await Promise.all(
    config.listeners.map(async (l, i) => {
      if (l.kind !== 'tls') return;
      const keys = ['cert', 'key', 'clientCa', 'crl'] as const;
      const texts = await Promise.all(
        keys.map(async (key) => {
          const path = l.tls[key];
          if (path === undefined) return '';
          try {
            return await readFile(path, 'utf8');
          } catch (err) {
            const code = (err as NodeJS.ErrnoException).code;
            const why = code === 'ENOENT' ? 'file not found' : (err as Error).message;
            problem(['listeners', i, 'tls', key], `cannot read "${path}": ${why}`);
            return undefined;
          }
        }),
      );
      if (texts.some((t) => t === undefined)) return;
      const [cert, key, clientCa, crl] = texts as string[];
      const why = listenerTlsProblem(l.tls, tlsMaterial(l.tls, { cert, key, clientCa, crl }));
      if (why !== undefined) {
        problem(['listeners', i, 'tls', ...(why.key === '' ? [] : [why.key])], why.message);
      }
    }),
  );
  for (const p of (await readHealthFiles(config)).problems) problem(p.path, p.message);
  for (const p of (await readUpstreamTls(config)).problems) problem(p.path, p.message);
  const store = config.limitStore;
  if (store.type === 'redis' && store.tls !== undefined) {
    for (const key of ['ca', 'cert', 'key'] as const) {
      const path = store.tls[key];
      if (path === undefined) continue;
      try {
        await readFile(path);
      } catch (err) {
        problem(['limitStore', 'tls', key], `cannot read "${path}": ${whyUnreadable(err)}`);
      }
    }
  }
  return problems;
}
