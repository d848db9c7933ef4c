/**
 * NGINX as a benchmark target: its `stream` module (plain TCP proxying, TLS termination and UDP), two
 * worker processes, one server per upstream kind, one that terminates mutual TLS in front of the
 * echo upstream and a `listen ... udp` one in front of the UDP echo. Runs in the foreground from a
 * configuration and prefix of its own, so the system configuration and any NGINX service the
 * package started are neither read nor disturbed.
 */
import { constants } from 'node:fs';
import { access, writeFile } from 'node:fs/promises';
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
import { readFileLimit } from './file-limit.js';
import { LOOPBACK } from './free-port.js';
import { readyProxy } from './ported-proxy.js';
import { type ProxyPorts, pickProxyPorts } from './proxy-ports.js';
import { findTool, toolOutput } from './system-tool.js';
import { spawnTargetProcess } from './target-process.js';

/** How this NGINX gets its stream module: a dynamic module file to load, or built in. */
export type StreamModule = { kind: 'dynamic'; path: string } | { kind: 'static' };

// Debian and Ubuntu (libnginx-mod-stream) first, then the RPM distributions' and nginx.org's layouts.
const STREAM_MODULE_PATHS = [
  '/usr/lib/nginx/modules/ngx_stream_module.so',
  '/usr/lib64/nginx/modules/ngx_stream_module.so',
  '/usr/local/nginx/modules/ngx_stream_module.so',
  '/etc/nginx/modules/ngx_stream_module.so',
];

/** Everything {@link nginxConfig} needs besides the upstreams and certificates. */
export interface NginxSetup {
  ports: ProxyPorts;
  streamModule: StreamModule;
  workDir: string;
  /** Whether the master runs as root (and so would switch its workers to another user). */
  asRoot: boolean;
  /** Open-file limit for the workers; at most the hard limit NGINX inherits, which it cannot raise. */
  openFiles: number;
}

/** Most open files a worker is given when the inherited limit allows it. */
export const NGINX_OPEN_FILES = 65_536;
/** Most connections (client and upstream sides each count) a worker takes when its open files allow. */
export const NGINX_WORKER_CONNECTIONS = 20_000;
// Descriptors kept back from worker_connections for listeners, logs and NGINX's own files.
const RESERVED_FILES = 256;

/** The `nginx.conf` the suite runs: no access log, timeouts like Switchyard's defaults. */
export function nginxConfig(upstreams: BenchUpstreams, certs: BenchCertFiles, setup: NginxSetup): string {
  const { ports, workDir } = setup;
  const echo = upstreams.endpoints.echo;
  const lines: string[] = [];
  if (setup.streamModule.kind === 'dynamic') lines.push(`load_module ${quote(setup.streamModule.path)};`);
  // Started as root, NGINX runs its workers as `nobody`, which cannot enter the suite's private work
  // directory. The workers need nothing from it today (the master opens the logs and reads the
  // certificates), but keeping them root means no later setting can fail on permissions mid-run.
  if (setup.asRoot) lines.push('user root;');
  lines.push(
    'worker_processes 2;',
    // The usual soft limit of 1024 would cap the workers long before worker_connections does.
    `worker_rlimit_nofile ${setup.openFiles};`,
    'daemon off;',
    'master_process on;',
    `pid ${quote(join(workDir, 'nginx.pid'))};`,
    `error_log ${quote(join(workDir, 'error.log'))} warn;`,
    'events {',
    `  worker_connections ${Math.max(1, Math.min(NGINX_WORKER_CONNECTIONS, setup.openFiles - RESERVED_FILES))};`,
    '}',
    'stream {',
    '  proxy_connect_timeout 5s;',
    '  proxy_timeout 5m;',
  );
  for (const kind of UPSTREAM_KINDS) {
    const { host, port } = upstreams.endpoints[kind];
    lines.push(
      '  server {',
      `    listen ${LOOPBACK}:${ports.plain[kind]};`,
      `    proxy_pass ${host}:${port};`,
      '  }',
    );
  }
  lines.push(
    '  server {',
    `    listen ${LOOPBACK}:${ports.mtls} ssl;`,
    `    ssl_certificate ${quote(certs.serverCert)};`,
    `    ssl_certificate_key ${quote(certs.serverKey)};`,
    `    ssl_client_certificate ${quote(certs.caCert)};`,
    '    ssl_verify_client on;',
    '    ssl_protocols TLSv1.2 TLSv1.3;',
    `    proxy_pass ${echo.host}:${echo.port};`,
    '  }',
  );
  if (ports.udp !== undefined) {
    const udpEcho = upstreams.udpEcho;
    lines.push(
      '  server {',
      `    listen ${LOOPBACK}:${ports.udp} udp;`,
      `    proxy_pass ${udpEcho.host}:${udpEcho.port};`,
      // A UDP session ends after this long without a datagram: Switchyard's default flow idle timeout.
      '    proxy_timeout 30s;',
      '  }',
    );
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

/** Writes `nginx.conf` into `workDir`, starts NGINX with `workDir` as its prefix and waits until every port accepts. */
export async function startNginx(context: TargetContext): Promise<RunningTarget> {
  const command = await findTool('nginx');
  const streamModule = command === undefined ? undefined : await findStreamModule(command);
  if (command === undefined || streamModule === undefined) {
    throw new SwitchyardError(ErrorCodes.ERR_INTERNAL, 'nginx with the stream module is not installed');
  }
  const ports = await pickProxyPorts({ udp: true });
  const { workDir } = context;
  const configPath = join(workDir, 'nginx.conf');
  const asRoot = process.getuid?.() === 0;
  const openFiles = Math.min(NGINX_OPEN_FILES, readFileLimit().hard);
  const setup: NginxSetup = { ports, streamModule, workDir, asRoot, openFiles };
  await writeFile(configPath, nginxConfig(context.upstreams, context.certs, setup));
  // -p: relative paths (and compiled-in temp paths) land in workDir; -e: the error log before the
  // configuration is read goes there too instead of /var/log/nginx (NGINX 1.19.5 and later).
  const target = await spawnTargetProcess(
    command,
    ['-p', workDir, '-c', configPath, '-e', join(workDir, 'error.log')],
    { workDir, name: 'nginx' },
  );
  // the master is the root of the measured tree: its workers are its children
  return readyProxy('nginx', target, ports);
}

/** The version `nginx -v` reports, e.g. `1.22.1`. */
export function parseNginxVersion(output: string): string | undefined {
  return /nginx version: [^/\s]+\/(\S+)/.exec(output)?.[1];
}

/**
 * Where this NGINX's stream module comes from: a module file in a known place, or built in (`nginx -V`
 * lists `--with-stream` without `=dynamic`); undefined when it has none.
 */
export async function findStreamModule(command: string): Promise<StreamModule | undefined> {
  for (const path of STREAM_MODULE_PATHS) {
    try {
      await access(path, constants.R_OK);
      return { kind: 'dynamic', path };
    } catch {
      // not here
    }
  }
  const build = await toolOutput(command, ['-V']);
  return build !== undefined && /--with-stream(?!=dynamic|_)/.test(build) ? { kind: 'static' } : undefined;
}

/** NGINX from PATH (or sbin), with its stream module. */
export const nginxTarget: Target = {
  name: 'nginx',
  detect: async () => {
    const command = await findTool('nginx');
    if (command === undefined || (await findStreamModule(command)) === undefined) return undefined;
    const output = await toolOutput(command, ['-v']);
    return output === undefined ? undefined : parseNginxVersion(output);
  },
  start: startNginx,
};

/**
 * A path as a double-quoted NGINX parameter. `$` would start a variable (and make NGINX load the
 * certificate on every handshake), so paths holding it or a quote are refused.
 */
function quote(path: string): string {
  if (/["$\\]/.test(path))
    throw new SwitchyardError(
      ErrorCodes.ERR_INTERNAL,
      `nginx cannot be given a path containing ", $ or \\: ${path}`,
    );
  return `"${path}"`;
}
