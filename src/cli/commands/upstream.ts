/** `switchyard upstream`: one demo HTTP upstream on its own, e.g. as a container next to the balancer. */
import { createLogger } from '../../control/logger.js';
import { stopOnSignals } from '../../server/process-signals.js';
import { greeting, startHttpUpstream } from '../demo/http-upstream.js';
import { splitHostPort } from '../options.js';

/** Options of `switchyard upstream`. */
export interface UpstreamOptions {
  /** The upstream's name. */
  name: string;
  /** Its group; default the name without a trailing `-<number>`. */
  group?: string;
  /** `host:port` to bind. */
  listen: string;
  /** Log level. */
  logLevel: string;
}

/** Runs one demo upstream until SIGINT/SIGTERM, logging its bound address as a JSON line. */
export async function upstreamCommand(options: UpstreamOptions): Promise<void> {
  const logger = createLogger(options.logLevel);
  const { host, port } = splitHostPort(options.listen);
  const upstream = await startHttpUpstream({ name: options.name, group: options.group, host, port, logger });
  logger.info(
    {
      upstream: upstream.name,
      group: upstream.group,
      address: upstream.host,
      port: upstream.port,
      answer: greeting(upstream.name, upstream.group),
    },
    'listening',
  );
  stopOnSignals({ logger, graceMs: 0, stop: upstream.close });
}
