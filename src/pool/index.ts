/**
 * The pool (DESIGN §4): what the node knows and remembers, independent of live connections.
 */
export {
  Acl,
  type AclChange,
  type AclLimits,
  type AclState,
  type BanEntry,
  type BanTarget,
  type Blocked,
  type BlockQuery,
  type BlockReason,
  banKey,
  defaultAclLimits,
  type GreylistEntry,
  type TrustResult,
} from './acl.ts';
export {
  backoffJitterFraction,
  failureDelayMs,
  inBackoff,
  nextDialAfterDisconnect,
  nextDialAfterFailure,
  type ReconnectConfig,
} from './backoff.ts';
export {
  compareDialOrder,
  compareDialRank,
  compareNextDialAt,
  dialRank,
  isTrustedTier,
  outcomeOf,
  type PointOutcome,
} from './dial-order.ts';
export {
  comparePeersForEviction,
  comparePointsForEviction,
  peersToEvict,
  pointsToEvict,
} from './gc.ts';
export type { PeerRecord } from './peer-record.ts';
export {
  type FlushOutcome,
  type LoadResult,
  type LoadStatus,
  loadPool,
  PoolPersister,
  type PoolPersisterDeps,
  poolFileName,
  poolFilePath,
} from './persistence.ts';
export {
  canonicalHost,
  hostOfKey,
  type PointKey,
  parsePointKey,
  pointKeyOf,
} from './point-key.ts';
export {
  canTransition,
  type InvalidTransition,
  isInUse,
  type PeerAnnouncement,
  type PointRecord,
  type PointSource,
  type PointState,
  pointSources,
  pointStates,
} from './point-state.ts';
export {
  type AddPointResult,
  isMisbehaviour,
  type MisbehaviourReason,
  misbehaviourReasons,
  type PeerView,
  type PointRef,
  type PointView,
  Pool,
  type PoolBanResult,
  type PoolContents,
  type PoolDeps,
  type PoolError,
  type PoolEvent,
  type PoolListener,
  type PoolResult,
  type PoolSnapshot,
} from './pool.ts';
export {
  type DecodeResult,
  decodePoolFile,
  encodePoolFile,
  poolFileLimits,
  poolFileSchema,
  poolFileVersion,
} from './pool-file.ts';
export {
  isShareable,
  maxAlternatives,
  maxSharedPoints,
  type ShareExclusions,
  sharingSalt,
  sharingSaltPeriodMs,
} from './sharing.ts';
export { partitionPoint } from './sorted-views.ts';
