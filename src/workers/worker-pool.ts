/**
 * The primary's side of the workers: forks them, hands them the listening sockets the primary
 * holds (each worker accepts from them itself, rather than the primary accepting every connection
 * and passing it on), starts them with the configuration in force, asks them things, and replaces
 * one that dies, with a back-off when it keeps dying.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { SwitchyardConfig } from '../config/types.js';
import { ErrorCodes, SwitchyardError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import type { FromWorker, ToWorker, UpstreamHealth, WireError, WorkerCommand } from './messages.js';
import { RestartBackoff } from './restart-backoff.js';

const WORKER_ENTRY = fileURLToPath(new URL('./worker-main.js', import.meta.url));

/** What the pool needs of the primary. */
export interface WorkerPoolOptions {
  count: number;
  logger: Logger;
  /** The configuration a (re)started worker gets: the one in force. */
  config(): SwitchyardConfig;
  /** The active checks' results a (re)started worker gets. */
  health(): UpstreamHealth[];
  /** The secret the workers derive their session-ticket keys from. */
  ticketSecret: Buffer;
  /** Told when a worker that died is being replaced (metrics). */
  onRestart?: (slot: number) => void;
  /** The listening socket a worker's listener asks for; throws with the system's code. */
  socketFor(listener: string, host: string, port: number): object;
  /** Told when a worker exits, with its slot (its last figures become history). */
  onExit?: (slot: number) => void;
  /** How long a worker may take to answer a request, ms. */
  requestTimeoutMs?: number;
}

/** One worker's answer to a request sent to all. */
export type WorkerReply =
  | { slot: number; pid: number; ok: true; value: unknown }
  | { slot: number; pid: number; ok: false; error: WireError };

/** A worker as the admin API shows it. */
export interface WorkerView {
  slot: number;
  pid: number | null;
  ready: boolean;
  startedAt: string | null;
  restarts: number;
  /** Its open sessions, when known. */
  sessions?: number;
}

/** A worker process. */
type Worker = ChildProcess;

interface Slot {
  id: number;
  worker: Worker | undefined;
  ready: boolean;
  startedAt: number;
  restarts: number;
  backoff: RestartBackoff;
  timer: NodeJS.Timeout | undefined;
}

interface Pending {
  resolve(value: unknown): void;
  reject(err: SwitchyardError): void;
  timer: NodeJS.Timeout;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/** N data-plane workers and the requests in flight to them. */
export class WorkerPool {
  readonly #options: WorkerPoolOptions;
  readonly #slots: Slot[] = [];
  readonly #pending = new Map<Worker, Map<number, Pending>>();
  #nextId = 1;
  #stopping = false;

  constructor(options: WorkerPoolOptions) {
    this.#options = options;
    for (let i = 1; i <= options.count; i++) {
      this.#slots.push({
        id: i,
        worker: undefined,
        ready: false,
        startedAt: 0,
        restarts: 0,
        backoff: new RestartBackoff(),
        timer: undefined,
      });
    }
  }

  /** Starts every worker; rejects with the first one's start error (and stops the others). */
  async start(): Promise<void> {
    try {
      await Promise.all(this.#slots.map((slot) => this.#fork(slot)));
    } catch (err) {
      await this.stop(0);
      throw err;
    }
  }

  /** Sends `command` to every ready worker and waits for every answer (or its failure). */
  async broadcast(command: WorkerCommand): Promise<WorkerReply[]> {
    const ready = this.#slots.filter((s) => s.ready && s.worker !== undefined);
    return Promise.all(
      ready.map(async (slot): Promise<WorkerReply> => {
        const worker = slot.worker!;
        const pid = worker.pid ?? 0;
        try {
          return { slot: slot.id, pid, ok: true, value: await this.#request(worker, command) };
        } catch (err) {
          const e = err as SwitchyardError;
          return {
            slot: slot.id,
            pid,
            ok: false,
            error: { code: e.code ?? ErrorCodes.ERR_INTERNAL, message: e.message },
          };
        }
      }),
    );
  }

  /** Sends health results to every worker (no answer awaited: the next sync repeats them). */
  sendHealth(states: UpstreamHealth[]): void {
    for (const slot of this.#slots) if (slot.ready) this.#send(slot.worker, { type: 'health', states });
  }

  /** The workers as the admin API shows them. */
  views(): WorkerView[] {
    return this.#slots.map((s) => ({
      slot: s.id,
      pid: s.worker?.pid ?? null,
      ready: s.ready,
      startedAt: s.ready ? new Date(s.startedAt).toISOString() : null,
      restarts: s.restarts,
    }));
  }

  /** Sends `signal` to every live worker. */
  signal(signal: NodeJS.Signals): void {
    for (const slot of this.#slots)
      if (slot.worker !== undefined && alive(slot.worker)) slot.worker.kill(signal);
  }

  /** Asks every worker to drain within `graceMs` and exit; resolves when all have exited. */
  async stop(graceMs: number): Promise<void> {
    this.#stopping = true;
    const exits: Promise<void>[] = [];
    for (const slot of this.#slots) {
      if (slot.timer !== undefined) clearTimeout(slot.timer);
      const worker = slot.worker;
      if (worker === undefined || !alive(worker)) continue;
      exits.push(new Promise((resolve) => worker.once('exit', () => resolve())));
      this.#send(worker, { type: 'stop', graceMs });
      // A worker that does not go in its grace (and a margin) is killed.
      setTimeout(() => alive(worker) && worker.kill('SIGKILL'), graceMs + 5000).unref();
    }
    await Promise.all(exits);
  }

  #fork(slot: Slot): Promise<void> {
    // Each worker is this package's worker entry under the same Node and flags; its output goes
    // where the primary's goes (the access log lines included), its messages come over IPC.
    const worker = fork(WORKER_ENTRY, [], {
      env: { ...process.env, SWITCHYARD_WORKER: String(slot.id) },
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    slot.worker = worker;
    slot.ready = false;
    slot.startedAt = Date.now();
    this.#pending.set(worker, new Map());
    return new Promise<void>((resolve, reject) => {
      let started = false;
      worker.on('message', (message: FromWorker) => {
        if (message.type === 'socket-request') {
          this.#giveSocket(worker, message);
        } else if (message.type === 'listening-for-commands') {
          this.#send(worker, {
            type: 'start',
            config: this.#options.config(),
            health: this.#options.health(),
            ticketSecret: this.#options.ticketSecret,
          });
        } else if (message.type === 'ready') {
          started = true;
          slot.ready = true;
          this.#options.logger.info({ worker: slot.id, workerPid: worker.pid }, 'worker started');
          resolve();
        } else if (message.type === 'start-failed') {
          reject(
            new SwitchyardError(message.error.code as typeof ErrorCodes.ERR_INTERNAL, message.error.message),
          );
        } else if (message.type === 'reply') {
          this.#settle(worker, message);
        }
      });
      worker.once('exit', (code, signal) => {
        this.#exited(slot, worker, code, signal);
        if (!started)
          reject(
            new SwitchyardError(
              ErrorCodes.ERR_INTERNAL,
              `worker ${slot.id} exited while starting (code ${code}, signal ${signal})`,
            ),
          );
      });
    });
  }

  #exited(slot: Slot, worker: Worker, code: number | null, signal: string | null): void {
    const pending = this.#pending.get(worker);
    this.#pending.delete(worker);
    for (const p of pending?.values() ?? []) {
      clearTimeout(p.timer);
      p.reject(new SwitchyardError(ErrorCodes.ERR_INTERNAL, `worker ${slot.id} exited before answering`));
    }
    const wasReady = slot.ready;
    slot.ready = false;
    if (slot.worker === worker) slot.worker = undefined;
    this.#options.onExit?.(slot.id);
    if (this.#stopping) return;
    const ranMs = Date.now() - slot.startedAt;
    const delayMs = slot.backoff.delayAfter(ranMs);
    this.#options.logger.error(
      { worker: slot.id, workerPid: worker.pid, code, signal, ranMs, restartInMs: delayMs, wasReady },
      'worker exited; replacing it',
    );
    slot.restarts++;
    this.#options.onRestart?.(slot.id);
    slot.timer = setTimeout(() => {
      slot.timer = undefined;
      if (this.#stopping) return;
      // A replacement that cannot start exits, and comes back here with a longer delay.
      this.#fork(slot).catch((err: unknown) =>
        this.#options.logger.error(
          { worker: slot.id, error: (err as Error).message },
          'worker could not start',
        ),
      );
    }, delayMs);
  }

  #request(worker: Worker, command: WorkerCommand): Promise<unknown> {
    const pending = this.#pending.get(worker);
    if (pending === undefined)
      return Promise.reject(new SwitchyardError(ErrorCodes.ERR_INTERNAL, 'worker is gone'));
    const id = this.#nextId++;
    const timeoutMs = this.#options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(
          new SwitchyardError(
            ErrorCodes.ERR_INTERNAL,
            `worker did not answer "${command.kind}" within ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      pending.set(id, { resolve, reject, timer });
      this.#send(worker, { type: 'request', id, command });
    });
  }

  #settle(worker: Worker, reply: Extract<FromWorker, { type: 'reply' }>): void {
    const pending = this.#pending.get(worker);
    const p = pending?.get(reply.id);
    if (p === undefined) return;
    pending!.delete(reply.id);
    clearTimeout(p.timer);
    if (reply.ok) p.resolve(reply.value);
    else
      p.reject(new SwitchyardError(reply.error.code as typeof ErrorCodes.ERR_INTERNAL, reply.error.message));
  }

  #giveSocket(worker: Worker, m: Extract<FromWorker, { type: 'socket-request' }>): void {
    let handle: object;
    try {
      handle = this.#options.socketFor(m.listener, m.host, m.port);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const error = { code: ErrorCodes.ERR_BIND_FAILED, message: e.message, errno: e.code };
      this.#send(worker, { type: 'socket-reply', id: m.id, ok: false, error });
      return;
    }
    if (worker.connected)
      worker.send({ type: 'socket-reply', id: m.id, ok: true } satisfies ToWorker, handle as never);
  }

  #send(worker: Worker | undefined, message: ToWorker): void {
    if (worker?.connected) worker.send(message);
  }
}

function alive(worker: Worker): boolean {
  return worker.exitCode === null && worker.signalCode === null;
}
