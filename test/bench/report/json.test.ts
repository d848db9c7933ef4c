import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toJson } from '../../../src/bench/report/json.js';
import type { RunReport } from '../../../src/bench/report/run-report.js';
import { fixtureRun } from './fixtures.js';

/** The same object with its keys inserted in reverse, recursively. */
function reversedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reversedKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .reverse()
      .map(([k, v]) => [k, reversedKeys(v)]),
  );
}

describe('toJson', () => {
  const json = toJson(fixtureRun());

  it('reads back as the same run', () => {
    assert.deepEqual(JSON.parse(json), fixtureRun());
  });

  it('is pretty, ends with a newline and sorts keys at every level', () => {
    assert.ok(json.startsWith('{\n  "command": '));
    assert.ok(json.endsWith('}\n'));
    const topKeys = [...json.matchAll(/^ {2}"(\w+)":/gm)].map((m) => m[1]);
    assert.deepEqual(topKeys, ['command', 'machine', 'notes', 'options', 'results', 'startedAt', 'versions']);
    const firstResult = JSON.stringify(JSON.parse(json).results[0]);
    assert.ok(firstResult.startsWith('{"errors":0,"higherIsBetter":true,"samples":'), firstResult);
  });

  it('gives the same text whatever order the objects were built in; arrays keep theirs', () => {
    assert.equal(toJson(reversedKeys(fixtureRun()) as RunReport), json);
    const reordered = fixtureRun();
    reordered.results.reverse();
    assert.notEqual(toJson(reordered), json);
  });

  it('writes a Date as its ISO text', () => {
    const run = { ...fixtureRun(), startedAt: new Date('2026-11-22T21:41:07.123Z') } as unknown as RunReport;
    assert.equal(toJson(run), json);
  });
});
