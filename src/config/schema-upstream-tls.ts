import { isIP } from 'node:net';
import { z } from 'zod';
import { report, text } from './schema-common.js';
import { tlsVersion } from './schema-listeners.js';
import { showValue } from './show-value.js';
import type { UpstreamTlsConfig } from './types.js';

// The `groups.<name>.upstreamTls` part of the configuration schema: TLS from Switchyard to upstreams.

// Letters, digits, "-" and "_" per label (internal names often carry "_"), at most 253 characters.
const DNS_NAME =
  /^(?=.{1,253}\.?$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/;

/** The name an upstream's certificate is verified against: a DNS name or an IP address. */
function serverName() {
  return text().superRefine((name, ctx) => {
    if (isIP(name) !== 0 || DNS_NAME.test(name)) return;
    ctx.addIssue({ code: 'custom', message: `expected a DNS name or an IP address, got ${showValue(name)}` });
  });
}

/**
 * `upstreamTls`: there is no key to turn verification off. A certificate the balancer does not
 * check would make the encryption decorative against the attacker it is there for.
 */
export const upstreamTlsSchema = z
  .strictObject({
    ca: text().optional(),
    serverName: serverName().optional(),
    cert: text().optional(),
    key: text().optional(),
    minVersion: tlsVersion().default('TLSv1.2'),
  })
  .superRefine((tls, ctx) => {
    if (tls.cert !== undefined && tls.key === undefined)
      report(ctx, ['cert'], 'needs "key" next to it', 'key');
    if (tls.key !== undefined && tls.cert === undefined)
      report(ctx, ['key'], 'needs "cert" next to it', 'key');
  })
  .transform(
    (tls): UpstreamTlsConfig => ({
      ...(tls.ca === undefined ? {} : { ca: tls.ca }),
      ...(tls.serverName === undefined ? {} : { serverName: tls.serverName }),
      ...(tls.cert === undefined ? {} : { cert: tls.cert }),
      ...(tls.key === undefined ? {} : { key: tls.key }),
      minVersion: tls.minVersion,
    }),
  );

/** The file-naming keys of an `upstreamTls` block. */
export const UPSTREAM_TLS_FILE_KEYS = ['ca', 'cert', 'key'] as const;
