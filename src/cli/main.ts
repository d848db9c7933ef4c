import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { SwitchyardError } from '../lib/errors.js';
import { runCommand } from './commands/run.js';

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

/** Exit statuses the CLI uses, documented in docs/OPERATIONS.md. */
export const ExitCodes = { ok: 0, failure: 1, usage: 2 } as const;

const program = new Command();
program
  .name('switchyard')
  .description('Layer-4 load balancer: mutual TLS by organization, plain TCP, least-connections and more')
  .version(pkg.version, '-v, --version')
  .showHelpAfterError()
  .exitOverride((err) => {
    process.exit(err.exitCode === 0 ? ExitCodes.ok : ExitCodes.usage);
  });

program
  .command('run')
  .description('run the balancer until SIGINT/SIGTERM (a second signal exits at once)')
  .requiredOption('-c, --config <file>', 'configuration file, YAML or JSON')
  .option('--log-level <level>', 'trace, debug, info, warn, error, fatal or silent')
  .action(async (opts: { config: string; logLevel?: string }) => {
    await runCommand({ config: opts.config, logLevel: opts.logLevel });
  });

program
  .command('version')
  .description('print the version')
  .action(() => {
    console.log(pkg.version);
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof SwitchyardError) {
    console.error(`switchyard: ${err.message}`);
  } else {
    console.error('switchyard: unexpected error:', err);
  }
  process.exit(ExitCodes.failure);
});
