import { Writable } from 'node:stream';

const SKIP = new Set(['level', 'time', 'pid', 'msg', 'hostname']);

/**
 * Turns one JSON log line into a line for people: `10:20:11.102 INFO  session clientId=client-a ...`.
 * Lines that are not JSON pass through unchanged.
 */
export function formatLogLine(line: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const time = typeof entry.time === 'string' ? entry.time.slice(11, 23) : '';
  const level = String(entry.level ?? '')
    .toUpperCase()
    .padEnd(5);
  const fields = Object.entries(entry)
    .filter(([k, v]) => !SKIP.has(k) && v !== '' && v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  return `${time} ${level} ${String(entry.msg ?? '')}${fields === '' ? '' : ` ${fields}`}`;
}

/** A destination that writes each JSON line to `out` in the form {@link formatLogLine} gives it. */
export function prettyDestination(out: NodeJS.WritableStream): Writable {
  let partial = '';
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) if (line !== '') out.write(`${formatLogLine(line)}\n`);
      done();
    },
  });
}
