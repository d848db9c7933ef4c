import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type CandidateProcess, startCandidate } from '../../../src/bench/accept/candidate-process.js';
import { ACCEPT_MODES } from '../../../src/bench/accept/modes.js';
import { modeAvailability } from '../../../src/bench/accept/reuse-port-probe.js';
import { processGone } from '../../../src/bench/measure/process-usage.js';
import { HTTP_RESPONSE } from '../../../src/bench/upstream/http-responder.js';
import { type BenchFixture, startBenchFixture } from '../helpers/bench-fixture.js';

const REQUESTS = 4;
const REQUEST_TIMEOUT_MS = 5_000;

/** One `Connection: close` request to 127.0.0.1:`port`; resolves with every byte until the close. */
function request(port: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.setTimeout(REQUEST_TIMEOUT_MS, () => {
      socket.destroy();
      reject(new Error(`no answer through port ${port} within ${REQUEST_TIMEOUT_MS} ms`));
    });
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks)));
    // No half-close: like the naive proxy, the candidates end both sides when the client's ends.
    socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
  });
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('accept benchmark candidates', { timeout: 120_000 }, () => {
  let fixture: BenchFixture;

  before(async () => {
    fixture = await startBenchFixture();
  });

  after(() => fixture?.stop());

  for (const mode of ACCEPT_MODES) {
    it(`${mode}: relays requests through its workers on a port of its own choosing, counts them, leaves nothing behind`, async () => {
      const workers = mode === 'single' ? 1 : 2;
      const availability = await modeAvailability(mode);
      const outcome = await startCandidate(mode, workers, fixture.upstreams.endpoints.http.port);
      if (!('candidate' in outcome)) {
        assert.equal(
          availability.available,
          false,
          `the driver thought ${mode} could run: ${outcome.unavailable}`,
        );
        // Not a skip: on this Node the mode must say why it cannot run, and that is what is checked.
        assert.match(outcome.unavailable, new RegExp(process.version.replace(/\./g, '\\.')));
        return;
      }
      const candidate: CandidateProcess = outcome.candidate;
      try {
        assert.equal(availability.available, true);
        assert.ok(candidate.port > 0);
        assert.equal(new Set(candidate.workerPids).size, workers);
        if (mode === 'single') assert.deepEqual(candidate.workerPids, [candidate.pid]);
        else
          assert.ok(!candidate.workerPids.includes(candidate.pid), 'the root must not be one of the workers');
        for (const pid of candidate.workerPids) assert.ok(isRunning(pid), `worker ${pid} is not running`);

        for (let i = 0; i < REQUESTS; i++) assert.deepEqual(await request(candidate.port), HTTP_RESPONSE);
        const counts = await candidate.counts();
        assert.equal(counts.length, workers);
        // Every connection was relayed by a worker: a root that accepted one would leave it unanswered.
        assert.equal(
          counts.reduce((a, b) => a + b, 0),
          REQUESTS,
        );
        // Round-robin hands sequential connections to the workers in turn; the other modes promise no order.
        if (mode === 'cluster-rr')
          assert.ok(
            counts.every((count) => count > 0),
            `counts ${counts}`,
          );
      } finally {
        await candidate.stop();
      }
      for (const pid of [candidate.pid, ...candidate.workerPids]) {
        assert.ok(await processGone(pid), `process ${pid} still runs after stop`);
      }
    });
  }
});
