/**
 * Proof by trying that two listeners of this process can share a port with `reusePort`: the Node
 * version may allow the option while the kernel (or a sandbox) does not, and the version test alone
 * would then report a mode that fails at its first worker.
 */
import { createServer, type Server } from 'node:net';
import { CANDIDATE_HOST } from './candidate-args.js';
import { listen } from './listen.js';
import {
  type AcceptMode,
  type Availability,
  modeAvailabilityByVersion,
  reusePortByVersion,
} from './modes.js';

/** Binds two listeners to one port with `reusePort`; available when the second one is not refused. */
export async function probeReusePort(version = process.versions.node): Promise<Availability> {
  const byVersion = reusePortByVersion(version);
  if (!byVersion.available) return byVersion;
  const first = createServer();
  const second = createServer();
  try {
    const port = await listen(first, { host: CANDIDATE_HOST, port: 0, reusePort: true });
    await listen(second, { host: CANDIDATE_HOST, port, reusePort: true });
    return { available: true };
  } catch (err) {
    return {
      available: false,
      reason: `two reusePort listeners on one port failed: ${(err as Error).message}`,
    };
  } finally {
    await Promise.all([close(first), close(second)]);
  }
}

/** Whether `mode` can run on this Node and this kernel. */
export async function modeAvailability(mode: AcceptMode): Promise<Availability> {
  if (mode === 'reuseport') return probeReusePort();
  return modeAvailabilityByVersion(mode, process.versions.node);
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) resolve();
    else server.close(() => resolve());
  });
}
