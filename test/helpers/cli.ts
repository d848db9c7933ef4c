/** Runs the real `switchyard` binary as a child process and reads its JSON log lines. */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Path of the package's bin script. */
export const BIN = fileURLToPath(new URL('../../../bin/switchyard.js', import.meta.url));

/** A running CLI child with its output collected line by line. */
export interface CliProcess {
  child: ChildProcess;
  /** Every stdout line so far. */
  stdout: string[];
  /** Every stderr line so far. */
  stderr: string[];
  /** Resolves with the first stdout JSON line whose `msg` equals `msg`. */
  waitForLog(msg: string): Promise<Record<string, unknown>>;
  /** Resolves with the exit code (or the signal name). */
  exited: Promise<number | string>;
}

/** Starts `switchyard ...args`. */
export function startCli(args: string[], cwd?: string): CliProcess {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const stdout: string[] = [];
  const stderr: string[] = [];
  const waiters: (() => void)[] = [];
  const collect = (into: string[]) => {
    let partial = '';
    return (chunk: Buffer) => {
      partial += chunk.toString('utf8');
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      into.push(...lines);
      for (const w of waiters.splice(0)) w();
    };
  };
  child.stdout!.on('data', collect(stdout));
  child.stderr!.on('data', collect(stderr));
  const exited = new Promise<number | string>((resolve) => {
    child.on('exit', (code, signal) => {
      resolve(code ?? signal ?? -1);
      for (const w of waiters.splice(0)) w();
    });
  });
  const findLog = (msg: string) => {
    for (const line of stdout) {
      try {
        const parsed = JSON.parse(line) as Record<string, unknown>;
        if (parsed.msg === msg) return parsed;
      } catch {
        // not a JSON line
      }
    }
    return undefined;
  };
  return {
    child,
    stdout,
    stderr,
    exited,
    waitForLog: async (msg) => {
      for (;;) {
        const found = findLog(msg);
        if (found !== undefined) return found;
        if (child.exitCode !== null) throw new Error(`exited before "${msg}": ${stderr.join('\n')}`);
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    },
  };
}

/** Runs the CLI to completion and returns its exit code and output. */
export async function runCli(
  args: string[],
  cwd?: string,
): Promise<{ code: number | string; stdout: string; stderr: string }> {
  const p = startCli(args, cwd);
  const code = await p.exited;
  // Let the last 'data' events of both pipes arrive.
  await new Promise((r) => setImmediate(r));
  return { code, stdout: p.stdout.join('\n'), stderr: p.stderr.join('\n') };
}
