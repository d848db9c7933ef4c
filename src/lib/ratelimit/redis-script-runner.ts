import { createHash } from 'node:crypto';
import { ErrorCodes, SwitchyardError } from '../errors.js';
import type { CommandDeadlines } from './command-deadlines.js';
import type { RedisLimitClient } from './redis-limit-options.js';

/** A Lua script and its SHA-1, the name EVALSHA runs it by. */
export interface RedisScript {
  readonly name: string;
  readonly source: string;
  readonly sha: string;
}

/** Names a Lua script; its SHA-1 is computed here, as Redis computes it on SCRIPT LOAD. */
export function redisScript(name: string, source: string): RedisScript {
  return { name, source, sha: createHash('sha1').update(source).digest('hex') };
}

/**
 * Runs scripts by EVALSHA under a shared command timeout. The SHA is known without asking Redis,
 * so the first run goes straight to EVALSHA; a `NOSCRIPT` answer (first use, a restarted Redis, a
 * `SCRIPT FLUSH`) loads the script with SCRIPT LOAD and retries once. Failures come out as
 * `SwitchyardError`: `ERR_STORE_TIMEOUT` when no answer came in time, `ERR_STORE_UNAVAILABLE`
 * (the client's error as `cause`) for everything else.
 */
export class RedisScriptRunner {
  readonly #client: RedisLimitClient;
  readonly #deadlines: CommandDeadlines;

  constructor(client: RedisLimitClient, deadlines: CommandDeadlines) {
    this.#client = client;
    this.#deadlines = deadlines;
  }

  /** The script's reply to `keys` and `args`. */
  run(script: RedisScript, keys: readonly string[], args: readonly string[]): Promise<unknown> {
    return this.#deadlines.run(script.name, () => this.#evalSha(script, keys, args));
  }

  /** Any other command, under the same timeout and with the same errors. */
  command(what: string, args: readonly string[]): Promise<unknown> {
    return this.#deadlines.run(what, () => this.#send(args));
  }

  async #evalSha(script: RedisScript, keys: readonly string[], args: readonly string[]): Promise<unknown> {
    const command = ['EVALSHA', script.sha, String(keys.length), ...keys, ...args];
    try {
      return await this.#client.sendCommand(command);
    } catch (err) {
      if (!(err instanceof Error && err.message.startsWith('NOSCRIPT'))) throw unavailable(err);
    }
    await this.#send(['SCRIPT', 'LOAD', script.source]);
    return this.#send(command);
  }

  async #send(args: readonly string[]): Promise<unknown> {
    try {
      return await this.#client.sendCommand(args);
    } catch (err) {
      throw unavailable(err);
    }
  }
}

function unavailable(err: unknown): SwitchyardError {
  if (err instanceof SwitchyardError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new SwitchyardError(ErrorCodes.ERR_STORE_UNAVAILABLE, `Redis: ${message}`, { cause: err });
}
