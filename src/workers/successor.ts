/**
 * The running primary's side of an upgrade: it starts its successor (the same command line, run
 * from the files on disk, so a new version installed in place is what starts), hands it every
 * listening socket it asks for, and, once the successor's workers serve, the admin API's socket.
 * Until then nothing changes here: a successor that fails leaves this balancer as it was.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { ErrorCodes, SwitchyardError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import type { ListeningSockets } from './listening-sockets.js';
import type { FromSuccessor, ToSuccessor } from './messages.js';

/** Tells `run` it is a successor and should take its sockets from its parent. */
export const TAKEOVER_FLAG = '--takeover';

/** How long a successor may take until its workers serve. */
const READY_TIMEOUT_MS = 60_000;
/** How long it may take to listen on the admin socket once handed over. */
const ADMIN_TIMEOUT_MS = 10_000;

/** A successor whose workers serve. */
export class Successor {
  readonly pid: number;
  readonly #child: ChildProcess;

  private constructor(child: ChildProcess) {
    this.#child = child;
    this.pid = child.pid ?? 0;
  }

  /**
   * Starts the successor and serves its socket requests; resolves once its workers serve, rejects
   * (and stops it) when it exits, fails or takes longer than a minute.
   */
  static start(sockets: ListeningSockets, logger: Logger): Promise<Successor> {
    const [script, ...args] = process.argv.slice(1);
    const command = [...process.execArgv, script, ...args.filter((a) => a !== TAKEOVER_FLAG), TAKEOVER_FLAG];
    // Its own session: it outlives this process, and a terminal's Ctrl-C meant for this one is not its.
    const child = spawn(process.execPath, command, {
      cwd: process.cwd(),
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'advanced',
      detached: true,
    });
    return new Promise((resolve, reject) => {
      const fail = (why: string) => {
        clearTimeout(timer);
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        reject(new SwitchyardError(ErrorCodes.ERR_UPGRADE_FAILED, why));
      };
      const timer = setTimeout(
        () => fail(`the new process did not serve within ${READY_TIMEOUT_MS} ms`),
        READY_TIMEOUT_MS,
      );
      child.once('exit', (code, signal) =>
        fail(
          `the new process exited while starting (code ${code}, signal ${signal}); it wrote why on standard error, which it shares with this one`,
        ),
      );
      child.once('error', (err) => fail(`the new process could not be started: ${err.message}`));
      // Later channel errors (the successor exiting while spoken to) are seen by its 'exit'.
      child.on('error', () => {});
      child.on('message', (m: FromSuccessor) => {
        if (m.type === 'takeover-socket') {
          const handle = sockets.known(m.listener, m.host, m.port, m.transport);
          const reply: ToSuccessor = { type: 'takeover-socket-reply', id: m.id, found: handle !== undefined };
          if (child.connected) child.send(reply, handle as never);
          logger.debug({ listener: m.listener, found: handle !== undefined }, 'upgrade: socket handed over');
        } else if (m.type === 'takeover-ready') {
          clearTimeout(timer);
          child.removeAllListeners('exit');
          resolve(new Successor(child));
        }
      });
    });
  }

  /**
   * Gives the successor the admin API's socket (or tells it there is none) and resolves once it
   * listens on it, so the API never stops answering; after a timeout, resolves anyway.
   */
  handOverAdmin(handle: object | undefined): Promise<void> {
    const child = this.#child;
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(done, ADMIN_TIMEOUT_MS);
      child.on('message', (m: FromSuccessor) => {
        if (m.type === 'takeover-admin-listening') done();
      });
      child.once('exit', done);
      const message: ToSuccessor = { type: 'takeover-admin', found: handle !== undefined };
      if (!child.connected) done();
      else child.send(message, handle as never);
    });
  }

  /** Lets the successor go its own way: this process may exit now without taking it along. */
  release(): void {
    this.#child.removeAllListeners('message');
    if (this.#child.connected) this.#child.disconnect();
    this.#child.unref();
  }
}
