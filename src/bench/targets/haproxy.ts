/**
 * HAProxy as a benchmark target: TCP mode, two threads, one frontend per upstream kind and one that
 * terminates mutual TLS in front of the echo upstream. Runs in the foreground on ports of its own,
 * so a system HAProxy service the package may have started is neither used nor disturbed.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCodes, SwitchyardError } from '../../lib/errors.js';
import {
  type BenchCertFiles,
  type BenchUpstreams,
  type RunningTarget,
  type Target,
  type TargetContext,
  UPSTREAM_KINDS,
} from '../types.js';
import { connectionsThatFit, readFileLimit } from './file-limit.js';
import { LOOPBACK } from './free-port.js';
import { readyProxy } from './ported-proxy.js';
import { type ProxyPorts, pickProxyPorts } from './proxy-ports.js';
import { findTool, toolOutput } from './system-tool.js';
import { spawnTargetProcess } from './target-process.js';

/** Most connections HAProxy is configured for when the descriptor limit allows it. */
export const HAPROXY_MAX_CONNECTIONS = 50_000;

/**
 * The `haproxy.cfg` the suite runs: no logging, timeouts like Switchyard's defaults. `maxConnections`
 * must fit the descriptor limit HAProxy inherits: it refuses to start when it cannot raise it that far.
 */
export function haproxyConfig(
  upstreams: BenchUpstreams,
  certs: BenchCertFiles,
  ports: ProxyPorts,
  maxConnections: number,
): string {
  const lines = [
    'global',
    '  nbthread 2',
    `  maxconn ${maxConnections}`,
    '',
    'defaults',
    '  mode tcp',
    // A frontend's own maxconn would otherwise default well below the global one.
    `  maxconn ${maxConnections}`,
    '  timeout connect 5s',
    '  timeout client 5m',
    '  timeout server 5m',
  ];
  for (const kind of UPSTREAM_KINDS) {
    lines.push(
      '',
      `frontend plain_${kind}`,
      `  bind ${LOOPBACK}:${ports.plain[kind]}`,
      `  default_backend ${kind}`,
    );
  }
  lines.push(
    '',
    'frontend mtls_echo',
    `  bind ${LOOPBACK}:${ports.mtls} ssl crt ${quote(certs.serverCombined)} ca-file ${quote(certs.caCert)} verify required ssl-min-ver TLSv1.2`,
    '  default_backend echo',
  );
  for (const kind of UPSTREAM_KINDS) {
    const { host, port } = upstreams.endpoints[kind];
    lines.push('', `backend ${kind}`, `  server s1 ${host}:${port}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Writes `haproxy.cfg` into `workDir`, starts `haproxy -db` and waits until every port accepts. */
export async function startHaproxy(context: TargetContext): Promise<RunningTarget> {
  const command = await findTool('haproxy');
  if (command === undefined) throw new SwitchyardError(ErrorCodes.ERR_INTERNAL, 'haproxy is not installed');
  const ports = await pickProxyPorts();
  const configPath = join(context.workDir, 'haproxy.cfg');
  const maxConnections = connectionsThatFit(readFileLimit().hard, HAPROXY_MAX_CONNECTIONS);
  await writeFile(configPath, haproxyConfig(context.upstreams, context.certs, ports, maxConnections));
  // -db: stay in the foreground, so the child we spawn is the process doing the work.
  const target = await spawnTargetProcess(command, ['-db', '-f', configPath], {
    workDir: context.workDir,
    name: 'haproxy',
  });
  return readyProxy('haproxy', target, ports);
}

/** The version `haproxy -v` reports, e.g. `2.6.12-1+deb12u4`. */
export function parseHaproxyVersion(output: string): string | undefined {
  return /HA-?Proxy version (\S+)/i.exec(output)?.[1];
}

/** HAProxy from PATH (or sbin). */
export const haproxyTarget: Target = {
  name: 'haproxy',
  detect: async () => {
    const command = await findTool('haproxy');
    const output = command === undefined ? undefined : await toolOutput(command, ['-v']);
    return output === undefined ? undefined : parseHaproxyVersion(output);
  },
  start: startHaproxy,
};

/**
 * A path as a single-quoted HAProxy word: spaces survive, and unlike double quotes nothing inside is
 * expanded (`$NAME` would be). Single quotes cannot be escaped there, so a path holding one is refused.
 */
function quote(path: string): string {
  if (path.includes("'"))
    throw new SwitchyardError(
      ErrorCodes.ERR_INTERNAL,
      `haproxy cannot be given a path containing a quote: ${path}`,
    );
  return `'${path}'`;
}
