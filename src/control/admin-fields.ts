/**
 * Reading the fields of admin requests: JSON bodies with only the keys a route knows, upstream
 * states and their verbs, new upstreams and paging parameters. Every refusal is ERR_INVALID_ARGUMENT.
 */
import { ErrorCodes, SwitchyardError } from '../lib/errors.js';
import { formatHostPort, parseHostPort } from '../lib/upstreams/address.js';
import { UPSTREAM_STATES, type UpstreamState } from '../lib/upstreams/upstream.js';
import type { NewUpstream } from './admin-actions.js';

/** Verbs the state endpoint accepts besides the state names themselves. */
export const STATE_VERBS: Record<string, UpstreamState> = {
  drain: 'draining',
  ready: 'up',
  maintenance: 'maintenance',
};

function invalid(message: string): SwitchyardError {
  return new SwitchyardError(ErrorCodes.ERR_INVALID_ARGUMENT, message);
}

/** Refuses keys other than `allowed`, so a typo (`"wieght"`) is an error rather than ignored. */
function onlyKeys(body: Record<string, unknown>, allowed: readonly string[]): void {
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key)) throw invalid(`unknown field "${key}"; expected ${allowed.join(', ')}`);
  }
}

/** The non-empty string `key` of a body that may hold only `allowed`. */
export function stringField(body: Record<string, unknown>, key: string, allowed: readonly string[]): string {
  onlyKeys(body, allowed);
  const v = body[key];
  if (typeof v !== 'string' || v === '') throw invalid(`"${key}" must be a non-empty string`);
  return v;
}

/** The number `key` of a body that may hold only `allowed`. */
export function numberField(body: Record<string, unknown>, key: string, allowed: readonly string[]): number {
  onlyKeys(body, allowed);
  const v = body[key];
  if (typeof v !== 'number') throw invalid(`"${key}" must be a number`);
  return v;
}

/** A state name or one of the verbs `drain`, `ready`, `maintenance`. */
export function stateValue(text: string): UpstreamState {
  if (Object.hasOwn(STATE_VERBS, text)) return STATE_VERBS[text];
  if ((UPSTREAM_STATES as readonly string[]).includes(text)) return text as UpstreamState;
  throw invalid(
    `unknown state "${text}"; expected one of ${[...UPSTREAM_STATES, 'drain', 'ready'].join(', ')}`,
  );
}

const UPSTREAM_FIELDS = ['address', 'id', 'weight', 'maxConnections', 'state'] as const;

/** The upstream a `POST .../upstreams` body describes. */
export function newUpstream(body: Record<string, unknown>): NewUpstream {
  onlyKeys(body, UPSTREAM_FIELDS);
  const { address, id, weight, maxConnections, state } = body;
  if (typeof address !== 'string' || address === '') throw invalid('"address" must be a "host:port" string');
  const u: NewUpstream = { address };
  if (id !== undefined) {
    if (typeof id !== 'string' || id === '') throw invalid('"id" must be a non-empty string');
    u.id = id;
  }
  if (weight !== undefined) {
    if (typeof weight !== 'number') throw invalid('"weight" must be a number');
    u.weight = weight;
  }
  if (maxConnections !== undefined) {
    if (typeof maxConnections !== 'number') throw invalid('"maxConnections" must be a number');
    u.maxConnections = maxConnections;
  }
  if (state !== undefined) {
    if (typeof state !== 'string') throw invalid('"state" must be a string');
    u.state = stateValue(state);
  }
  return u;
}

/** The id an upstream added without one gets: its canonical address. */
export function canonicalAddress(address: string): string {
  const hp = parseHostPort(address);
  return formatHostPort(hp.host, hp.port);
}

/** Query parameter `name` as a whole number in [min, max], or `fallback` when absent. */
export function intParam(
  query: URLSearchParams,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const text = query.get(name);
  if (text === null || text === '') return fallback;
  if (!/^\d+$/.test(text)) throw invalid(`query parameter "${name}" must be a whole number`);
  const n = Number(text);
  if (n < min || n > max) throw invalid(`query parameter "${name}" must be between ${min} and ${max}`);
  return n;
}
