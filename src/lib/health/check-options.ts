import { ErrorCodes, SwitchyardError } from '../errors.js';

/** An `ERR_INVALID_ARGUMENT` error for a bad option. */
export function invalid(message: string): SwitchyardError {
  return new SwitchyardError(ErrorCodes.ERR_INVALID_ARGUMENT, message);
}

/** Validates a duration: a finite number of ms above zero. */
export function checkPositiveMs(what: string, value: number): number {
  if (!(Number.isFinite(value) && value > 0))
    throw invalid(`${what} must be a positive number of ms, got ${value}`);
  return value;
}

/** Validates a count: a whole number of at least 1. */
export function checkCount(what: string, value: number): number {
  if (!(Number.isSafeInteger(value) && value >= 1))
    throw invalid(`${what} must be a whole number >= 1, got ${value}`);
  return value;
}

/** Validates a fraction in [min, max). */
export function checkFraction(what: string, value: number, min: number, maxExclusive: number): number {
  if (!(Number.isFinite(value) && value >= min && value < maxExclusive)) {
    throw invalid(`${what} must be at least ${min} and below ${maxExclusive}, got ${value}`);
  }
  return value;
}

/** Validates a percentage in [0, 100]. */
export function checkPercent(what: string, value: number): number {
  if (!(Number.isFinite(value) && value >= 0 && value <= 100)) {
    throw invalid(`${what} must be a percentage from 0 to 100, got ${value}`);
  }
  return value;
}

/** Validates a TCP port, 1..65535. */
export function checkPort(what: string, value: number): number {
  if (!(Number.isInteger(value) && value >= 1 && value <= 65535)) {
    throw invalid(`${what} must be a port from 1 to 65535, got ${value}`);
  }
  return value;
}
