/**
 * Every `switchyard` command, its options and help. Implementations are imported when a command
 * runs, so `--help`, `version` and usage errors do not pay for loading zod, x509 or the proxy.
 */
import { Command } from 'commander';
import { ExitCodes, MAIN_HELP_EPILOG } from './exit-codes.js';
import { CONFIG_ENV_NAME, collect, hostPort, LOG_LEVEL_HELP, logLevel, SET_HELP } from './options.js';

/** Builds the program; `version` is the package version. */
export function createProgram(version: string): Command {
  const program = new Command();
  program
    .name('switchyard')
    .description('Layer-4 load balancer: mutual TLS by organization, plain TCP, least-connections and more')
    .version(version, '-v, --version')
    .showHelpAfterError('(run with --help for usage)')
    // Set before the commands are added: subcommands inherit it. Help and --version exit 0, every
    // parse error (unknown command or option, missing option) exits 2.
    .exitOverride((err) => {
      process.exit(err.exitCode === 0 ? ExitCodes.ok : ExitCodes.usage);
    })
    .addHelpText('after', MAIN_HELP_EPILOG);

  addRun(program);
  addCheck(program);
  addCerts(program);
  addDemo(program);
  addUpstream(program);
  addBench(program);
  program
    .command('version')
    .description('print the version')
    .action(() => {
      console.log(version);
    });
  return program;
}

/** `--config`, `--set` and `--log-level`, shared by run and check. */
function configOptions(command: Command): Command {
  return command
    .option('-c, --config <file>', `configuration file, YAML or JSON (default: $${CONFIG_ENV_NAME})`)
    .option('--set <key=value>', SET_HELP, collect)
    .option('--log-level <level>', LOG_LEVEL_HELP);
}

function addRun(program: Command): void {
  const command = program
    .command('run')
    .description('run the balancer until SIGINT/SIGTERM (the first drains and exits 0, a second exits 1)');
  configOptions(command)
    .option(
      '--takeover',
      'take over the listening sockets of the balancer that started this process (POST /api/upgrade sets it; not for use by hand)',
    )
    .addHelpText(
      'after',
      `
Logs go to stdout ("listening" per listener, "switchyard started", one "session" line per
connection): JSON lines, or readable lines when stdout is a terminal and log.format is auto (the
default); --set log.format=json (or SWITCHYARD_LOG__FORMAT=json) forces JSON, pretty forces the
readable form. TLS files are read and checked before anything listens.
Examples:
  switchyard run --config examples/mtls-by-org.yaml
  SWITCHYARD_LOG__LEVEL=debug switchyard run -c lb.yaml --set timeouts.idle=10m`,
    )
    .action(async (opts) => {
      const { runCommand } = await import('./commands/run.js');
      await runCommand(command, opts);
    });
}

function addCheck(program: Command): void {
  const command = program
    .command('check')
    .description(
      'validate a configuration without starting (like haproxy -c): print a one-screen summary, or every error as file:line:column key.path: message; exit 0 or 1',
    );
  configOptions(command)
    .option('--json', 'print the validated configuration (defaults filled in, durations in ms) as JSON')
    .option(
      '--no-files',
      'do not read the TLS certificate, key, CA and CRL files (syntax and semantics only)',
    )
    .addHelpText(
      'after',
      `
Environment variables and flags are applied exactly as "run" applies them. By default check also
reads every TLS file the configuration names (paths relative to the file) and checks that they load:
a missing or unusable file is an error at the line of its key.
Examples:
  switchyard check --config lb.yaml
  switchyard check --config lb.yaml --no-files --set listeners.0.bind=0.0.0.0:443`,
    )
    .action(async (opts) => {
      const { checkCommand } = await import('./commands/check.js');
      await checkCommand(command, opts);
    });
}

function addCerts(program: Command): void {
  const certs = program
    .command('certs')
    .description('a development certificate authority in pure JavaScript: init, server, client')
    .addHelpText(
      'after',
      `
Keys are ECDSA P-256 unless --rsa (RSA 2048); certificates are written 0644 and keys 0600, and no
file is ever replaced without --force (exit 1 naming the file). Typical use:
  switchyard certs init   --dir certs
  switchyard certs server --dir certs --name lb.example.com --ip 10.0.0.5
  switchyard certs client --dir certs --cn alice --org groupA`,
    );
  const common = (c: Command) =>
    c
      .option('-d, --dir <dir>', 'directory of the CA and of the files written', './certs')
      .option('--rsa', 'RSA 2048 keys instead of ECDSA P-256')
      .option('-f, --force', 'replace files that already exist');

  common(
    certs
      .command('init')
      .description('create a certificate authority: <dir>/ca.pem and <dir>/ca.key')
      .option('--cn <name>', 'common name of the CA', 'Switchyard Development CA'),
  ).action(async (opts) => {
    const { certsInit } = await import('./commands/certs.js');
    await certsInit(opts);
  });

  common(
    certs
      .command('server')
      .description(
        'create a server certificate signed by <dir>/ca.*, valid for localhost, 127.0.0.1, ::1 and the names given',
      )
      .option(
        '--name <dns>',
        'extra DNS name (the first is also the CN, default localhost); repeatable',
        collect,
        [],
      )
      .option('--ip <address>', 'extra IP address, IPv4 or IPv6; repeatable', collect, [])
      .option('--out <basename>', 'file names: <basename>.pem and <basename>.key', 'server'),
  ).action(async (opts) => {
    const { certsServer } = await import('./commands/certs.js');
    await certsServer(opts);
  });

  common(
    certs
      .command('client')
      .description('create a client certificate signed by <dir>/ca.*: CN is the client id, O the org')
      .requiredOption('--cn <name>', 'common name: the client id rate and concurrency limits count')
      .requiredOption('--org <org>', 'organization: what routes match; repeat for several O values', collect)
      .option('--out <basename>', 'file names: <basename>.pem and <basename>.key (default: the --cn value)'),
  ).action(async (opts) => {
    const { certsClient } = await import('./commands/certs.js');
    await certsClient(opts);
  });
}

function addDemo(program: Command): void {
  program
    .command('demo')
    .description(
      'the one-command demo: dev certificates, two HTTP upstreams for each of groupA/B/C and the balancer with mutual TLS; prints a curl line per org',
    )
    .option(
      '-d, --dir <dir>',
      'where the demo certificates are kept (reused while valid)',
      './switchyard-demo',
    )
    .option(
      '-l, --listen <host:port>',
      'balancer address (port 0: any free port)',
      hostPort,
      '127.0.0.1:8443',
    )
    .option(
      '--admin <host:port>',
      'admin API and metrics address (loopback by default; port 0: any free port)',
      hostPort,
      '127.0.0.1:9090',
    )
    .option('--log-level <level>', 'trace, debug, info, warn, error, fatal or silent', logLevel, 'info')
    .addHelpText(
      'after',
      `
Writes ca.pem, server.pem/.key and client-<org>.pem/.key for orgs groupA, groupB, groupC and
intruder (which no route allows) into --dir, starts two HTTP upstreams per group on loopback, then
the balancer with route { org: "*", group: "{org}" }, and prints a curl command per org. Logs go to
stdout, readable on a terminal and JSON lines otherwise (pipe through cat for JSON); Ctrl-C
(SIGINT) or SIGTERM drains and exits 0.
Example:
  switchyard demo --dir /tmp/sy-demo --listen 127.0.0.1:9443`,
    )
    .action(async (opts) => {
      const { demoCommand } = await import('./commands/demo.js');
      await demoCommand(opts);
    });
}

function addUpstream(program: Command): void {
  program
    .command('upstream')
    .description(
      'run one demo HTTP upstream that answers any request with "hello from <name> (group <group>)"',
    )
    .requiredOption('-n, --name <name>', 'upstream name, e.g. groupA-1')
    .option(
      '-g, --group <group>',
      'group named in the answer (default: the name without a trailing -<number>)',
    )
    .option(
      '-l, --listen <host:port>',
      'address to listen on (port 0: any free port)',
      hostPort,
      '127.0.0.1:0',
    )
    .option('--log-level <level>', 'trace, debug, info, warn, error, fatal or silent', logLevel, 'info')
    .addHelpText(
      'after',
      `
Answers every request with HTTP/1.1 200, Connection: close and that one line. Logs a "listening"
line with the bound port (JSON, or readable on a terminal); SIGINT/SIGTERM closes it and exits 0.
Example:
  switchyard upstream --name groupA-1 --listen 0.0.0.0:9000`,
    )
    .action(async (opts) => {
      const { upstreamCommand } = await import('./commands/upstream.js');
      await upstreamCommand(opts);
    });
}

function addBench(program: Command): void {
  program
    .command('bench')
    .description(
      'the proxy benchmark suite: each scenario directly, through Switchyard (guards opened and at their defaults), a naive Node.js proxy, HAProxy and NGINX (when installed), with medians, ratios and CPU per unit',
    )
    .option('--quick', 'one short repetition per scenario (a few minutes)')
    .option('--json', 'print the report as JSON instead of a table')
    .option(
      '--targets <list>',
      'comma-separated: direct, switchyard, switchyard-defaults, switchyard-workers, naive, haproxy, nginx',
      'direct,switchyard,switchyard-defaults,switchyard-workers,naive,haproxy,nginx',
    )
    .option(
      '--scenarios <list>',
      'comma-separated scenario ids (default all): bulk-1, bulk-8, iperf3-1, iperf3-8, iperf3-upload-1, iperf3-upload-8, keepalive, connect, mtls-full, mtls-resumed, udp, idle-memory',
    )
    .option('--repetitions <n>', 'runs of each scenario on each target (default 3, --quick 1)')
    .option('--duration <ms>', 'measured span of one run in ms (default 5000, --quick 1500)')
    .option('--idle <n>', 'connections the idle-memory scenario holds (default 5000, --quick 1000)')
    .option('--no-wrk', "drive the HTTP scenarios with the suite's own generator even when wrk is installed")
    .option('--no-iperf3', 'leave out the iperf3 rows even when iperf3 is installed')
    .option(
      '--docs <file>',
      'also rewrite the proxy section of this Markdown file and its SVG charts (bench/ beside it)',
    )
    .addHelpText(
      'after',
      `
Everything runs on loopback: the suite writes certificates and configs into a temporary directory,
starts the upstreams and each target itself, and stops them at the end. Progress goes to stderr,
the table (or JSON) to stdout, warnings to stderr too. HAProxy, NGINX (with its stream module),
wrk and iperf3 are used when installed; Debian: apt-get install haproxy nginx libnginx-mod-stream
wrk iperf3.
Examples:
  switchyard bench --quick
  switchyard bench --targets switchyard,haproxy --scenarios connect,mtls-full --json`,
    )
    .action(async (opts) => {
      const { benchCommand } = await import('./commands/bench.js');
      await benchCommand(opts);
    });
}
