/**
 * The configuration keys whose values are secrets, and how outputs hide them: `check --json`, error
 * messages that would echo a value, anything that prints a configuration. Private key *files* are
 * named by path, which is not secret; their contents never pass through the configuration.
 */
import type { SwitchyardConfig } from './types.js';

/** What a secret's value is shown as; that a secret is set stays visible. */
export const REDACTED = '<redacted>';

/** Key paths of the secret values, as lists of keys. */
export const SECRET_PATHS: readonly (readonly string[])[] = [['admin', 'token']];

/** True when `path` (as zod reports it) is the key path of a secret. */
export function isSecretPath(path: readonly PropertyKey[]): boolean {
  return SECRET_PATHS.some(
    (secret) => secret.length === path.length && secret.every((k, i) => k === path[i]),
  );
}

/**
 * A copy of `config` for printing: each secret that is set becomes {@link REDACTED}. Only the
 * mappings on the way to a secret are copied; the rest is shared with `config`.
 */
export function redactConfig(config: SwitchyardConfig): SwitchyardConfig {
  let out = config as unknown as Record<string, unknown>;
  for (const path of SECRET_PATHS) out = redactAt(out, path);
  const redacted = out as unknown as SwitchyardConfig;
  const store = redacted.limitStore;
  if (store?.type !== 'redis') return redacted;
  return { ...redacted, limitStore: { ...store, url: redactUrlPassword(store.url) } };
}

/** A URL with its password (the part a Redis URL may carry) shown as {@link REDACTED}. */
export function redactUrlPassword(url: string): string {
  try {
    const { password } = new URL(url);
    return password === '' ? url : url.replace(`:${password}@`, `:${REDACTED}@`);
  } catch {
    return REDACTED;
  }
}

function redactAt(node: Record<string, unknown>, path: readonly string[]): Record<string, unknown> {
  const [key, ...rest] = path;
  const value = node[key];
  if (value === undefined) return node;
  if (rest.length === 0) return { ...node, [key]: REDACTED };
  if (typeof value !== 'object' || value === null) return node;
  return { ...node, [key]: redactAt(value as Record<string, unknown>, rest) };
}

/**
 * `text` with a secret's value replaced by {@link REDACTED} wherever it appears, for messages built
 * around a value (`expected a string, got 12345`).
 */
export function redactValue(text: string, secret: unknown): string {
  if ((typeof secret !== 'string' && typeof secret !== 'number') || String(secret) === '') return text;
  return text.split(String(secret)).join(REDACTED);
}
