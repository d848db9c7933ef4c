import { readFile } from 'node:fs/promises';
import { formatKeyPath } from '../config/config-error.js';
import { UPSTREAM_TLS_FILE_KEYS } from '../config/schema-upstream-tls.js';
import type { SwitchyardConfig, UpstreamTlsConfig } from '../config/types.js';
import { ErrorCodes, SwitchyardError } from '../lib/errors.js';
import { UpstreamTls, type UpstreamTlsMaterial } from '../proxy/upstream-tls.js';
import { whyUnreadable } from './read-pem.js';
import { clientMaterialProblem } from './tls-problem.js';

/** A file or setting of a group's `upstreamTls` that cannot be used, at the key path that names it. */
export interface UpstreamTlsProblem {
  /** Key path, e.g. `['groups', 'api', 'upstreamTls', 'ca']`. */
  path: (string | number)[];
  /** What is wrong, without the key path. */
  message: string;
}

/**
 * Reads the files of every group's `upstreamTls` and checks each block makes a client context:
 * readable files, a CA file holding a certificate, a key that matches its certificate. Returns
 * the usable ones by group name (context built), and what is wrong with the others.
 */
export async function readUpstreamTls(
  config: SwitchyardConfig,
): Promise<{ tls: Map<string, UpstreamTls>; problems: UpstreamTlsProblem[] }> {
  const tls = new Map<string, UpstreamTls>();
  const problems: UpstreamTlsProblem[] = [];
  for (const [name, g] of Object.entries(config.groups)) {
    if (g.upstreamTls === undefined) continue;
    const at = ['groups', name, 'upstreamTls'];
    const built = await buildOne(g.upstreamTls, at, problems);
    if (built !== undefined) tls.set(name, built);
  }
  return { tls, problems };
}

async function buildOne(
  config: UpstreamTlsConfig,
  at: string[],
  problems: UpstreamTlsProblem[],
): Promise<UpstreamTls | undefined> {
  const pem: Partial<Record<(typeof UPSTREAM_TLS_FILE_KEYS)[number], string>> = {};
  let readable = true;
  for (const key of UPSTREAM_TLS_FILE_KEYS) {
    const path = config[key];
    if (path === undefined) continue;
    try {
      pem[key] = await readFile(path, 'utf8');
    } catch (err) {
      problems.push({ path: [...at, key], message: `cannot read "${path}": ${whyUnreadable(err)}` });
      readable = false;
    }
  }
  if (!readable) return undefined;
  const why = clientMaterialProblem(pem, config);
  if (why !== undefined) {
    problems.push({ path: why.key === '' ? at : [...at, why.key], message: why.message });
    return undefined;
  }
  const material: UpstreamTlsMaterial = {
    ...(pem.ca === undefined ? {} : { ca: pem.ca }),
    ...(config.serverName === undefined ? {} : { serverName: config.serverName }),
    ...(pem.cert === undefined ? {} : { cert: pem.cert, key: pem.key }),
    minVersion: config.minVersion,
  };
  try {
    return new UpstreamTls(material);
  } catch (err) {
    problems.push({ path: at, message: `cannot use the certificate material: ${(err as Error).message}` });
    return undefined;
  }
}

/**
 * {@link readUpstreamTls} for building a runtime: the first problem is thrown as `ERR_CONFIG_READ`.
 * A group whose material is the same as in `previous` keeps its object there, with its sessions, so
 * a reload that touched other keys (or re-saved a file unchanged) does not cost full handshakes.
 */
export async function loadUpstreamTls(
  config: SwitchyardConfig,
  previous?: ReadonlyMap<string, UpstreamTls>,
): Promise<Map<string, UpstreamTls>> {
  const { tls, problems } = await readUpstreamTls(config);
  const first = problems[0];
  if (first !== undefined) {
    throw new SwitchyardError(ErrorCodes.ERR_CONFIG_READ, `${formatKeyPath(first.path)}: ${first.message}`);
  }
  return previous === undefined ? tls : keepUnchanged(previous, tls);
}

/** `next`, with every group whose material did not change taking its object from `previous`. */
export function keepUnchanged(
  previous: ReadonlyMap<string, UpstreamTls>,
  next: ReadonlyMap<string, UpstreamTls>,
): Map<string, UpstreamTls> {
  const out = new Map<string, UpstreamTls>();
  for (const [name, tls] of next) {
    const was = previous.get(name);
    out.set(name, was !== undefined && sameMaterial(was.material, tls.material) ? was : tls);
  }
  return out;
}

function sameMaterial(a: UpstreamTlsMaterial, b: UpstreamTlsMaterial): boolean {
  return (
    a.ca === b.ca &&
    a.serverName === b.serverName &&
    a.cert === b.cert &&
    a.key === b.key &&
    a.minVersion === b.minVersion
  );
}
