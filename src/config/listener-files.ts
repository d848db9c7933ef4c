/**
 * The files a listener reads, by kind: the one place that knows which listener keys are paths. The
 * loader resolves them against the configuration file's directory, `check` reads them, and the
 * file watcher polls them; a kind with files of its own adds them here and nowhere else.
 */
import type { ListenerConfig, TlsConfig } from './types.js';

/** One file of a listener: its key below the listener (`['tls', 'cert']`) and its path. */
export interface ListenerFile {
  readonly key: readonly [string, string];
  readonly path: string;
}

const TLS_FILE_KEYS = ['cert', 'key', 'clientCa', 'crl'] as const satisfies readonly (keyof TlsConfig)[];

type FilesOf = { [K in ListenerConfig['kind']]: (l: Extract<ListenerConfig, { kind: K }>) => ListenerFile[] };

const none = (): ListenerFile[] => [];

const FILES: FilesOf = {
  tls: (l) =>
    TLS_FILE_KEYS.flatMap((key) => {
      const path = l.tls[key];
      return path === undefined ? [] : [{ key: ['tls', key] as const, path }];
    }),
  tcp: none,
  udp: none,
  'tls-passthrough': none,
};

/** The files listener `l` reads (certificate, key, client CA, CRL), in a fixed order. */
export function listenerFiles(l: ListenerConfig): ListenerFile[] {
  return (FILES[l.kind] as (l: ListenerConfig) => ListenerFile[])(l);
}

/** Replaces each file path of `l` with `map(path)`, in place (the loader makes them absolute). */
export function mapListenerFiles(l: ListenerConfig, map: (path: string) => string): void {
  for (const { key, path } of listenerFiles(l)) {
    const section = (l as unknown as Record<string, Record<string, string>>)[key[0]];
    section[key[1]] = map(path);
  }
}
