/** The body of `GET /api/status`, which the dashboard's stream also carries every second. */
import type { ProxySnapshot } from '../proxy/snapshot.js';
import {
  type GroupView,
  groupView,
  type HealthStatusFn,
  type ListenerView,
  listenerView,
} from './admin-views.js';
import type { LastReload, ServerHistory } from './server-history.js';

/** The balancer at a glance. */
export interface StatusView {
  /** Package version. */
  version: string;
  /** Seconds since start. */
  uptime: number;
  /** The last reload, or null when there was none. */
  lastReload: LastReload | null;
  listeners: ListenerView[];
  groups: GroupView[];
  /** Sessions open. */
  sessions: number;
  stopping: boolean;
  /** Whether a per-client rate limit and a concurrency cap are in force. */
  limits: ProxySnapshot['limits'];
  /** The worker processes, when there are several. */
  workers?: unknown[];
}

/** What {@link statusView} reads besides the snapshot. */
export interface StatusParts {
  history: ServerHistory;
  healthStatus?: HealthStatusFn;
  workers?: () => unknown[];
}

/** The status of the balancer whose picture is `snapshot`. */
export function statusView(snapshot: ProxySnapshot, parts: StatusParts): StatusView {
  const { history } = parts;
  return {
    version: history.version,
    uptime: history.uptimeSeconds(),
    lastReload: history.lastReload(),
    listeners: snapshot.listeners.map(listenerView),
    groups: snapshot.groups.map((g) => groupView(g, parts.healthStatus)),
    sessions: snapshot.sessionCount,
    stopping: snapshot.stopping,
    limits: snapshot.limits,
    ...(parts.workers === undefined ? {} : { workers: parts.workers() }),
  };
}
