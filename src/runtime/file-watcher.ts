import { type StatWatcher, unwatchFile, watchFile } from 'node:fs';
import { HEALTH_TLS_FILE_KEYS, healthTlsBlocks } from '../config/health-check.js';
import { listenerFiles } from '../config/listener-files.js';
import { UPSTREAM_TLS_FILE_KEYS } from '../config/schema-upstream-tls.js';
import type { SwitchyardConfig } from '../config/types.js';

/** What a change of a watched file sets off. */
export interface FileChangeHandlers {
  /** The configuration file changed. */
  config(): void;
  /** A certificate, key, CA or CRL file of listener `name` changed. */
  listener(name: string): void;
  /** A file named by a health check's `tls` block changed. */
  health(): void;
  /** A file named by a group's `upstreamTls` changed. */
  upstreamTls(): void;
}

/**
 * Polls the files a configuration names (certificates, health-check and upstream TLS files, and the
 * configuration file itself when `reload.watchConfig` is on) and tells the handlers what changed.
 */
export class FileWatcher {
  readonly #handlers: FileChangeHandlers;
  readonly #watched = new Map<string, StatWatcher>();

  constructor(handlers: FileChangeHandlers) {
    this.#handlers = handlers;
  }

  /** Watches what `config` asks for, and stops watching what it no longer names. */
  update(config: SwitchyardConfig, configPath: string | undefined): void {
    // Several listeners may share one certificate file: a change reloads every one of them.
    const wanted = new Map<string, Set<string>>();
    const healthPaths = new Set<string>();
    const upstreamTlsPaths = new Set<string>();
    if (config.reload.watchCertificates) {
      for (const l of config.listeners) {
        for (const { path } of listenerFiles(l)) {
          const names = wanted.get(path) ?? new Set<string>();
          names.add(l.name);
          wanted.set(path, names);
        }
      }
      for (const g of Object.values(config.groups)) {
        for (const key of UPSTREAM_TLS_FILE_KEYS) {
          const path = g.upstreamTls?.[key];
          if (path === undefined) continue;
          upstreamTlsPaths.add(path);
          if (!wanted.has(path)) wanted.set(path, new Set());
        }
      }
      for (const { tls } of healthTlsBlocks(config)) {
        for (const key of HEALTH_TLS_FILE_KEYS) {
          const path = tls[key];
          if (path === undefined) continue;
          healthPaths.add(path);
          if (!wanted.has(path)) wanted.set(path, new Set());
        }
      }
    }
    const watchConfig = config.reload.watchConfig && configPath !== undefined;
    if (watchConfig && !wanted.has(configPath)) wanted.set(configPath, new Set());
    for (const path of [...this.#watched.keys()]) {
      if (wanted.has(path)) continue;
      unwatchFile(path);
      this.#watched.delete(path);
    }
    const handlers = this.#handlers;
    for (const [path, listeners] of wanted) {
      if (this.#watched.has(path)) unwatchFile(path);
      const onChange =
        watchConfig && path === configPath
          ? () => handlers.config()
          : () => {
              for (const name of listeners) handlers.listener(name);
              if (healthPaths.has(path)) handlers.health();
              if (upstreamTlsPaths.has(path)) handlers.upstreamTls();
            };
      // Stat polling sees both in-place writes and atomic renames, which inotify on the file would not.
      const watcher = watchFile(
        path,
        { interval: config.reload.interval, persistent: false },
        (curr, prev) => {
          if (curr.mtimeMs !== prev.mtimeMs || curr.ino !== prev.ino || curr.size !== prev.size) onChange();
        },
      );
      this.#watched.set(path, watcher);
    }
  }

  /** Stops watching every file. */
  stop(): void {
    for (const path of this.#watched.keys()) unwatchFile(path);
    this.#watched.clear();
  }
}
