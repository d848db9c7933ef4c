/** One `sniRoutes` entry: a server name (exact, or `*.` and one label) and the group it goes to. */
export interface SniRoute {
  serverName: string;
  group: string;
}

/**
 * A TLS passthrough listener's routing table: a server name to a group, by exact name first, then
 * by a `*.` wildcard covering exactly one label (`*.example.com` takes `a.example.com`, neither
 * `example.com` nor `a.b.example.com`, as certificates' wildcards do), then the default group.
 * Names compare case-insensitively (DNS names do); the ClientHello reader gives them lower-cased.
 */
export class SniRoutes {
  /** The routes as configured, for the listener's picture. */
  readonly routes: readonly SniRoute[];
  /** Where a client without a server name, or with one no route names, goes; undefined: refused. */
  readonly defaultGroup: string | undefined;
  readonly #exact = new Map<string, string>();
  // keyed by what follows the `*.`, so a lookup is one string cut and one map probe
  readonly #wildcard = new Map<string, string>();

  constructor(routes: readonly SniRoute[], defaultGroup?: string) {
    this.routes = routes;
    this.defaultGroup = defaultGroup;
    for (const r of routes) {
      const name = r.serverName.toLowerCase();
      if (name.startsWith('*.')) this.#wildcard.set(name.slice(2), r.group);
      else this.#exact.set(name, r.group);
    }
  }

  /** The group a lower-cased server name goes to, without the default; undefined when no route names it. */
  match(serverName: string): string | undefined {
    const exact = this.#exact.get(serverName);
    if (exact !== undefined) return exact;
    const dot = serverName.indexOf('.');
    if (dot <= 0) return undefined;
    return this.#wildcard.get(serverName.slice(dot + 1));
  }
}
