// The configuration layer's public surface: schema, types, loading and errors.
export { ConfigError, type ConfigIssue, formatConfigIssue, formatKeyPath } from './config-error.js';
export { formatDuration, MAX_DURATION_MS, parseDuration } from './duration.js';
export { loadConfigFile, parseConfigText } from './load-config.js';
export {
  ANY_ORG,
  BALANCER_NAMES,
  configSchema,
  LOG_LEVELS,
  ORG_GROUP,
  parseAddress,
  RATE_LIMIT_ALGORITHMS,
} from './schema.js';
export type * from './types.js';
