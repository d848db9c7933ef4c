/** `switchyard demo`: certificates, six HTTP upstreams and the balancer, in one process. */
import { resolve } from 'node:path';
import { createLogger } from '../../control/logger.js';
import { ErrorCodes, SwitchyardError } from '../../lib/errors.js';
import { formatHostPort } from '../../lib/upstreams/address.js';
import { stopOnSignals } from '../../server/process-signals.js';
import { startServer } from '../../server/start-server.js';
import { formatBanner } from '../demo/banner.js';
import { describeBindFailure } from '../demo/bind-failure.js';
import { ensureDemoCertificates } from '../demo/demo-certs.js';
import { buildDemoConfig, DEMO_LISTENER } from '../demo/demo-config.js';
import { type HttpUpstream, startHttpUpstream } from '../demo/http-upstream.js';
import { splitHostPort } from '../options.js';

/** Groups the demo runs, two upstreams each. */
export const DEMO_GROUPS = ['groupA', 'groupB', 'groupC'] as const;
/** An org with a valid certificate that no route allows. */
export const INTRUDER_ORG = 'intruder';
/** Upstreams per group. */
export const UPSTREAMS_PER_GROUP = 2;

/** Options of `switchyard demo`. */
export interface DemoOptions {
  /** Directory of the demo certificates. */
  dir: string;
  /** Where the balancer listens. */
  listen: string;
  /** Where the admin API and metrics listen. */
  admin: string;
  /** Log level. */
  logLevel: string;
}

/**
 * Makes (or reuses) the demo certificates, starts the upstreams and the balancer, prints a curl line
 * per org and runs until SIGINT/SIGTERM, which stops everything gracefully and exits 0.
 */
export async function demoCommand(options: DemoOptions): Promise<void> {
  const logger = createLogger(options.logLevel);
  const dir = resolve(options.dir);
  const listen = splitHostPort(options.listen);
  const certs = await ensureDemoCertificates(dir, {
    orgs: [...DEMO_GROUPS, INTRUDER_ORG],
    serverNames: isWildcard(listen.host) ? [] : [listen.host],
  });
  logger.info({ dir, created: certs.created, reused: certs.reused }, 'demo certificates');

  const upstreams: HttpUpstream[] = [];
  const closeUpstreams = () => Promise.all(upstreams.map((u) => u.close())).then(() => undefined);
  try {
    for (const group of DEMO_GROUPS) {
      for (let i = 1; i <= UPSTREAMS_PER_GROUP; i++) {
        const name = `${group}-${i}`;
        const u = await startHttpUpstream({ name, group, logger }).catch((err: unknown) => {
          // No flag places the upstreams: each takes a free loopback port, so name the upstream.
          throw Object.assign(
            new SwitchyardError(
              ErrorCodes.ERR_INTERNAL,
              `demo upstream ${name} cannot listen on a free port of 127.0.0.1: ${String(err)}`,
              {
                cause: err,
              },
            ),
            { code: (err as NodeJS.ErrnoException).code },
          );
        });
        upstreams.push(u);
        logger.info({ upstream: u.name, group, address: u.address }, 'demo upstream listening');
      }
    }
    const config = buildDemoConfig({
      listen: options.listen,
      admin: options.admin,
      certs,
      upstreams,
      logLevel: options.logLevel,
    });
    const server = await startServer(config, { logger });
    const port = server.proxy.listener(DEMO_LISTENER).address().port;
    process.stdout.write(formatBanner({ host: listen.host, port, certs, upstreams, cwd: process.cwd() }));
    const adminPort = server.admin?.port;
    const adminBase = `http://${formatHostPort(splitHostPort(options.admin).host, adminPort ?? 0)}`;
    process.stdout.write(
      `Dashboard: ${adminBase}/   (open it in a browser: live charts, clients, actions)\n` +
        `Admin API: curl ${adminBase}/api/status   metrics: /metrics\n\n`,
    );
    logger.info(
      { listen: options.listen, port, adminPort, dir, orgs: certs.clients.map((c) => c.org) },
      'demo ready',
    );
    stopOnSignals({
      logger,
      graceMs: config.timeouts.shutdownGrace,
      stop: async () => {
        try {
          await server.stop();
        } finally {
          await closeUpstreams();
        }
      },
    });
  } catch (err) {
    await closeUpstreams();
    throw (
      describeBindFailure(err, [
        { role: 'the balancer', flag: '--listen', address: options.listen },
        { role: 'the admin API', flag: '--admin', address: options.admin },
      ]) ?? err
    );
  }
}

function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::';
}
