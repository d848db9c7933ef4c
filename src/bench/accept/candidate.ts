/**
 * A candidate proxy of the accept benchmark: `node candidate.js <mode> <workers> <upstream-port>`
 * (modes in `modes.ts`). Plain TCP on 127.0.0.1 only; the root announces `{"type":"ready","port":…}`
 * once every worker listens. The same script runs as each worker, started by the root.
 */
import { parseCandidateArgs } from './candidate-args.js';
import { runRoot } from './candidate-root.js';
import { runWorker } from './candidate-worker.js';

try {
  const args = parseCandidateArgs(process.argv.slice(2));
  if (args.role === 'worker') runWorker(args);
  else await runRoot(args);
} catch (err) {
  process.stderr.write(`candidate ${process.pid}: ${(err as Error).message}\n`);
  process.exit(1);
}
