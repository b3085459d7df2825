/** The names other modules use; everything else in config/ is internal. */
export type { Address, AddressError, AddressErrorCode, AddressOptions } from './address.ts';
export {
  formatAddress,
  formatPoint,
  isLoopbackHost,
  isPeerId,
  isWildcardHost,
  parseAddress,
  parsePoint,
} from './address.ts';
export type { Band, BoundsLimits, BoundsProblem, BoundsProblemCode } from './band.ts';
export { makeBand, validateBounds } from './band.ts';
export type { ConnectionsDerivation, ConnectionsError } from './connections.ts';
export { deriveConnections } from './connections.ts';
export type { DurationError, DurationErrorCode } from './duration.ts';
export { formatDuration, MAX_DURATION_MS, parseDuration } from './duration.ts';
export type { ConfigError, ConfigErrorCode } from './errors.ts';
export { formatConfigError } from './errors.ts';
export type { LoadOptions, LoadResult } from './load.ts';
export { loadConfig } from './load.ts';
export { REDACTED, redactConfig } from './redact.ts';
export type { Result } from './result.ts';
export type { Config, ConnectionBounds, PointSpec, Watermarks } from './types.ts';
