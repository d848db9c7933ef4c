/**
 * The naive Node.js proxy as a benchmark target: `naive-proxy.js` run as a process of its own, one
 * listener per upstream kind, one terminating mutual TLS in front of the echo upstream and a UDP one in
 * front of the UDP echo. Issue 13's
 * floor: every row of Switchyard must be at least as good as this one's, in the same run.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type BenchCertFiles,
  type BenchUpstreams,
  type RunningTarget,
  type Target,
  type TargetContext,
  UPSTREAM_KINDS,
} from '../types.js';
import { LOOPBACK } from './free-port.js';
import type { NaiveProxyConfig } from './naive-config.js';
import { readyProxy } from './ported-proxy.js';
import { type ProxyPorts, pickProxyPorts } from './proxy-ports.js';
import { spawnTargetProcess } from './target-process.js';

const PROGRAM = fileURLToPath(new URL('./naive-proxy.js', import.meta.url));

/** The configuration the naive proxy runs with: the same listeners every other proxy target has. */
export function naiveConfig(
  upstreams: BenchUpstreams,
  certs: BenchCertFiles,
  ports: ProxyPorts,
): NaiveProxyConfig {
  return {
    listeners: [
      ...UPSTREAM_KINDS.map((kind) => ({
        host: LOOPBACK,
        port: ports.plain[kind],
        upstreams: [upstreams.endpoints[kind]],
      })),
      {
        host: LOOPBACK,
        port: ports.mtls,
        upstreams: [upstreams.endpoints.echo],
        tls: { cert: certs.serverCert, key: certs.serverKey, ca: certs.caCert },
      },
    ],
    udp: ports.udp === undefined ? [] : [{ host: LOOPBACK, port: ports.udp, upstream: upstreams.udpEcho }],
  };
}

/** Writes the configuration into `workDir`, starts the proxy and waits until every port accepts. */
export async function startNaive(context: TargetContext): Promise<RunningTarget> {
  const ports = await pickProxyPorts({ udp: true });
  const configPath = join(context.workDir, 'naive.json');
  await writeFile(configPath, `${JSON.stringify(naiveConfig(context.upstreams, context.certs, ports))}\n`);
  const target = await spawnTargetProcess(process.execPath, [PROGRAM, configPath], {
    workDir: context.workDir,
    name: 'naive',
  });
  return readyProxy('naive', target, ports);
}

/** The naive proxy; always available, its version is the Node.js that runs it. */
export const naiveTarget: Target = {
  name: 'naive',
  detect: async () => `Node.js ${process.version}`,
  start: startNaive,
};
