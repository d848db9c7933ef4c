/** The little a progress display needs of a stream; `process.stderr` is one. */
export interface ProgressStream {
  write(chunk: string): unknown;
  /** True on a terminal: the line is then redrawn in place. */
  isTTY?: boolean;
  /** Terminal width; a redrawn line is kept shorter so it never wraps. */
  columns?: number;
}

/** Options of `createProgress`. */
export interface ProgressOptions {
  /** Steps the run will take. */
  total: number;
  /** Where to draw; stderr by default, because stdout carries the table or the JSON. */
  stream?: ProgressStream;
}

/** Reports the steps of a long run. */
export interface Progress {
  /** The next step begins; shown as `n/total label`. */
  step(label: string): void;
  /** The run is over: clears the line on a terminal. Later calls are ignored. */
  done(): void;
}

const BAR_WIDTH = 10;

/**
 * A progress display: on a terminal one line redrawn with `\r` (no escape sequences, so it also
 * works on dumb terminals), elsewhere (CI logs, pipes) one plain line per step.
 */
export function createProgress({ total, stream = process.stderr }: ProgressOptions): Progress {
  const tty = stream.isTTY === true;
  let count = 0;
  let drawn = 0; // characters of the line now on screen, to blank what a shorter line leaves
  let finished = false;

  const draw = (line: string) => {
    const chars = [...line];
    // Writing into the last column wraps on some terminals, and a wrapped line cannot be redrawn.
    const room = (stream.columns ?? 80) - 1;
    const shown = chars.length > room ? chars.slice(0, Math.max(room, 0)) : chars;
    stream.write(`\r${shown.join('')}${' '.repeat(Math.max(drawn - shown.length, 0))}`);
    drawn = shown.length;
  };

  return {
    step(label) {
      if (finished) return;
      count += 1;
      const text = `${count}/${total} ${printable(label)}`;
      if (!tty) {
        stream.write(`${text}\n`);
        return;
      }
      const filled = total > 0 ? Math.min(Math.round(((count - 1) / total) * BAR_WIDTH), BAR_WIDTH) : 0;
      draw(`[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${text}`);
    },
    done() {
      if (finished) return;
      finished = true;
      if (tty && drawn > 0) stream.write(`\r${' '.repeat(drawn)}\r`);
    },
  };
}

// A newline or escape sequence in a label would break the redraw, or colour a CI log.
function printable(label: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it removes
  return label.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');
}
