import type { ListenerConfig } from '../../config/types.js';
import type {
  ListenerRuntime,
  TcpListenerRuntime,
  TlsListenerRuntime,
  TlsPassthroughListenerRuntime,
  UdpListenerRuntime,
} from '../../proxy/runtime.js';

/** The part of a listener's runtime that only its kind has. */
export type KindRuntime =
  | TlsListenerRuntime
  | TcpListenerRuntime
  | TlsPassthroughListenerRuntime
  | UdpListenerRuntime;

/** The parts of a `check` summary line every kind shows, already worded. */
export interface SummaryParts {
  /** `max 100 connections`. */
  limits: string;
  /** `, allow 10.0.0.0/8` and `, deny ...`, or empty. */
  rules: string;
  /** The rules, then the PROXY protocol in and out, or empty. */
  rulesAndProxy: string;
}

/** Why a listener's files, as read, make no usable listener. */
export interface ListenerFilesProblem {
  /** Key below the listener (`['tls', 'key']`); empty for the listener as a whole. */
  key: string[];
  message: string;
}

/**
 * What the runtime and `check` do differently by listener kind, on the configuration's side: build
 * the kind's runtime, judge the files it reads, read them anew when they change, and describe it.
 * The proxy's side of a kind is `proxy/kinds/`; the config's shape of it is the listener schema.
 * A new kind is one module implementing this and one line in `registry.ts`.
 */
export interface ListenerSetup<C extends ListenerConfig = ListenerConfig> {
  /** The kind's name, the `kind` of its configs and runtimes. */
  readonly kind: C['kind'];
  /** Which sockets the kind binds: a TCP and a UDP socket never hold each other's address up. */
  readonly transport: 'tcp' | 'udp';
  /** The kind's part of the runtime; `at` is the listener's key path for errors (`listeners[2]`). */
  build(l: C, at: string, groups: ReadonlySet<string>): Promise<KindRuntime>;
  /** Why the listener's files (texts by key, `tls.cert`) make no usable listener, or undefined. */
  filesProblem?(l: C, texts: ReadonlyMap<string, string>): ListenerFilesProblem | undefined;
  /**
   * The runtime with the listener's files read anew after they changed on disk, or undefined when
   * what they hold is unchanged; throws when they cannot be used (the running ones stay).
   */
  reloadFiles?(l: C, at: string, running: ListenerRuntime): Promise<ListenerRuntime | undefined>;
  /**
   * `fresh`, but keeping what `running` loaded from files when it is the same, so a reload that
   * does not touch a certificate keeps its contexts (and session ticket keys).
   */
  keepLoaded?(running: ListenerRuntime, fresh: ListenerRuntime): ListenerRuntime;
  /** What `check` shows after the listener's name and address; each further string is a line of its own. */
  summary(l: C, parts: SummaryParts, show: (path: string) => string): string[];
}
