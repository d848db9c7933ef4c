// The file node:cluster runs in each worker process (see worker-pool.ts).
import { runWorker } from './worker-process.js';

runWorker();
