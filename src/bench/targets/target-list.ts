/** The `--targets` list: which targets a run measures, in the order given. */
import { ErrorCodes, SwitchyardError } from '../../lib/errors.js';
import type { TargetName } from '../types.js';
import { TARGET_NAMES } from './registry.js';

/** Every target, comma-separated: the default of `--targets`. */
export const DEFAULT_TARGET_LIST = TARGET_NAMES.join(',');

/**
 * The target names of a comma-separated list, blanks around names ignored, a name given twice kept
 * once (at its first place). Throws naming every unknown name and the known ones.
 */
export function parseTargetList(text: string): TargetName[] {
  const names = text
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  const unknown = names.filter((name) => !(TARGET_NAMES as readonly string[]).includes(name));
  if (unknown.length > 0) {
    throw new SwitchyardError(
      ErrorCodes.ERR_INVALID_ARGUMENT,
      `unknown target ${unknown.join(', ')} (${TARGET_NAMES.join(', ')})`,
    );
  }
  return [...new Set(names as TargetName[])];
}
