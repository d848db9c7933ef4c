import type { TlsConfig, TlsListenerConfig } from '../../config/types.js';
import { ErrorCodes, SwitchyardError } from '../../lib/errors.js';
import { Authorizer } from '../../proxy/authorize.js';
import type { TlsMaterial } from '../../proxy/tls.js';
import { readPem } from '../read-pem.js';
import { sameJson } from '../reload-plan.js';
import { listenerTlsProblem, tlsMaterial } from '../tls-problem.js';
import type { ListenerSetup } from './listener-setup.js';

/** A mutual-TLS listener: the certificate's org picks the group through the routes. */
export const tlsSetup: ListenerSetup<TlsListenerConfig> = {
  kind: 'tls',
  transport: 'tcp',
  build: async (l, at, groups) => ({
    kind: 'tls',
    tls: await loadTlsMaterial(l.tls, `${at}.tls`),
    authorizer: new Authorizer(l.routes, l.tls.orgRule, (name) => groups.has(name)),
  }),
  filesProblem: (l, texts) => {
    const text = (key: string) => texts.get(`tls.${key}`) ?? '';
    const material = tlsMaterial(l.tls, {
      cert: text('cert'),
      key: text('key'),
      clientCa: text('clientCa'),
      crl: l.tls.crl === undefined ? undefined : text('crl'),
    });
    const why = listenerTlsProblem(l.tls, material);
    if (why === undefined) return undefined;
    return { key: ['tls', ...(why.key === '' ? [] : [why.key])], message: why.message };
  },
  reloadFiles: async (l, at, running) => {
    if (running.kind !== 'tls') return undefined;
    const tls = await loadTlsMaterial(l.tls, `${at}.tls`);
    return sameJson(running.tls, tls) ? undefined : { ...running, tls };
  },
  keepLoaded: (running, fresh) =>
    fresh.kind === 'tls' && running.kind === 'tls' && sameJson(running.tls, fresh.tls)
      ? { ...fresh, tls: running.tls }
      : fresh,
  summary: (l, parts, show) => {
    const routes = l.routes
      .map(
        (r) =>
          `${r.org === '*' ? '*' : r.org}${r.clientIds === undefined ? '' : ` [${r.clientIds.join(',')}]`} -> ${r.group}`,
      )
      .join(', ');
    const versions =
      l.tls.minVersion === l.tls.maxVersion ? l.tls.minVersion : `${l.tls.minVersion}-${l.tls.maxVersion}`;
    const crl = l.tls.crl === undefined ? '' : `, CRL ${show(l.tls.crl)}`;
    return [
      `tls  routes: ${routes}  (org rule ${l.tls.orgRule}, ${parts.limits}${parts.rulesAndProxy})`,
      `${versions}, cert ${show(l.tls.cert)}, client CA ${show(l.tls.clientCa)}${crl}`,
    ];
  },
};

/**
 * Reads a listener's certificate files and checks they make a usable context (key matches
 * certificate, PEM parses), so a bad file is refused here with its key path, not at a handshake.
 */
export async function loadTlsMaterial(tls: TlsConfig, keyPath: string): Promise<TlsMaterial> {
  const [cert, key, clientCa, crl] = await Promise.all([
    readPem(tls.cert, `${keyPath}.cert`),
    readPem(tls.key, `${keyPath}.key`),
    readPem(tls.clientCa, `${keyPath}.clientCa`),
    tls.crl === undefined ? undefined : readPem(tls.crl, `${keyPath}.crl`),
  ]);
  const material = tlsMaterial(tls, { cert, key, clientCa, crl });
  const problem = listenerTlsProblem(tls, material);
  if (problem === undefined) return material;
  const at = problem.key === '' ? keyPath : `${keyPath}.${problem.key}`;
  throw new SwitchyardError(ErrorCodes.ERR_CONFIG_READ, `${at}: ${problem.message}`);
}
