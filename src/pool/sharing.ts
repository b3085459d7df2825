import type { PeerRecord } from './peer-record.ts';
import type { PointKey } from './point-key.ts';
import type { PointRecord } from './point-state.ts';

/**
 * Which known points may be given to others (DESIGN §3 peer-sharing, §6 refusal
 * alternatives). Pure: the pool supplies trust, blocks and peers.
 */

/** A peer-sharing reply holds at most this many points (Cardano shares 10). */
export const maxSharedPoints = 30;
/** A `too_many_connections` refusal lists at most this many alternatives. */
export const maxAlternatives = 50;
/** The sharing salt changes this often, so repeated asks do not enumerate the pool (Cardano: 823 s). */
export const sharingSaltPeriodMs = 15 * 60_000;

/** Who must not be given: the requester, by point and/or by peer id. */
export interface ShareExclusions {
  readonly points?: Iterable<PointKey>;
  readonly peerIds?: Iterable<string>;
}

export interface SharingContext {
  /** This node runs in private mode: its trusted points stay secret. */
  readonly weArePrivate: boolean;
  readonly isTrusted: (point: PointKey) => boolean;
  readonly isBlocked: (point: PointRecord) => boolean;
  readonly isOwnAddress: (point: PointKey) => boolean;
  readonly peer: (peerId: string) => PeerRecord | undefined;
}

/**
 * The publicity rules of DESIGN §3: a point may be shared only when we have been connected
 * to it, its peer is not private and did not ask not to be shared (as said at that point and,
 * if the peer said otherwise since, there too), it is not one of our trusted points while we
 * are private, and it is not blocked nor one of our own addresses.
 */
export function isShareable(point: PointRecord, ctx: SharingContext): boolean {
  if (point.lastSuccessAt === undefined) return false;
  if (point.privateNode || !point.peerSharing) return false;
  const peer = point.lastPeerId === undefined ? undefined : ctx.peer(point.lastPeerId);
  if (peer !== undefined && (peer.privateNode || !peer.peerSharing)) return false;
  if (ctx.weArePrivate && ctx.isTrusted(point.key)) return false;
  if (ctx.isOwnAddress(point.key)) return false;
  return !ctx.isBlocked(point);
}

function isExcluded(point: PointRecord, points: Set<string>, peerIds: Set<string>): boolean {
  if (points.has(point.key)) return true;
  if (point.lastPeerId !== undefined && peerIds.has(point.lastPeerId)) return true;
  return point.expectedPeerId !== undefined && peerIds.has(point.expectedPeerId);
}

/** The shareable points minus the requester's. */
export function shareableCandidates(
  points: Iterable<PointRecord>,
  ctx: SharingContext,
  exclude: ShareExclusions = {},
): PointRecord[] {
  const ex = new Set(exclude.points ?? []);
  const exPeers = new Set(exclude.peerIds ?? []);
  const out: PointRecord[] = [];
  for (const p of points) if (!isExcluded(p, ex, exPeers) && isShareable(p, ctx)) out.push(p);
  return out;
}

/** 32-bit FNV-1a: fast and well spread; the order only has to look random to a requester. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Orders points by a hash of salt and key: the same salt gives the same order. */
export function saltedOrder(points: readonly PointRecord[], salt: string): PointRecord[] {
  const keyed = points.map((p) => ({ p, h: fnv1a(`${salt}\n${p.key}`) }));
  keyed.sort((a, b) => a.h - b.h || (a.p.key < b.p.key ? -1 : a.p.key > b.p.key ? 1 : 0));
  return keyed.map((k) => k.p);
}

/**
 * The salt for `nowMs`: `secret` (per node, so others cannot predict the order) and the
 * current ~15-minute period.
 */
export function sharingSalt(secret: string, nowMs: number, periodMs = sharingSaltPeriodMs): string {
  return `${secret}:${Math.floor(nowMs / periodMs)}`;
}

/** Clamps a requested amount to [0, cap]; non-numbers count as 0. */
export function clampAmount(amount: number, cap: number): number {
  return Number.isFinite(amount) ? Math.max(0, Math.min(Math.floor(amount), cap)) : 0;
}

/**
 * Most useful alternatives first: points connected now, then the most recently connected.
 */
export function byRecentSuccess(points: readonly PointRecord[]): PointRecord[] {
  const running = (p: PointRecord) => (p.state === 'running' ? 1 : 0);
  return [...points].sort(
    (a, b) =>
      running(b) - running(a) ||
      (b.lastSuccessAt ?? 0) - (a.lastSuccessAt ?? 0) ||
      (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
  );
}
