import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { directTarget } from '../../../src/bench/targets/direct.js';
import {
  HAPROXY_MAX_CONNECTIONS,
  haproxyConfig,
  parseHaproxyVersion,
} from '../../../src/bench/targets/haproxy.js';
import { naiveConfig } from '../../../src/bench/targets/naive.js';
import { nginxConfig, parseNginxVersion } from '../../../src/bench/targets/nginx.js';
import type { ProxyPorts } from '../../../src/bench/targets/proxy-ports.js';
import { findTarget, isTargetName, TARGETS } from '../../../src/bench/targets/registry.js';
import { startedPorts, switchyardConfig } from '../../../src/bench/targets/switchyard.js';
import type { BenchCertFiles, BenchUpstreams } from '../../../src/bench/types.js';
import { parseConfigText } from '../../../src/config/load-config.js';

const upstreams: BenchUpstreams = {
  endpoints: {
    http: { host: '127.0.0.1', port: 9001 },
    bulk: { host: '127.0.0.1', port: 9002 },
    echo: { host: '127.0.0.1', port: 9003 },
    iperf3: { host: '127.0.0.1', port: 9005 },
  },
  tlsEcho: { host: '127.0.0.1', port: 9004 },
  udpEcho: { host: '127.0.0.1', port: 9006 },
  pid: 1234,
  iperf3: true,
  stop: async () => {},
};
const certs: BenchCertFiles = {
  caCert: '/w/certs/ca.pem',
  serverCert: '/w/certs/server.pem',
  serverKey: '/w/certs/server.key',
  serverCombined: '/w/certs/server-combined.pem',
  clientCert: '/w/certs/client.pem',
  clientKey: '/w/certs/client.key',
};
const ports: ProxyPorts = {
  plain: { http: 7001, bulk: 7002, echo: 7003, iperf3: 7005 },
  mtls: 7004,
  udp: 7006,
};
const { udp: _udp, ...tcpPorts } = ports;

describe('target registry', () => {
  it('lists direct, switchyard, switchyard-defaults, switchyard-workers, naive, haproxy and nginx in that order', () => {
    assert.deepEqual(
      TARGETS.map((t) => t.name),
      ['direct', 'switchyard', 'switchyard-defaults', 'switchyard-workers', 'naive', 'haproxy', 'nginx'],
    );
  });

  it('finds a target by name', () => {
    assert.equal(findTarget('haproxy')?.name, 'haproxy');
    assert.equal(findTarget('envoy'), undefined);
    assert.equal(isTargetName('nginx'), true);
    assert.equal(isTargetName('Nginx'), false);
  });
});

describe('direct target', () => {
  it('hands out the upstreams themselves and has no process', async () => {
    const running = await directTarget.start({ upstreams, certs, workDir: '/nonexistent' });
    assert.deepEqual(running.plain, upstreams.endpoints);
    assert.deepEqual(running.mtls, upstreams.tlsEcho);
    assert.deepEqual(running.udp, upstreams.udpEcho);
    assert.deepEqual(running.pids, []);
    await running.stop();
    assert.equal(typeof (await directTarget.detect()), 'string');
  });
});

describe('switchyard configuration', () => {
  it('is valid, and turns every feature on with limits that never refuse', () => {
    const config = parseConfigText(JSON.stringify(switchyardConfig(upstreams, certs)), '/w/switchyard.json');
    assert.deepEqual(
      config.listeners.map((l) => [l.name, l.kind, l.bind]),
      [
        ['plain-http', 'tcp', '127.0.0.1:0'],
        ['plain-bulk', 'tcp', '127.0.0.1:0'],
        ['plain-echo', 'tcp', '127.0.0.1:0'],
        ['plain-iperf3', 'tcp', '127.0.0.1:0'],
        ['mtls-echo', 'tls', '127.0.0.1:0'],
        ['udp-echo', 'udp', '127.0.0.1:0'],
      ],
    );
    for (const listener of config.listeners) {
      assert.ok(listener.maxConnections >= 1_000_000);
      assert.ok(listener.handshakeRate.perSource >= 1_000_000);
      assert.ok(listener.maxPendingHandshakes >= 1_000_000);
      if (listener.kind === 'udp') {
        assert.ok(listener.maxFlows >= 1_000_000);
        assert.deepEqual(
          config.groups[listener.group].upstreams.map((u) => u.address),
          ['127.0.0.1:9006'],
        );
      } else if (listener.kind === 'tcp') {
        assert.deepEqual(
          config.groups[listener.group].upstreams.map((u) => u.address),
          [`127.0.0.1:${upstreams.endpoints[listener.name.replace('plain-', '') as 'http'].port}`],
        );
        assert.equal(config.groups[listener.group].balancer, 'least-connections');
      } else {
        assert.ok(listener.kind === 'tls');
        assert.deepEqual(listener.routes, [{ org: 'bench', group: 'echo' }]);
        assert.equal(listener.tls.cert, certs.serverCert);
        assert.equal(listener.tls.clientCa, certs.caCert);
      }
    }
    assert.ok((config.rateLimit?.limit ?? 0) >= 1_000_000);
    assert.ok(config.concurrency.perClient >= 1_000_000);
    assert.equal(config.admin?.bind, '127.0.0.1:0');
    assert.equal(config.log.level, 'info');
    assert.equal(config.log.format, 'json');
  });

  it('leaves the per-source guards at their defaults for switchyard-defaults, and nothing else changes', () => {
    const open = switchyardConfig(upstreams, certs, 'open');
    const defaults = switchyardConfig(upstreams, certs, 'defaults');
    const config = parseConfigText(JSON.stringify(defaults), '/w/switchyard.json');
    for (const listener of config.listeners) {
      assert.equal(listener.maxConnections, 10_000, listener.name);
      assert.equal(listener.handshakeRate.perSource, listener.kind === 'tls' ? 1000 : 0, listener.name);
      assert.equal(listener.maxPendingHandshakes, 512, listener.name);
      if (listener.kind === 'udp') assert.equal(listener.maxFlows, 10_000);
    }
    const withoutListeners = (c: Record<string, unknown>) => ({ ...c, listeners: undefined });
    assert.deepEqual(withoutListeners(defaults), withoutListeners(open));
    assert.deepEqual(switchyardConfig(upstreams, certs), open);
  });

  it('keeps the UDP listener with workers (one worker reads its socket)', () => {
    const config = parseConfigText(
      JSON.stringify(switchyardConfig(upstreams, certs, 'open', 2)),
      '/w/switchyard.json',
    );
    assert.equal(config.workers, 2);
    assert.deepEqual(
      config.listeners.filter((l) => l.kind === 'udp').map((l) => l.name),
      ['udp-echo'],
    );
  });

  it('takes the bound ports from the log once it says switchyard started', () => {
    const line = (entry: object) => `${JSON.stringify({ level: 'info', ...entry })}\n`;
    let log =
      line({ msg: 'listening', listener: 'plain-http', port: 41001 }) +
      line({ msg: 'listening', listener: 'plain-bulk', port: 41002 }) +
      line({ msg: 'listening', listener: 'plain-echo', port: 41003 }) +
      line({ msg: 'listening', listener: 'plain-iperf3', port: 41006 }) +
      line({ msg: 'listening', listener: 'mtls-echo', port: 41004 }) +
      line({ msg: 'listening', listener: 'udp-echo', port: 41007 }) +
      line({ msg: 'admin API listening', address: '127.0.0.1:41005' });
    assert.equal(startedPorts(log), undefined);
    assert.equal(startedPorts(`${log}{"msg":"switchyard sta`), undefined);
    log += line({ msg: 'switchyard started' });
    assert.deepEqual(startedPorts(log), {
      listeners: {
        'plain-http': 41001,
        'plain-bulk': 41002,
        'plain-echo': 41003,
        'plain-iperf3': 41006,
        'mtls-echo': 41004,
        'udp-echo': 41007,
      },
      admin: 41005,
    });
    assert.throws(() => startedPorts(line({ msg: 'switchyard started' })), /plain-http/);
    assert.throws(() => startedPorts(log.replace(/.*udp-echo.*\n/, '')), /udp-echo/);
  });
});

describe('naive proxy configuration', () => {
  it('listens once per upstream kind, terminates mutual TLS in front of the echo upstream and relays UDP', () => {
    assert.deepEqual(naiveConfig(upstreams, certs, ports), {
      listeners: [
        { host: '127.0.0.1', port: 7001, upstreams: [upstreams.endpoints.http] },
        { host: '127.0.0.1', port: 7002, upstreams: [upstreams.endpoints.bulk] },
        { host: '127.0.0.1', port: 7003, upstreams: [upstreams.endpoints.echo] },
        { host: '127.0.0.1', port: 7005, upstreams: [upstreams.endpoints.iperf3] },
        {
          host: '127.0.0.1',
          port: 7004,
          upstreams: [upstreams.endpoints.echo],
          tls: { cert: certs.serverCert, key: certs.serverKey, ca: certs.caCert },
        },
      ],
      udp: [{ host: '127.0.0.1', port: 7006, upstream: upstreams.udpEcho }],
    });
    assert.deepEqual(naiveConfig(upstreams, certs, tcpPorts).udp, []);
  });
});

describe('haproxy configuration', () => {
  const config = haproxyConfig(upstreams, certs, tcpPorts, 12_345);

  it('runs two threads in TCP mode with the connection ceiling given', () => {
    assert.match(config, /^global\n {2}nbthread 2\n {2}maxconn 12345\n/);
    assert.match(config, /^defaults\n {2}mode tcp\n {2}maxconn 12345\n/m);
    assert.match(config, /timeout connect 5s\n {2}timeout client 5m\n {2}timeout server 5m/);
    assert.doesNotMatch(config, /^\s*(log|daemon)\b/m);
    assert.ok(HAPROXY_MAX_CONNECTIONS >= 50_000);
  });

  it('has one frontend per upstream kind and a mutual-TLS one to the echo backend', () => {
    for (const [kind, port] of Object.entries(ports.plain)) {
      assert.match(
        config,
        new RegExp(`frontend plain_${kind}\\n {2}bind 127.0.0.1:${port}\\n {2}default_backend ${kind}\\n`),
      );
    }
    assert.match(
      config,
      /frontend mtls_echo\n {2}bind 127\.0\.0\.1:7004 ssl crt '\/w\/certs\/server-combined\.pem' ca-file '\/w\/certs\/ca\.pem' verify required ssl-min-ver TLSv1\.2\n {2}default_backend echo\n/,
    );
    assert.match(config, /backend http\n {2}server s1 127\.0\.0\.1:9001\n/);
    assert.match(config, /backend bulk\n {2}server s1 127\.0\.0\.1:9002\n/);
    assert.match(config, /backend echo\n {2}server s1 127\.0\.0\.1:9003\n/);
    assert.match(config, /backend iperf3\n {2}server s1 127\.0\.0\.1:9005\n/);
  });

  it('has no UDP: the open-source edition does not proxy it', () => {
    assert.doesNotMatch(config, /udp|9006|7006/);
  });

  it('reads the version from haproxy -v', () => {
    assert.equal(
      parseHaproxyVersion('HAProxy version 2.6.12-1+deb12u4 2026/10/17 - https://haproxy.org/\nStatus: ...'),
      '2.6.12-1+deb12u4',
    );
    assert.equal(parseHaproxyVersion('HA-Proxy version 1.8.19 2019/02/11'), '1.8.19');
    assert.equal(parseHaproxyVersion('something else'), undefined);
  });
});

describe('nginx configuration', () => {
  const setup = {
    ports,
    streamModule: { kind: 'dynamic' as const, path: '/usr/lib/nginx/modules/ngx_stream_module.so' },
    workDir: '/w/nginx',
    asRoot: true,
    openFiles: 65_536,
  };

  it('loads the stream module, runs two workers in the foreground and keeps its files in the work directory', () => {
    const config = nginxConfig(upstreams, certs, setup);
    assert.match(config, /^load_module "\/usr\/lib\/nginx\/modules\/ngx_stream_module\.so";\nuser root;\n/);
    for (const directive of [
      'worker_processes 2;',
      'worker_rlimit_nofile 65536;',
      'daemon off;',
      'master_process on;',
      'pid "/w/nginx/nginx.pid";',
      'error_log "/w/nginx/error.log" warn;',
      'worker_connections 20000;',
    ]) {
      assert.ok(config.includes(directive), directive);
    }
    assert.doesNotMatch(config, /\bhttp\s*\{/);
  });

  it('proxies each kind and terminates mutual TLS in front of the echo upstream', () => {
    const config = nginxConfig(upstreams, certs, setup);
    assert.match(config, /listen 127\.0\.0\.1:7001;\n {4}proxy_pass 127\.0\.0\.1:9001;/);
    assert.match(config, /listen 127\.0\.0\.1:7002;\n {4}proxy_pass 127\.0\.0\.1:9002;/);
    assert.match(config, /listen 127\.0\.0\.1:7003;\n {4}proxy_pass 127\.0\.0\.1:9003;/);
    assert.match(
      config,
      /listen 127\.0\.0\.1:7004 ssl;\n {4}ssl_certificate "\/w\/certs\/server\.pem";\n {4}ssl_certificate_key "\/w\/certs\/server\.key";\n {4}ssl_client_certificate "\/w\/certs\/ca\.pem";\n {4}ssl_verify_client on;\n {4}ssl_protocols TLSv1\.2 TLSv1\.3;\n {4}proxy_pass 127\.0\.0\.1:9003;/,
    );
  });

  it('relays UDP to the UDP echo through a listen ... udp server, when given a UDP port', () => {
    const config = nginxConfig(upstreams, certs, setup);
    assert.match(
      config,
      /listen 127\.0\.0\.1:7006 udp;\n {4}proxy_pass 127\.0\.0\.1:9006;\n {4}proxy_timeout 30s;\n {2}\}\n\}\n$/,
    );
    assert.doesNotMatch(nginxConfig(upstreams, certs, { ...setup, ports: tcpPorts }), /udp/);
  });

  it('follows a built-in stream module, a non-root start and a low descriptor limit', () => {
    const config = nginxConfig(upstreams, certs, {
      ...setup,
      streamModule: { kind: 'static' },
      asRoot: false,
      openFiles: 4096,
    });
    assert.doesNotMatch(config, /load_module|user /);
    assert.ok(config.includes('worker_rlimit_nofile 4096;'));
    assert.ok(config.includes('worker_connections 3840;'));
  });

  it('refuses a path NGINX would read as a variable', () => {
    assert.throws(() => nginxConfig(upstreams, { ...certs, serverCert: '/w/$x/server.pem' }, setup), /\$/);
  });

  it('reads the version from nginx -v', () => {
    assert.equal(parseNginxVersion('nginx version: nginx/1.22.1\n'), '1.22.1');
    assert.equal(parseNginxVersion('nginx version: openresty/1.21.4.1'), '1.21.4.1');
    assert.equal(parseNginxVersion('bash: nginx: command not found'), undefined);
  });
});
