import type { Watermarks } from '../config/types.ts';
import type { PeerRecord } from './peer-record.ts';
import type { PointKey } from './point-key.ts';
import { isInUse, type PointRecord } from './point-state.ts';

/**
 * Known-points and peer-ids caps (DESIGN §4, Tezos `max_known_points` 400 → 300). Pure:
 * given the records, the watermarks and who is trusted, says whom to evict.
 */

/**
 * Eviction order of points, first evicted first: points that failed, oldest last failure
 * first (Octez' rule: the oldest failure is the stalest knowledge); then
 * points that never failed, the never-established before those we were connected to; ties
 * evict the most recently added first (Octez' flood rule for peer ids: older entries are
 * more likely legitimate than a burst of new ones).
 *
 * Octez keys on `last_miss`, which also counts the clean end of a connection; we key on the
 * last *failure*, as DESIGN §4 says, so that a point we were happily connected to is not
 * evicted before one that just refused us.
 */
export function comparePointsForEviction(a: PointRecord, b: PointRecord): number {
  const af = a.lastFailureAt;
  const bf = b.lastFailureAt;
  if (af !== undefined && bf === undefined) return -1;
  if (af === undefined && bf !== undefined) return 1;
  if (af !== undefined && bf !== undefined && af !== bf) return af - bf;
  if (af === undefined && bf === undefined) {
    const as = a.lastSuccessAt;
    const bs = b.lastSuccessAt;
    if (as === undefined && bs !== undefined) return -1;
    if (as !== undefined && bs === undefined) return 1;
    if (as !== undefined && bs !== undefined && as !== bs) return as - bs;
  }
  if (a.addedAt !== b.addedAt) return b.addedAt - a.addedAt;
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/**
 * The points to drop: nothing while the count is at most `high`; above it, enough evictable
 * points (disconnected, not trusted) in eviction order to come down to `low`, or all of them
 * when that is not enough.
 */
export function pointsToEvict(
  points: readonly PointRecord[],
  isTrusted: (key: PointKey) => boolean,
  marks: Watermarks,
): PointKey[] {
  if (points.length <= marks.high) return [];
  const evictable = points.filter((p) => !isInUse(p.state) && !isTrusted(p.key));
  evictable.sort(comparePointsForEviction);
  return evictable.slice(0, points.length - marks.low).map((p) => p.key);
}

/**
 * Eviction order of peer ids: least recently seen first; ties evict the most recently
 * created first (Octez `gc_peer_ids`: "in the case of a flood attack … removing the most
 * recent ones ensure that older (and probably legit) peer_id infos are kept"). Octez orders
 * by score first; meshkeeper keeps no peer score.
 */
export function comparePeersForEviction(a: PeerRecord, b: PeerRecord): number {
  if (a.lastSeenAt !== b.lastSeenAt) return a.lastSeenAt - b.lastSeenAt;
  if (a.firstSeenAt !== b.firstSeenAt) return b.firstSeenAt - a.firstSeenAt;
  return a.peerId < b.peerId ? -1 : a.peerId > b.peerId ? 1 : 0;
}

/** The peer ids to drop, as `pointsToEvict` (evictable: no running connection, not trusted). */
export function peersToEvict(
  peers: readonly PeerRecord[],
  isTrusted: (peerId: string) => boolean,
  marks: Watermarks,
): string[] {
  if (peers.length <= marks.high) return [];
  const evictable = peers.filter((p) => p.connections === 0 && !isTrusted(p.peerId));
  evictable.sort(comparePeersForEviction);
  return evictable.slice(0, peers.length - marks.low).map((p) => p.peerId);
}
