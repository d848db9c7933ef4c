/** Finding an installed tool (a proxy) and asking it for its version. */
import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { delimiter, join } from 'node:path';

const TIMEOUT_MS = 10_000;
// Daemons install into sbin, which a non-root PATH often leaves out.
const SBIN_DIRS = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

/** Absolute path of executable `name` on PATH or in the sbin directories; undefined when missing. */
export async function findTool(name: string): Promise<string | undefined> {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter((d) => d.length > 0), ...SBIN_DIRS];
  for (const dir of dirs) {
    const path = join(dir, name);
    try {
      await access(path, constants.X_OK);
      return path;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * stdout followed by stderr of `command args` (many tools print their version on stderr), or
 * undefined when the command fails or hangs.
 */
export function toolOutput(command: string, args: readonly string[]): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: TIMEOUT_MS, encoding: 'utf8' }, (err, stdout, stderr) => {
      resolve(err === null ? `${stdout}${stderr}` : undefined);
    });
  });
}
