import type { BanTarget } from './acl.ts';
import { hostOfKey, type PointKey } from './point-key.ts';
import type { PointRecord } from './point-state.ts';

/**
 * The points at each IP and of each peer id (pinned or last seen): what a trust, ban or
 * greylisting of an IP or a peer id changes in the points' views. Finding them by reading every
 * point cost ~15 ms per greylisting with 100,000 points (bench/maintenance).
 */
export class PointIndex {
  readonly #byIp = new Map<string, Set<PointKey>>();
  readonly #byPeer = new Map<string, Set<PointKey>>();

  /** `record` replaces `previous` (undefined: a new point). */
  put(record: PointRecord, previous: PointRecord | undefined): void {
    if (previous === undefined) add(this.#byIp, hostOfKey(record.key), record.key);
    const before = peersOf(previous);
    const after = peersOf(record);
    for (const peerId of before)
      if (!after.includes(peerId)) remove(this.#byPeer, peerId, record.key);
    for (const peerId of after) if (!before.includes(peerId)) add(this.#byPeer, peerId, record.key);
  }

  remove(record: PointRecord): void {
    remove(this.#byIp, hostOfKey(record.key), record.key);
    for (const peerId of peersOf(record)) remove(this.#byPeer, peerId, record.key);
  }

  /** The points whose standing a change of `targets` may change. */
  touched(targets: readonly BanTarget[]): Set<PointKey> {
    const keys = new Set<PointKey>();
    for (const target of targets) {
      if (target.kind === 'point') keys.add(target.point);
      else {
        const at =
          target.kind === 'ip' ? this.#byIp.get(target.ip) : this.#byPeer.get(target.peerId);
        for (const key of at ?? []) keys.add(key);
      }
    }
    return keys;
  }
}

/** The peer ids a point's view shows the standing of: its pinned and its last (or current) one. */
function peersOf(record: PointRecord | undefined): string[] {
  const ids: string[] = [];
  if (record?.expectedPeerId !== undefined) ids.push(record.expectedPeerId);
  if (record?.lastPeerId !== undefined && record.lastPeerId !== record.expectedPeerId)
    ids.push(record.lastPeerId);
  return ids;
}

function add(map: Map<string, Set<PointKey>>, by: string, key: PointKey): void {
  const keys = map.get(by);
  if (keys === undefined) map.set(by, new Set([key]));
  else keys.add(key);
}

function remove(map: Map<string, Set<PointKey>>, by: string, key: PointKey): void {
  const keys = map.get(by);
  if (keys === undefined) return;
  keys.delete(key);
  if (keys.size === 0) map.delete(by);
}
