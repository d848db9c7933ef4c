/** The version of this package, read once from its package.json (shipped beside `dist/`). */
import { readFileSync } from 'node:fs';

let cached: string | undefined;

/** The `version` of Switchyard's package.json, e.g. `0.1.0`. */
export function packageVersion(): string {
  // dist/src/control/ -> the package root, as from src/control/ in a checkout
  cached ??= (
    JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }
  ).version;
  return cached;
}
