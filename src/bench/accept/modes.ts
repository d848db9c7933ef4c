/**
 * The ways connections can reach N worker processes that the accept benchmark compares (issue #14),
 * and which of them the running Node.js can do at all.
 */

/** How a candidate proxy gets its connections to its workers. */
export type AcceptMode = 'single' | 'cluster-rr' | 'cluster-none' | 'handle-send' | 'reuseport';

/** Every mode, in the order they are reported. */
export const ACCEPT_MODES: readonly AcceptMode[] = [
  'single',
  'cluster-rr',
  'cluster-none',
  'handle-send',
  'reuseport',
];

/** One line per mode for help texts and reports. */
export const MODE_DESCRIPTIONS: Record<AcceptMode, string> = {
  single: 'one process accepts and relays (the baseline)',
  'cluster-rr': 'node:cluster, round-robin: the primary accepts and passes each connection over IPC',
  'cluster-none': 'node:cluster, SCHED_NONE: every worker accepts from the one shared socket',
  'handle-send': 'child_process.fork + send(server): the primary passes its listening socket, then closes it',
  reuseport: 'every worker listens itself with SO_REUSEPORT; the kernel spreads connections',
};

/** Whether a mode can run here, and why not when it cannot. */
export type Availability = { available: true } | { available: false; reason: string };

/** Whether `name` is one of {@link ACCEPT_MODES}. */
export function isAcceptMode(name: string): name is AcceptMode {
  return (ACCEPT_MODES as readonly string[]).includes(name);
}

/** `major.minor.patch` of a version string such as `20.20.2` or `v22.12.0`; undefined when it is not one. */
export function parseNodeVersion(version: string): [number, number, number] | undefined {
  const match = /^v?(\d+)\.(\d+)\.(\d+)/.exec(version.trim());
  if (match === null) return undefined;
  return [Number(match[1]), Number(match[2]), Number(match[3])];
}

/**
 * Whether `net` of Node `version` knows the `reusePort` listen option: added in 23.1.0 and
 * backported to 22.12.0. Older versions accept the option without a word and bind as usual, so the
 * second listener on the port fails with EADDRINUSE instead of sharing it; that is why the version
 * is checked before anything tries.
 */
export function reusePortByVersion(version: string): Availability {
  const parsed = parseNodeVersion(version);
  if (parsed === undefined) return { available: false, reason: `cannot read Node.js version "${version}"` };
  const [major, minor] = parsed;
  const supported = major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);
  if (supported) return { available: true };
  return {
    available: false,
    reason: `Node.js ${version.replace(/^v?/, 'v')} has no reusePort in net.Server.listen (needs 22.12+ or 23.1+)`,
  };
}

/** What Node `version` allows of `mode`; every mode but `reuseport` runs on any supported Node. */
export function modeAvailabilityByVersion(mode: AcceptMode, version: string): Availability {
  return mode === 'reuseport' ? reusePortByVersion(version) : { available: true };
}
