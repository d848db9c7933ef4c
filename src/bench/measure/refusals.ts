/**
 * Refusals by Switchyard's guards and limits, read from its Prometheus text: a benchmark that runs
 * into a guard measures the guard, and must say so instead of reporting a low rate as the proxy's.
 */
import { get } from 'node:http';
import { ErrorCodes, SwitchyardError } from '../../lib/errors.js';
import type { Endpoint } from '../types.js';

/**
 * The reasons that mean "refused by a guard or a limit": the listener's cap, the per-source
 * handshake rate, the handshake backlog, and the per-client rate and concurrency limits. Other
 * rejection reasons (resets, upstream failures) are errors of the load and are counted as such.
 */
export const GUARD_REASONS: readonly string[] = [
  ErrorCodes.ERR_LISTENER_FULL,
  ErrorCodes.ERR_HANDSHAKE_RATE,
  ErrorCodes.ERR_HANDSHAKE_BACKLOG,
  ErrorCodes.ERR_RATE_LIMITED,
  ErrorCodes.ERR_CONCURRENCY_LIMIT,
];

const REJECTION = /^switchyard_rejections_total\{([^}]*)\}\s+(\S+)/;
const REASON = /(?:^|,)reason="([^"]*)"/;
const TIMEOUT_MS = 5000;

/** Guard refusals in a /metrics text, by reason summed over listeners; reasons with none are left out. */
export function parseRefusals(metrics: string): Record<string, number> {
  const refused: Record<string, number> = {};
  for (const line of metrics.split('\n')) {
    const match = REJECTION.exec(line);
    const reason = match === null ? undefined : REASON.exec(match[1])?.[1];
    if (match === null || reason === undefined || !GUARD_REASONS.includes(reason)) continue;
    const count = Number(match[2]);
    if (count > 0) refused[reason] = (refused[reason] ?? 0) + count;
  }
  return refused;
}

/** `after - before` per reason, leaving out reasons that did not grow. */
export function refusalsBetween(
  before: Record<string, number>,
  after: Record<string, number>,
): Record<string, number> {
  const grown: Record<string, number> = {};
  for (const [reason, count] of Object.entries(after)) {
    const delta = count - (before[reason] ?? 0);
    if (delta > 0) grown[reason] = delta;
  }
  return grown;
}

/** Reads `GET /metrics` from a Switchyard admin API and returns its guard refusals. */
export function readRefusals(admin: Endpoint): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    const request = get(
      { host: admin.host, port: admin.port, path: '/metrics', timeout: TIMEOUT_MS },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => {
          if (res.statusCode === 200) resolve(parseRefusals(body));
          else
            reject(new SwitchyardError(ErrorCodes.ERR_INTERNAL, `GET /metrics answered ${res.statusCode}`));
        });
      },
    );
    request.on('timeout', () =>
      request.destroy(new SwitchyardError(ErrorCodes.ERR_INTERNAL, 'GET /metrics timed out')),
    );
    request.on('error', reject);
  });
}
