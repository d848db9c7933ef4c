import type { RunReport } from './run-report.js';

/**
 * The run as pretty JSON with every object's keys sorted, so two runs compare line by line
 * whatever order their objects were built in. Arrays keep their order. Ends with a newline.
 */
export function toJson(run: RunReport): string {
  return `${JSON.stringify(sortKeys(run), null, 2)}\n`;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  // A Date (or anything else with toJSON) must serialize as itself, not as its empty key set.
  const { toJSON } = value as { toJSON?: unknown };
  if (typeof toJSON === 'function') return sortKeys(toJSON.call(value));
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort())
    sorted[key] = sortKeys((value as Record<string, unknown>)[key]);
  return sorted;
}
