/**
 * The open-file limit the proxies inherit from the suite. A proxy asked for more connections than
 * its descriptors allow either refuses to start (HAProxy) or fails under load, so their connection
 * ceilings are sized to fit it.
 */
import { readFileSync } from 'node:fs';

/** Soft and hard RLIMIT_NOFILE of this process. */
export interface FileLimit {
  soft: number;
  hard: number;
}

// Linux's usual default hard limit, for when /proc cannot be read.
const FALLBACK = 4096;

/** Parses the `Max open files` line of `/proc/<pid>/limits`; "unlimited" counts as no ceiling. */
export function parseFileLimit(limits: string): FileLimit | undefined {
  const match = /^Max open files\s+(\S+)\s+(\S+)/m.exec(limits);
  if (match === null) return undefined;
  const value = (text: string) => (text === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(text));
  const soft = value(match[1]);
  const hard = value(match[2]);
  return Number.isFinite(soft) && Number.isFinite(hard) ? { soft, hard } : undefined;
}

/** This process's open-file limit, which every child it spawns starts with. */
export function readFileLimit(): FileLimit {
  try {
    return parseFileLimit(readFileSync('/proc/self/limits', 'utf8')) ?? { soft: FALLBACK, hard: FALLBACK };
  } catch {
    return { soft: FALLBACK, hard: FALLBACK };
  }
}

/**
 * Most proxied connections that fit in `descriptors`: each takes two (client and upstream side),
 * less a reserve for listeners, logs and the proxy's own files; capped at `ceiling`.
 */
export function connectionsThatFit(descriptors: number, ceiling: number): number {
  const reserve = 256;
  return Math.max(1, Math.min(ceiling, Math.floor((descriptors - reserve) / 2)));
}
