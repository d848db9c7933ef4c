import { readFileSync } from 'node:fs';
import { SwitchyardError } from '../lib/errors.js';
import { ExitCodes } from './exit-codes.js';
import { createProgram } from './program.js';

export { ExitCodes } from './exit-codes.js';

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

createProgram(pkg.version)
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    if (err instanceof SwitchyardError) {
      console.error(`switchyard: ${err.message}`);
    } else if (err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string') {
      // System errors (EADDRINUSE, EACCES, ...) say enough without a stack.
      console.error(`switchyard: ${err.message}`);
    } else {
      console.error('switchyard: unexpected error:', err);
    }
    process.exit(ExitCodes.failure);
  });
