import { ErrorCodes, SwitchyardError } from '../../lib/errors.js';
/** Opens the generated proxy section of docs/BENCHMARKS.md. */
export const PROXY_BENCH_START = '<!-- proxy-bench:start -->';
/** Closes the generated proxy section of docs/BENCHMARKS.md. */
export const PROXY_BENCH_END = '<!-- proxy-bench:end -->';

const PROXY_HEADING = /^## Proxy benchmarks\b[^\n]*$/m;
const NEXT_HEADING = /^## /m;

/**
 * The doc with `section` put in place of its generated proxy section, every other byte unchanged:
 * between the markers when the doc has them; else in place of the `## Proxy benchmarks` section
 * (up to the next `## ` heading or the end); else appended. The result always has the markers, so
 * the next write lands in the same place and writing twice changes nothing.
 */
export function replaceProxySection(doc: string, section: string): string {
  if (section.includes(PROXY_BENCH_START) || section.includes(PROXY_BENCH_END)) {
    throw new SwitchyardError(
      ErrorCodes.ERR_INTERNAL,
      'the proxy benchmark section must not contain its own markers',
    );
  }
  const block = `${PROXY_BENCH_START}\n${section.endsWith('\n') ? section : `${section}\n`}${PROXY_BENCH_END}`;

  const start = doc.indexOf(PROXY_BENCH_START);
  if (start !== -1) {
    const end = doc.indexOf(PROXY_BENCH_END, start);
    if (end === -1)
      throw new SwitchyardError(
        ErrorCodes.ERR_INTERNAL,
        `${PROXY_BENCH_START} has no ${PROXY_BENCH_END} after it`,
      );
    if (doc.indexOf(PROXY_BENCH_START, start + 1) !== -1) {
      throw new SwitchyardError(ErrorCodes.ERR_INTERNAL, `${PROXY_BENCH_START} appears more than once`);
    }
    return doc.slice(0, start) + block + doc.slice(end + PROXY_BENCH_END.length);
  }
  // Guessing where a lone end marker's section began could eat text that is not ours.
  if (doc.includes(PROXY_BENCH_END))
    throw new SwitchyardError(
      ErrorCodes.ERR_INTERNAL,
      `${PROXY_BENCH_END} has no ${PROXY_BENCH_START} before it`,
    );

  const heading = PROXY_HEADING.exec(doc);
  if (heading !== null) {
    const afterHeading = heading.index + heading[0].length;
    const next = NEXT_HEADING.exec(doc.slice(afterHeading));
    if (next === null) return `${doc.slice(0, heading.index)}${block}\n`;
    return `${doc.slice(0, heading.index)}${block}\n\n${doc.slice(afterHeading + next.index)}`;
  }
  if (doc === '') return `${block}\n`;
  return `${doc}${doc.endsWith('\n') ? '' : '\n'}\n${block}\n`;
}
