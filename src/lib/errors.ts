/**
 * Every error and rejection reason Switchyard knows, with a stable code. Logs, metrics labels and
 * tests all use these strings, so they never change meaning once released.
 */
export const ErrorCodes = {
  // library
  ERR_INVALID_ARGUMENT: 'ERR_INVALID_ARGUMENT',
  ERR_INVALID_ADDRESS: 'ERR_INVALID_ADDRESS',
  ERR_UNKNOWN_BALANCER: 'ERR_UNKNOWN_BALANCER',
  ERR_UNKNOWN_RATE_LIMIT_ALGORITHM: 'ERR_UNKNOWN_RATE_LIMIT_ALGORITHM',
  ERR_UNKNOWN_UPSTREAM: 'ERR_UNKNOWN_UPSTREAM',
  ERR_DUPLICATE_UPSTREAM: 'ERR_DUPLICATE_UPSTREAM',
  ERR_NO_HEALTHY_UPSTREAM: 'ERR_NO_HEALTHY_UPSTREAM',
  // Released codes are never renamed (they are metrics labels alerts match), so the older
  // ERR_CONCURRENCY_LIMIT keeps its name beside ERR_RATE_LIMITED; new codes name the outcome.
  ERR_RATE_LIMITED: 'ERR_RATE_LIMITED',
  ERR_CONCURRENCY_LIMIT: 'ERR_CONCURRENCY_LIMIT',
  // not a refusal: logged when a limit store fails and the session is admitted anyway
  ERR_STORE_UNAVAILABLE: 'ERR_STORE_UNAVAILABLE',
  // a limit store (Redis) did not answer within its command timeout; the failure policy decided
  ERR_STORE_TIMEOUT: 'ERR_STORE_TIMEOUT',
  // health probes: one code per way a probe can fail (ProbeError.kind names the same reasons)
  ERR_PROBE_CONNECT: 'ERR_PROBE_CONNECT',
  ERR_PROBE_TIMEOUT: 'ERR_PROBE_TIMEOUT',
  ERR_PROBE_TLS: 'ERR_PROBE_TLS',
  ERR_PROBE_UNEXPECTED_RESPONSE: 'ERR_PROBE_UNEXPECTED_RESPONSE',
  ERR_PROBE_CLOSED: 'ERR_PROBE_CLOSED',
  ERR_PROBE_ABORTED: 'ERR_PROBE_ABORTED',
  ERR_PROBE_FAILED: 'ERR_PROBE_FAILED',
  // data plane: one code per way a session can be refused or end badly
  ERR_LISTENER_FULL: 'ERR_LISTENER_FULL',
  ERR_HANDSHAKE_RATE: 'ERR_HANDSHAKE_RATE',
  ERR_HANDSHAKE_BACKLOG: 'ERR_HANDSHAKE_BACKLOG',
  // listeners[].allow / deny refused the client's address
  ERR_ADDRESS_DENIED: 'ERR_ADDRESS_DENIED',
  // PROXY protocol in (listeners[].acceptProxyProtocol): one code per way the header can fail
  ERR_PROXY_UNTRUSTED: 'ERR_PROXY_UNTRUSTED',
  ERR_PROXY_HEADER_MISSING: 'ERR_PROXY_HEADER_MISSING',
  ERR_PROXY_HEADER_INVALID: 'ERR_PROXY_HEADER_INVALID',
  ERR_PROXY_HEADER_TOO_LARGE: 'ERR_PROXY_HEADER_TOO_LARGE',
  ERR_PROXY_HEADER_TIMEOUT: 'ERR_PROXY_HEADER_TIMEOUT',
  // TLS passthrough (listeners[].sniRoutes): one code per way reading the ClientHello or routing by it fails
  ERR_NOT_TLS: 'ERR_NOT_TLS',
  ERR_CLIENT_HELLO_INVALID: 'ERR_CLIENT_HELLO_INVALID',
  ERR_CLIENT_HELLO_TOO_LARGE: 'ERR_CLIENT_HELLO_TOO_LARGE',
  ERR_CLIENT_HELLO_TIMEOUT: 'ERR_CLIENT_HELLO_TIMEOUT',
  ERR_NO_SNI: 'ERR_NO_SNI',
  ERR_UNKNOWN_SNI: 'ERR_UNKNOWN_SNI',
  ERR_TLS_HANDSHAKE: 'ERR_TLS_HANDSHAKE',
  ERR_HANDSHAKE_TIMEOUT: 'ERR_HANDSHAKE_TIMEOUT',
  ERR_NO_CLIENT_CERT: 'ERR_NO_CLIENT_CERT',
  ERR_CERT_UNTRUSTED: 'ERR_CERT_UNTRUSTED',
  ERR_CERT_EXPIRED: 'ERR_CERT_EXPIRED',
  ERR_CERT_MISSING_CN: 'ERR_CERT_MISSING_CN',
  ERR_CERT_MISSING_ORG: 'ERR_CERT_MISSING_ORG',
  ERR_UNAUTHORIZED_ORG: 'ERR_UNAUTHORIZED_ORG',
  ERR_UPSTREAM_CONNECT: 'ERR_UPSTREAM_CONNECT',
  ERR_UPSTREAM_CONNECT_TIMEOUT: 'ERR_UPSTREAM_CONNECT_TIMEOUT',
  // TLS to upstreams (groups.<name>.upstreamTls): connect failures like ERR_UPSTREAM_CONNECT
  ERR_UPSTREAM_TLS_UNTRUSTED: 'ERR_UPSTREAM_TLS_UNTRUSTED',
  ERR_UPSTREAM_TLS_NAME: 'ERR_UPSTREAM_TLS_NAME',
  ERR_UPSTREAM_TLS_EXPIRED: 'ERR_UPSTREAM_TLS_EXPIRED',
  ERR_UPSTREAM_TLS_HANDSHAKE: 'ERR_UPSTREAM_TLS_HANDSHAKE',
  ERR_CLIENT_RESET: 'ERR_CLIENT_RESET',
  ERR_UPSTREAM_RESET: 'ERR_UPSTREAM_RESET',
  ERR_UPSTREAM_DOWN: 'ERR_UPSTREAM_DOWN',
  ERR_IDLE_TIMEOUT: 'ERR_IDLE_TIMEOUT',
  // UDP listeners: a new client's datagram dropped because the flow table is full; a datagram of a
  // flow still waiting for admission or its upstream socket dropped beyond the few kept
  ERR_FLOW_TABLE_FULL: 'ERR_FLOW_TABLE_FULL',
  ERR_FLOW_PENDING: 'ERR_FLOW_PENDING',
  ERR_MAX_LIFETIME: 'ERR_MAX_LIFETIME',
  ERR_SHUTDOWN: 'ERR_SHUTDOWN',
  // the proxy's own API: a listener name it does not know, or one it already has
  ERR_UNKNOWN_LISTENER: 'ERR_UNKNOWN_LISTENER',
  ERR_DUPLICATE_LISTENER: 'ERR_DUPLICATE_LISTENER',
  // configuration
  ERR_CONFIG_INVALID: 'ERR_CONFIG_INVALID',
  ERR_CONFIG_READ: 'ERR_CONFIG_READ',
  // a listener's or the admin API's address could not be bound (at start or on reload)
  ERR_BIND_FAILED: 'ERR_BIND_FAILED',
  // admin API; ERR_UNKNOWN_GROUP also refuses a session routed to a group that is gone
  ERR_UNKNOWN_GROUP: 'ERR_UNKNOWN_GROUP',
  ERR_UNAUTHORIZED: 'ERR_UNAUTHORIZED',
  ERR_FORBIDDEN_ORIGIN: 'ERR_FORBIDDEN_ORIGIN',
  ERR_NOT_FOUND: 'ERR_NOT_FOUND',
  ERR_METHOD_NOT_ALLOWED: 'ERR_METHOD_NOT_ALLOWED',
  ERR_PAYLOAD_TOO_LARGE: 'ERR_PAYLOAD_TOO_LARGE',
  ERR_INVALID_JSON: 'ERR_INVALID_JSON',
  ERR_RELOAD_FAILED: 'ERR_RELOAD_FAILED',
  ERR_RESTART_FAILED: 'ERR_RESTART_FAILED',
  ERR_UPGRADE_FAILED: 'ERR_UPGRADE_FAILED',
  // SIGUSR1 could not open the access log file again; its lines keep going to the old one
  ERR_LOG_REOPEN: 'ERR_LOG_REOPEN',
  // the admin server's live streams (the dashboard's) are bounded
  ERR_TOO_MANY_STREAMS: 'ERR_TOO_MANY_STREAMS',
  ERR_INTERNAL: 'ERR_INTERNAL',
} as const;

/** One of the stable error codes. */
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** The base of every error Switchyard throws on purpose; `code` is stable, `message` is for people. */
export class SwitchyardError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SwitchyardError';
    this.code = code;
  }
}

/** Thrown by a balancer when no upstream of the group can take a new connection. */
export class NoHealthyUpstreamError extends SwitchyardError {
  constructor(group: string) {
    super(ErrorCodes.ERR_NO_HEALTHY_UPSTREAM, `no upstream of group "${group}" can take a connection`);
    this.name = 'NoHealthyUpstreamError';
  }
}

/** True when `err` is a SwitchyardError carrying `code`. */
export function hasCode(err: unknown, code: ErrorCode): boolean {
  return err instanceof SwitchyardError && err.code === code;
}
