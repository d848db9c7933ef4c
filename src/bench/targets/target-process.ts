/**
 * A proxy process started by the suite: spawned with its output going straight into files in the work
 * directory, and stopped with a bounded escalation that leaves no process of its tree behind.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCodes, SwitchyardError } from '../../lib/errors.js';
import { findTreePids } from '../measure/process-tree.js';
import { processGone } from '../measure/process-usage.js';

/** A running proxy process and where its output goes. */
export interface TargetProcess {
  child: ChildProcess;
  pid: number;
  /** File receiving the process's stdout. */
  stdoutPath: string;
  /** File receiving the process's stderr. */
  stderrPath: string;
  /** Resolves when the process has exited (and been reaped). */
  exited: Promise<void>;
  /** Whether it has exited. */
  hasExited(): boolean;
}

/** Options of {@link spawnTargetProcess}. */
export interface SpawnOptions {
  /** Directory for the output files. */
  workDir: string;
  /** Base name of the output files: `<name>.stdout.log`, `<name>.stderr.log`. */
  name: string;
  env?: NodeJS.ProcessEnv;
}

/** Options of {@link stopTargetProcess}. */
export interface StopOptions {
  /** The signal that asks for a shutdown; SIGTERM unless the proxy wants another. */
  signal?: NodeJS.Signals;
  /** How long the shutdown may take before the tree is killed, ms. */
  graceMs?: number;
}

const DEFAULT_GRACE_MS = 5000;
// After SIGKILL the kernel frees a process at once, but its parent still has to reap it.
const REAP_BOUND_MS = 5000;
const POLL_MS = 20;

/**
 * Spawns `command args` with stdin closed and stdout/stderr written to files by the process itself
 * (not piped through us), so a chatty proxy never waits on the suite's event loop. Rejects when the
 * command cannot be started.
 */
export async function spawnTargetProcess(
  command: string,
  args: readonly string[],
  options: SpawnOptions,
): Promise<TargetProcess> {
  const stdoutPath = join(options.workDir, `${options.name}.stdout.log`);
  const stderrPath = join(options.workDir, `${options.name}.stderr.log`);
  const stdoutFd = openSync(stdoutPath, 'a');
  const stderrFd = openSync(stderrPath, 'a');
  let child: ChildProcess;
  try {
    child = spawn(command, args, { stdio: ['ignore', stdoutFd, stderrFd], env: options.env ?? process.env });
  } finally {
    // The child holds its own copies of the descriptors.
    closeSync(stdoutFd);
    closeSync(stderrFd);
  }
  let done = false;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      done = true;
      resolve();
    });
  });
  try {
    // once() rejects on 'error', which comes instead of 'spawn' when the command cannot be run.
    await once(child, 'spawn');
  } catch (err) {
    throw new SwitchyardError(ErrorCodes.ERR_INTERNAL, `cannot start ${command}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  // Signals go through process.kill, so a later 'error' has nothing to report; without a listener
  // it would crash the suite.
  child.on('error', () => {});
  return {
    child,
    pid: child.pid!,
    stdoutPath,
    stderrPath,
    exited,
    hasExited: () => done,
  };
}

/**
 * Asks the process to stop with `signal`, and kills it and every descendant it had with SIGKILL
 * when that takes longer than `graceMs`; resolves once none of them runs any more. Descendants are
 * remembered before the signal because a killed master's workers would be reparented out of its tree.
 */
export async function stopTargetProcess(target: TargetProcess, options: StopOptions = {}): Promise<void> {
  const tree = target.hasExited() ? [] : await findTreePids([target.pid]);
  if (!target.hasExited()) {
    sendSignal(target.pid, options.signal ?? 'SIGTERM');
    const graceful = await Promise.race([
      target.exited.then(() => true),
      sleep(options.graceMs ?? DEFAULT_GRACE_MS).then(() => false),
    ]);
    if (!graceful) for (const pid of new Set([target.pid, ...tree])) sendSignal(pid, 'SIGKILL');
    await target.exited;
  }
  const deadline = Date.now() + REAP_BOUND_MS;
  // The root is reaped by now (exited resolved); only its descendants can linger.
  for (const pid of tree.filter((p) => p !== target.pid)) {
    while (!(await processGone(pid))) {
      if (Date.now() > deadline)
        throw new SwitchyardError(
          ErrorCodes.ERR_INTERNAL,
          `process ${pid} of ${target.pid}'s tree is still running`,
        );
      sendSignal(pid, 'SIGKILL');
      await sleep(POLL_MS);
    }
  }
}

/** The last `bytes` of a file, for error messages; empty when it cannot be read. */
export async function readTail(path: string, bytes = 2000): Promise<string> {
  try {
    const file = await open(path, 'r');
    try {
      const { size } = await file.stat();
      const start = Math.max(0, size - bytes);
      const buffer = Buffer.alloc(size - start);
      await file.read(buffer, 0, buffer.length, start);
      return buffer.toString('utf8');
    } finally {
      await file.close();
    }
  } catch {
    return '';
  }
}

/** An error saying why a target did not start, with the end of its stderr and stdout. */
export async function startFailure(name: string, target: TargetProcess, reason: string): Promise<Error> {
  const stderr = (await readTail(target.stderrPath)).trim();
  const stdout = (await readTail(target.stdoutPath)).trim();
  const code = target.child.exitCode ?? target.child.signalCode;
  const state = target.hasExited() ? ` (exited: ${code})` : '';
  return new SwitchyardError(
    ErrorCodes.ERR_INTERNAL,
    `${name} did not start: ${reason}${state}\n--- stderr ---\n${stderr}\n--- stdout ---\n${stdout}`,
  );
}

function sendSignal(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (err) {
    // Already gone between the look and the signal.
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}
