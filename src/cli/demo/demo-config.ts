/** The configuration `switchyard demo` runs, built in memory and validated like a file. */
import { stringify } from 'yaml';
import { parseConfigText } from '../../config/load-config.js';
import type { SwitchyardConfig } from '../../config/types.js';
import type { DemoCertificates } from './demo-certs.js';
import type { HttpUpstream } from './http-upstream.js';

/** Name of the demo's one listener. */
export const DEMO_LISTENER = 'demo';

/** What the demo configuration is made of. */
export interface DemoConfigInput {
  /** `host:port` the balancer binds. */
  listen: string;
  /** Where the admin API and metrics listen. */
  admin: string;
  /** The demo PKI. */
  certs: DemoCertificates;
  /** Upstreams, grouped by their `group`. */
  upstreams: readonly HttpUpstream[];
  /** Log level. */
  logLevel: string;
}

/**
 * One mutual-TLS listener whose single route sends each org to the group of the same name
 * (`{ org: "*", group: "{org}" }`, so an org without a group, like `intruder`, is refused),
 * least-connections groups, a per-client token bucket and a short shutdown grace.
 */
export function demoConfigDocument(input: DemoConfigInput): Record<string, unknown> {
  const groups: Record<string, { balancer: string; upstreams: { address: string; id: string }[] }> = {};
  for (const u of input.upstreams) {
    groups[u.group] ??= { balancer: 'least-connections', upstreams: [] };
    groups[u.group].upstreams.push({ address: u.address, id: u.name });
  }
  return {
    listeners: [
      {
        name: DEMO_LISTENER,
        bind: input.listen,
        tls: {
          cert: input.certs.server.certPath,
          key: input.certs.server.keyPath,
          clientCa: input.certs.ca.certPath,
        },
        routes: [{ org: '*', group: '{org}' }],
      },
    ],
    groups,
    rateLimit: { algorithm: 'token-bucket', limit: 20, window: '1s', burst: 10 },
    concurrency: { perClient: 10 },
    timeouts: { handshake: '5s', connect: '2s', idle: '5m', shutdownGrace: '5s', shutdownJitter: '100ms' },
    admin: { bind: input.admin },
    log: { level: input.logLevel },
  };
}

/** {@link demoConfigDocument}, validated: a bad `--listen` or `--log-level` is reported like a file error. */
export function buildDemoConfig(input: DemoConfigInput): SwitchyardConfig {
  return parseConfigText(stringify(demoConfigDocument(input)), 'switchyard demo (built-in configuration)');
}
