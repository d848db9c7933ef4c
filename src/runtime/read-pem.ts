import { readFile } from 'node:fs/promises';
import { ErrorCodes, SwitchyardError } from '../lib/errors.js';

/** Reads a PEM file a configuration key names; throws `ERR_CONFIG_READ` naming that key. */
export async function readPem(path: string, keyPath: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new SwitchyardError(
      ErrorCodes.ERR_CONFIG_READ,
      `${keyPath}: cannot read "${path}": ${whyUnreadable(err)}`,
      {
        cause: err,
      },
    );
  }
}

/** Why a file could not be read, in the words the loader's messages use. */
export function whyUnreadable(err: unknown): string {
  return (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (err as Error).message;
}
