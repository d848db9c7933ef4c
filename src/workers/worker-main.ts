// The file the primary forks for each worker process (see worker-pool.ts).
import { runWorker } from './worker-process.js';

runWorker();
