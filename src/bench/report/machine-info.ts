import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { MachineInfo } from './run-report.js';

/**
 * Describes this machine for the report. `osReleasePath` is only there so tests can point it at a
 * fixture; a missing or unreadable file just leaves the distribution out.
 */
export function readMachineInfo(osReleasePath = '/etc/os-release'): MachineInfo {
  const cpus = os.cpus();
  // Some kernels pad the model name with spaces to a fixed width.
  const model = cpus[0]?.model.replace(/\s+/g, ' ').trim();
  let distribution: string | undefined;
  try {
    distribution = prettyName(readFileSync(osReleasePath, 'utf8'));
  } catch {
    distribution = undefined;
  }
  const kernel = `${os.type()} ${os.release()}`;
  return {
    cpu: model || 'unknown CPU',
    // os.cpus() is empty where /proc/cpuinfo is hidden; availableParallelism still knows the count.
    cores: cpus.length > 0 ? cpus.length : os.availableParallelism(),
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: distribution === undefined ? kernel : `${kernel} (${distribution})`,
    node: process.version,
  };
}

/** The `PRETTY_NAME` of an os-release file's text, unquoted, or undefined when it has none. */
export function prettyName(osRelease: string): string | undefined {
  const line = osRelease.split('\n').find((l) => l.startsWith('PRETTY_NAME='));
  if (line === undefined) return undefined;
  let value = line.slice('PRETTY_NAME='.length).trim();
  const quote = value[0];
  if ((quote === '"' || quote === "'") && value.endsWith(quote) && value.length >= 2) {
    value = value.slice(1, -1);
    // os-release(5) allows shell-style backslash escapes inside double quotes.
    if (quote === '"') value = value.replace(/\\(.)/g, '$1');
  }
  return value === '' ? undefined : value;
}
