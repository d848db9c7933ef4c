/**
 * The primary's side of the workers: forks them, hands them the listening sockets the primary
 * holds (each worker accepts from them itself, rather than the primary accepting every connection
 * and passing it on), starts them with the configuration in force, asks them things, replaces one
 * that dies (with a back-off when it keeps dying), and replaces them all one by one on request.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { SwitchyardConfig } from '../config/types.js';
import type { Refusal } from '../control/dashboard/refusal-source.js';
import { BindError } from '../lib/bind-error.js';
import { ErrorCodes, SwitchyardError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import type { Transport } from '../proxy/socket-source.js';
import type {
  FromWorker,
  LimitReply,
  LimitRequest,
  ToWorker,
  UpstreamHealth,
  WireError,
  WorkerCommand,
} from './messages.js';
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
  /** The secret the workers derive their session-ticket keys from, as it is now. */
  ticketSecret(): Buffer;
  /** The listening socket a worker's listener asks for; throws with the system's code. */
  socketFor(listener: string, host: string, port: number, transport: Transport): Promise<object>;
  /** Decides the workers' per-client gates (see shared-limits.ts). */
  limits?: {
    take(key: string): number | Promise<number>;
    acquire(pid: number, key: string): Promise<boolean>;
    admit(pid: number, key: string): Promise<number>;
    release(pid: number, key: string): void;
    releaseAll(pid: number): void;
  };
  /** The dashboard's refusals per client, relayed by the workers while it watches. */
  refusals?: {
    readonly watching: boolean;
    deliver(refusals: readonly Refusal[], dropped: number): void;
  };
  /** Told when a worker that died is being replaced (metrics). */
  onRestart?: (slot: number) => void;
  /** Told when a worker process has exited, with its pid (its last figures become history). */
  onExit?: (pid: number) => void;
  /** How long a worker may take to answer a request, ms. */
  requestTimeoutMs?: number;
}

/** One worker's answer to a request sent to several. */
export type WorkerReply = { slot: number; pid: number; draining: boolean } & (
  | { ok: true; value: unknown }
  | { ok: false; error: WireError }
);

/** A worker process as the admin API shows it. */
export interface WorkerView {
  slot: number;
  pid: number | null;
  ready: boolean;
  /** Replaced by a rolling restart: accepts nothing, its sessions run to their end. */
  draining: boolean;
  startedAt: string | null;
  /** How often this slot's worker died and was replaced. */
  restarts: number;
  /** Its open sessions, when known. */
  sessions?: number;
}

/** A live worker process. */
interface Running {
  child: ChildProcess;
  slot: Slot;
  pid: number;
  startedAt: number;
  ready: boolean;
  draining: boolean;
  pending: Map<number, Pending>;
  /** Answers to its limit questions not sent yet (see #decide). */
  replies: LimitReply[];
}

/** A place for one worker: the one serving now, and how its deaths went. */
interface Slot {
  id: number;
  current: Running | undefined;
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
// A worker told to stop gets its grace, then this much more before it is killed.
const STOP_MARGIN_MS = 5000;
/**
 * The slot whose worker reads the UDP sockets. While it is replaced (a crash's back-off, a rolling
 * restart) the socket stays bound in the primary and datagrams wait in its receive buffer.
 */
const DATAGRAM_SLOT = 1;

/** N data-plane workers and the requests in flight to them. */
export class WorkerPool {
  readonly #options: WorkerPoolOptions;
  readonly #slots: Slot[] = [];
  readonly #running = new Set<Running>();
  #nextId = 1;
  #stopping = false;
  #rolling: Promise<number> | undefined;

  constructor(options: WorkerPoolOptions) {
    this.#options = options;
    for (let id = 1; id <= options.count; id++) {
      this.#slots.push({
        id,
        current: undefined,
        restarts: 0,
        backoff: new RestartBackoff(),
        timer: undefined,
      });
    }
  }

  /** Starts every worker; rejects with the first one's start error (and stops the others). */
  async start(): Promise<void> {
    try {
      await Promise.all(this.#slots.map((slot) => this.#startIn(slot)));
    } catch (err) {
      await this.stop(0);
      throw err;
    }
  }

  /**
   * Sends `command` to every ready worker (with `draining`, also to those a rolling restart is
   * retiring, whose sessions still count) and waits for every answer or its failure.
   */
  async broadcast(command: WorkerCommand, options: { draining?: boolean } = {}): Promise<WorkerReply[]> {
    const asked = [...this.#running].filter((r) => r.ready && (options.draining === true || !r.draining));
    return Promise.all(
      asked.map(async (r): Promise<WorkerReply> => {
        const who = { slot: r.slot.id, pid: r.pid, draining: r.draining };
        try {
          return { ...who, ok: true, value: await this.#request(r, command) };
        } catch (err) {
          const e = err as SwitchyardError;
          return {
            ...who,
            ok: false,
            error: { code: e.code ?? ErrorCodes.ERR_INTERNAL, message: e.message },
          };
        }
      }),
    );
  }

  /** Sends health results to every worker (no answer awaited: a restarted worker gets them all at start). */
  sendHealth(states: UpstreamHealth[]): void {
    for (const r of this.#running) if (r.ready) this.#send(r, { type: 'health', states });
  }

  /** Gives every worker a new session-ticket secret (a worker started later gets it at start). */
  sendTicketSecret(secret: Buffer): void {
    const encoded = secret.toString('base64');
    for (const r of this.#running) if (r.ready) this.#send(r, { type: 'ticket-secret', secret: encoded });
  }

  /** Tells every worker to relay its refusals per client (a dashboard is open), or to stop. */
  watchRefusals(on: boolean): void {
    for (const r of this.#running) if (r.ready) this.#send(r, { type: 'watch-refusals', on });
  }

  /** Sends `signal` to every live worker. */
  signal(signal: NodeJS.Signals): void {
    for (const r of this.#running) r.child.kill(signal);
  }

  /** Every worker process, by slot, as the admin API shows it (a slot between workers shows none). */
  views(): WorkerView[] {
    const views: WorkerView[] = [];
    for (const slot of this.#slots) {
      const processes = [...this.#running].filter((r) => r.slot === slot);
      if (processes.length === 0) {
        views.push({
          slot: slot.id,
          pid: null,
          ready: false,
          draining: false,
          startedAt: null,
          restarts: slot.restarts,
        });
      }
      for (const r of processes) {
        views.push({
          slot: slot.id,
          pid: r.pid,
          ready: r.ready,
          draining: r.draining,
          startedAt: r.ready ? new Date(r.startedAt).toISOString() : null,
          restarts: slot.restarts,
        });
      }
    }
    return views;
  }

  /**
   * Replaces every worker, one slot at a time: a new worker starts and takes the shared sockets,
   * then the old one stops accepting and drains within `graceMs` while the next slot is replaced.
   * Resolves with the number replaced once every new worker serves; a new worker that cannot
   * start stops the restart there (the old one keeps serving) and rejects. Calls while one runs
   * share it.
   */
  rollingRestart(graceMs: number): Promise<number> {
    this.#rolling ??= this.#roll(graceMs).finally(() => {
      this.#rolling = undefined;
    });
    return this.#rolling;
  }

  /** Asks every worker to drain within `graceMs` and exit; resolves when all have exited. */
  async stop(graceMs: number): Promise<void> {
    this.#stopping = true;
    for (const slot of this.#slots) if (slot.timer !== undefined) clearTimeout(slot.timer);
    await Promise.all([...this.#running].map((r) => this.#retire(r, graceMs)));
  }

  async #roll(graceMs: number): Promise<number> {
    let replaced = 0;
    for (const slot of this.#slots) {
      if (this.#stopping) break;
      const old = slot.current;
      await this.#startIn(slot);
      replaced++;
      if (old !== undefined) void this.#retire(old, graceMs);
    }
    return replaced;
  }

  /** Tells a worker to drain and exit; resolves once it has exited (killed past its grace). */
  #retire(r: Running, graceMs: number): Promise<void> {
    r.draining = true;
    if (r.slot.current === r) r.slot.current = undefined;
    if (!alive(r.child)) return Promise.resolve();
    const exited = new Promise<void>((resolve) => r.child.once('exit', () => resolve()));
    this.#send(r, { type: 'stop', graceMs });
    setTimeout(() => alive(r.child) && r.child.kill('SIGKILL'), graceMs + STOP_MARGIN_MS).unref();
    return exited;
  }

  /** Starts a worker for `slot`; it becomes the slot's worker once it serves. */
  #startIn(slot: Slot): Promise<void> {
    // The worker is this package's worker entry under the same Node and flags; its output goes
    // where the primary's goes (the access log lines included), its messages come over IPC.
    const child = fork(WORKER_ENTRY, [], {
      env: { ...process.env, SWITCHYARD_WORKER: String(slot.id) },
      serialization: 'json',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const r: Running = {
      child,
      slot,
      pid: child.pid ?? 0,
      startedAt: Date.now(),
      ready: false,
      draining: false,
      pending: new Map(),
      replies: [],
    };
    this.#running.add(r);
    // A message to a worker that is exiting fails with EPIPE or a closed channel: the exit is
    // handled where it is seen ('exit'), and the failed send must not take the primary down.
    child.on('error', (err) =>
      this.#options.logger.debug({ worker: slot.id, err: String(err) }, 'worker channel error'),
    );
    return new Promise<void>((resolve, reject) => {
      child.on('message', (message: FromWorker) => {
        switch (message.type) {
          case 'limits':
            for (const request of message.requests) void this.#decide(r, request);
            break;
          case 'socket-request':
            void this.#giveSocket(r, message);
            break;
          case 'listening-for-commands':
            this.#send(r, {
              type: 'start',
              config: this.#options.config(),
              health: this.#options.health(),
              ticketSecret: this.#options.ticketSecret().toString('base64'),
            });
            break;
          case 'ready':
            r.ready = true;
            slot.current = r;
            if (this.#options.refusals?.watching === true)
              this.#send(r, { type: 'watch-refusals', on: true });
            this.#options.logger.info({ worker: slot.id, workerPid: r.pid }, 'worker started');
            resolve();
            break;
          case 'refusals':
            this.#options.refusals?.deliver(message.refusals, message.dropped);
            break;
          case 'start-failed':
            reject(startError(message.error));
            break;
          case 'reply':
            this.#settle(r, message);
            break;
        }
      });
      child.once('exit', (code, signal) => {
        this.#exited(r, code, signal);
        if (!r.ready) {
          reject(
            new SwitchyardError(
              ErrorCodes.ERR_INTERNAL,
              `worker ${slot.id} exited while starting (code ${code}, signal ${signal})`,
            ),
          );
        }
      });
    });
  }

  #exited(r: Running, code: number | null, signal: string | null): void {
    this.#running.delete(r);
    for (const p of r.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new SwitchyardError(ErrorCodes.ERR_INTERNAL, `worker ${r.slot.id} exited before answering`));
    }
    r.pending.clear();
    this.#options.limits?.releaseAll(r.pid);
    this.#options.onExit?.(r.pid);
    const slot = r.slot;
    // Asked to go (a shutdown, a rolling restart), or a new worker that failed to start while the
    // old one still serves: nothing to replace.
    if (this.#stopping || r.draining || !r.ready || slot.current !== r) return;
    slot.current = undefined;
    const ranMs = Date.now() - r.startedAt;
    const delayMs = slot.backoff.delayAfter(ranMs);
    this.#options.logger.error(
      { worker: slot.id, workerPid: r.pid, code, signal, ranMs, restartInMs: delayMs },
      'worker exited; replacing it',
    );
    slot.restarts++;
    this.#options.onRestart?.(slot.id);
    this.#replaceLater(slot, delayMs);
  }

  /** Starts a new worker in `slot` after `delayMs`; one that cannot start is tried again, later each time. */
  #replaceLater(slot: Slot, delayMs: number): void {
    slot.timer = setTimeout(() => {
      slot.timer = undefined;
      if (this.#stopping || slot.current !== undefined) return;
      const started = Date.now();
      this.#startIn(slot).catch((err: unknown) => {
        if (this.#stopping || slot.current !== undefined) return;
        const retryInMs = slot.backoff.delayAfter(Date.now() - started);
        this.#options.logger.error(
          { worker: slot.id, error: (err as Error).message, retryInMs },
          'worker could not start',
        );
        this.#replaceLater(slot, retryInMs);
      });
    }, delayMs);
  }

  #request(r: Running, command: WorkerCommand): Promise<unknown> {
    const id = this.#nextId++;
    const timeoutMs = this.#options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        r.pending.delete(id);
        reject(
          new SwitchyardError(
            ErrorCodes.ERR_INTERNAL,
            `worker did not answer "${command.kind}" within ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      r.pending.set(id, { resolve, reject, timer });
      this.#send(r, { type: 'request', id, command });
    });
  }

  #settle(r: Running, reply: Extract<FromWorker, { type: 'reply' }>): void {
    const p = r.pending.get(reply.id);
    if (p === undefined) return;
    r.pending.delete(reply.id);
    clearTimeout(p.timer);
    if (reply.ok) p.resolve(reply.value);
    else
      p.reject(new SwitchyardError(reply.error.code as typeof ErrorCodes.ERR_INTERNAL, reply.error.message));
  }

  async #decide(r: Running, m: LimitRequest): Promise<void> {
    const limits = this.#options.limits;
    if (m.op === 'release') {
      limits?.release(r.pid, m.key);
      return;
    }
    let value: number | boolean;
    try {
      if (m.op === 'take') value = limits === undefined ? 0 : await limits.take(m.key);
      else if (m.op === 'admit') value = limits === undefined ? 0 : await limits.admit(r.pid, m.key);
      else value = limits === undefined ? true : await limits.acquire(r.pid, m.key);
    } catch {
      // A gate that cannot decide lets the connection in, as in one process.
      value = m.op === 'acquire' ? true : 0;
    }
    if (r.replies.length === 0) setImmediate(() => this.#flushReplies(r));
    r.replies.push({ id: m.id, value });
  }

  /** The answers of one turn of this event loop to one worker, in one message. */
  #flushReplies(r: Running): void {
    const replies = r.replies;
    r.replies = [];
    this.#send(r, { type: 'limit-replies', replies });
  }

  async #giveSocket(r: Running, m: Extract<FromWorker, { type: 'socket-request' }>): Promise<void> {
    let handle: object;
    try {
      // One worker reads each UDP socket (see SocketSource.datagramHandle): the first slot's.
      if (m.transport === 'udp' && r.slot.id !== DATAGRAM_SLOT) {
        this.#send(r, { type: 'socket-reply', id: m.id, ok: true, elsewhere: true });
        return;
      }
      handle = await this.#options.socketFor(m.listener, m.host, m.port, m.transport);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const error = { code: ErrorCodes.ERR_BIND_FAILED, message: e.message, errno: e.code };
      this.#send(r, { type: 'socket-reply', id: m.id, ok: false, error });
      return;
    }
    if (r.child.connected)
      r.child.send({ type: 'socket-reply', id: m.id, ok: true } satisfies ToWorker, handle as never);
  }

  #send(r: Running, message: ToWorker): void {
    if (r.child.connected) r.child.send(message);
  }
}

function alive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** A worker's start failure as an error of this process; a bind failure stays a BindError. */
function startError(e: WireError): Error {
  if (e.bind === undefined) return new SwitchyardError(e.code as typeof ErrorCodes.ERR_INTERNAL, e.message);
  const cause = Object.assign(new Error(e.message), { code: e.bind.errno });
  const subject = e.bind.listener === undefined ? 'admin API' : `listener "${e.bind.listener}"`;
  return new BindError(subject, e.bind.listener, e.bind.address, cause);
}
