// The library's public surface. Everything here is usable without the server.
export type { Balancer } from './lib/balancers/balancer.js';
export {
  type BalancerOptions,
  balancerNames,
  createBalancer,
  registerBalancer,
} from './lib/balancers/registry.js';
export { RoundRobinBalancer } from './lib/balancers/round-robin.js';
export {
  type ErrorCode,
  ErrorCodes,
  hasCode,
  NoHealthyUpstreamError,
  SwitchyardError,
} from './lib/errors.js';
export { formatHostPort, type HostPort, parseHostPort } from './lib/upstreams/address.js';
export {
  UPSTREAM_STATES,
  Upstream,
  type UpstreamOptions,
  type UpstreamState,
} from './lib/upstreams/upstream.js';
export { UpstreamGroup, type UpstreamGroupOptions } from './lib/upstreams/upstream-group.js';
