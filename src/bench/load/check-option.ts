/** Validation of a load generator's numeric options, so a typo fails the run instead of skewing it. */

/** Returns `value` when it is a positive integer, else throws a RangeError naming `name`. */
export function checkCount(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new RangeError(`${name} must be a positive integer, got ${value}`);
  }
  return value;
}

/** Returns `value` when it is a positive finite number of milliseconds, else throws a RangeError. */
export function checkDuration(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new RangeError(`${name} must be a positive number of milliseconds, got ${value}`);
  }
  return value;
}
