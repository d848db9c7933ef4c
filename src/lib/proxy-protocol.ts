/**
 * The versions of the PROXY protocol header an upstream can be sent. The configuration accepts
 * them and the data plane writes them; both take the list from here, so the two cannot drift.
 */
export const PROXY_PROTOCOL_VERSIONS = ['none', 'v1', 'v2'] as const;

/** A version of the PROXY protocol header; `none` sends nothing. */
export type ProxyProtocolVersion = (typeof PROXY_PROTOCOL_VERSIONS)[number];

/**
 * The versions a listener can take from a load balancer in front of it (`acceptProxyProtocol`):
 * `none` expects no header, `any` takes either version.
 */
export const ACCEPTED_PROXY_PROTOCOLS = ['none', 'v1', 'v2', 'any'] as const;

/** What a listener takes in; see {@link ACCEPTED_PROXY_PROTOCOLS}. */
export type AcceptProxyProtocol = (typeof ACCEPTED_PROXY_PROTOCOLS)[number];
