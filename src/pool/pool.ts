import type { Clock } from '../clock.ts';
import type { Config, PointSpec } from '../config/types.ts';
import type { Rng } from '../rng.ts';
import type { Metrics } from '../telemetry/metrics.ts';
import {
  Acl,
  type AclChange,
  type AclLimits,
  type AclState,
  type BanEntry,
  type BanTarget,
  type Blocked,
  type BlockQuery,
  type TrustResult,
} from './acl.ts';
import { compareDialOrder, compareNextDialAt } from './dial-order.ts';
import { peersToEvict, pointsToEvict } from './gc.ts';
import type { PeerRecord } from './peer-record.ts';
import { PointIndex } from './point-index.ts';
import { hostOfKey, type PointKey, parsePointKey, pointKeyOf, portOfKey } from './point-key.ts';
import {
  assertNever,
  type InvalidTransition,
  isInUse,
  newPointRecord,
  type PeerAnnouncement,
  type PointRecord,
  type PointSource,
  type PointState,
  pointStates,
  type TransitionResult,
  toAccepted,
  toDisconnected,
  toRequested,
  toRunning,
  withSource,
} from './point-state.ts';
import {
  byRecentSuccess,
  clampAmount,
  maxAlternatives,
  maxSharedPoints,
  type ShareExclusions,
  type SharingContext,
  saltedOrder,
  shareableCandidates,
} from './sharing.ts';
import { ViewCache } from './views.ts';

/**
 * Failures of §3 that mean misbehaviour: the point's IP and the peer id (when known) are
 * greylisted (DESIGN §4, Octez `greylist_addr` / `greylist_peer`).
 */
export const misbehaviourReasons = [
  'decode_error',
  'protocol_violation',
  'frame_too_large',
  'ingress_overflow',
  'unexpected_peer_id',
  'identity_check_failed',
] as const;

export type MisbehaviourReason = (typeof misbehaviourReasons)[number];

export function isMisbehaviour(reason: string | undefined): reason is MisbehaviourReason {
  return (misbehaviourReasons as readonly string[]).includes(reason ?? '');
}

/** A point given by key (`host:port`) or spec. */
export type PointRef = PointKey | PointSpec;

/** The planner's view of a point: the record plus what the ACL says about it. */
export interface PointView extends PointRecord {
  readonly trusted: boolean;
  /** Set when the point, its IP, or its pinned or last peer id is banned or greylisted. */
  readonly blocked?: Blocked;
}

export interface PeerView extends PeerRecord {
  readonly trusted: boolean;
  readonly blocked?: Blocked;
}

/** The orders of points a snapshot carries (src/pool/dial-order.ts). */
type PointOrder = 'dialRank' | 'nextDialAt';

/** An immutable picture of the pool at `atMs`, for the maintenance planner and the admin API. */
export interface PoolSnapshot {
  readonly atMs: number;
  readonly privateMode: boolean;
  readonly points: readonly PointView[];
  /** `points` in dial order (`compareDialOrder`: by `dialRank`, equal ranks by key). */
  readonly pointsByDialRank: readonly PointView[];
  /** `points` by `nextDialAt`, earliest first (`compareNextDialAt`). */
  readonly pointsByNextDialAt: readonly PointView[];
  readonly peers: readonly PeerView[];
  /** Addresses of this node: never dialed, never shared. */
  readonly ownAddresses: readonly PointKey[];
  readonly counts: Readonly<Record<PointState, number>>;
}

/** What persistence saves and `restore` reads back. */
export interface PoolContents {
  readonly points: readonly PointRecord[];
  readonly peers: readonly PeerRecord[];
  readonly acl: AclState;
}

export type PointRemovalCause = 'gc' | 'forget' | 'network_mismatch' | 'own_address';

/** What changed, for persistence and the maintenance worker's new-point/new-peer triggers. */
export type PoolEvent =
  | { readonly type: 'point_added'; readonly point: PointKey; readonly source: PointSource }
  | { readonly type: 'point_updated'; readonly point: PointKey }
  | {
      readonly type: 'point_state';
      readonly point: PointKey;
      readonly from: PointState;
      readonly to: PointState;
      readonly reason?: string;
    }
  | { readonly type: 'point_removed'; readonly point: PointKey; readonly cause: PointRemovalCause }
  | { readonly type: 'peer_added'; readonly peerId: string }
  | { readonly type: 'peer_removed'; readonly peerId: string }
  | {
      readonly type: 'greylisted';
      readonly subject: 'ip' | 'peer_id';
      readonly value: string;
      readonly reason: string;
    }
  | { readonly type: 'acl_changed' }
  | { readonly type: 'restored'; readonly points: number; readonly peers: number };

export type PoolListener = (event: PoolEvent) => void;

export type AddPointResult =
  | { readonly added: true; readonly point: PointKey }
  | {
      readonly added: false;
      readonly point?: PointKey;
      readonly reason: 'known' | 'own_address' | 'invalid_address' | 'full';
    };

export type PoolError =
  | { readonly code: 'unknown_point'; readonly point: string }
  | { readonly code: 'in_use'; readonly point: PointKey }
  | { readonly code: 'trusted'; readonly point: PointKey }
  | { readonly code: 'own_address'; readonly point: PointKey }
  | InvalidTransition;

export type PoolResult = { readonly ok: true } | { readonly ok: false; readonly error: PoolError };

export type PoolBanResult =
  | {
      readonly ok: true;
      readonly entry: BanEntry;
      /** Points in use that the ban now covers: the caller closes their connections. */
      readonly affectedPoints: readonly PointKey[];
    }
  | { readonly ok: false; readonly code: 'invalid_duration' | 'invalid_target' | 'too_many_bans' };

export interface PoolDeps {
  clock: Clock;
  rng: Rng;
  config: Config['pool'];
  metrics?: Metrics;
  /** This node runs in private mode (DESIGN §6): its trusted points are never shared. */
  privateMode?: boolean;
  aclLimits?: Partial<AclLimits>;
}

/** Own addresses remembered at most (listen, advertised, and those learnt by self-connection). */
export const maxOwnAddresses = 64;

const ok: PoolResult = { ok: true };

/**
 * What the node knows and remembers, independent of live connections (DESIGN §4): points and
 * their connection state and history, peer ids, greylists, bans and trust. Every change is
 * announced to `onChange` listeners and reflected at once in the `meshkeeper_points` gauge.
 */
export class Pool {
  readonly #clock: Clock;
  readonly #rng: Rng;
  readonly #config: Config['pool'];
  readonly #metrics: Metrics | undefined;
  readonly #privateMode: boolean;
  readonly #acl: Acl;
  readonly #points = new Map<PointKey, PointRecord>();
  readonly #peers = new Map<string, PeerRecord>();
  readonly #own = new Set<PointKey>();
  readonly #counts: Record<PointState, number> = {
    requested: 0,
    accepted: 0,
    running: 0,
    disconnected: 0,
  };
  readonly #listeners = new Set<PoolListener>();
  readonly #pointIndex = new PointIndex();
  readonly #pointViews = new ViewCache<PointKey, PointRecord, PointView, PointOrder>(
    (r) => this.#pointView(r),
    (v) => v.blocked?.untilMs,
    { dialRank: compareDialOrder, nextDialAt: compareNextDialAt },
  );
  readonly #peerViews = new ViewCache<string, PeerRecord, PeerView>(
    (r) => this.#peerView(r),
    (v) => v.blocked?.untilMs,
    {},
  );

  constructor(deps: PoolDeps) {
    this.#clock = deps.clock;
    this.#rng = deps.rng;
    this.#config = deps.config;
    this.#metrics = deps.metrics;
    this.#privateMode = deps.privateMode ?? false;
    this.#acl = new Acl({
      clock: deps.clock,
      greylistTimeoutMs: deps.config.greylistTimeoutMs,
      limits: deps.aclLimits,
      onChange: (changed) => {
        this.#aclChanged(changed);
        this.#emit({ type: 'acl_changed' });
      },
    });
    this.#publishGauges();
  }

  /** Read access to bans, greylists and trust (change them through the pool's methods). */
  get acl(): Pick<
    Acl,
    | 'bans'
    | 'greylistedIps'
    | 'greylistedPeers'
    | 'trustedPoints'
    | 'trustedPeers'
    | 'isTrustedPoint'
    | 'isTrustedPeer'
    | 'isTrustedHost'
    | 'limits'
  > {
    return this.#acl;
  }

  get pointCount(): number {
    return this.#points.size;
  }

  get peerCount(): number {
    return this.#peers.size;
  }

  /** Subscribes to changes; returns the unsubscribe function. Listeners must not throw. */
  onChange(listener: PoolListener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  // ---- points ------------------------------------------------------------------------

  /**
   * Learns a point. A new point is counted in `pointsDiscovered{source}` and announced; a
   * known one only gains the source. Our own addresses are refused. A `#peerId` pin is kept
   * only from the operator (bootstrap, trusted, admin): a pin from a remote source could make
   * us greylist an honest node's IP after an `unexpected_peer_id`. `trusted` also trusts it.
   */
  addPoint(spec: PointSpec, source: PointSource): AddPointResult {
    const key = pointKeyOf(spec);
    if (key === undefined) return { added: false, reason: 'invalid_address' };
    if (this.#own.has(key)) return { added: false, point: key, reason: 'own_address' };
    const pin = isOperatorSource(source) ? spec.peerId : undefined;
    if (source === 'trusted') this.#acl.trustPoint(key);
    const known = this.#points.get(key);
    if (known !== undefined) {
      let next = withSource(known, source);
      if (pin !== undefined && next.expectedPeerId !== pin) next = { ...next, expectedPeerId: pin };
      if (next !== known) {
        this.#put(next, known);
        this.#emit({ type: 'point_updated', point: key });
      }
      return { added: false, point: key, reason: 'known' };
    }
    this.#insert(newPointRecord(key, hostOfKey(key), spec.port, source, this.#clock.now(), pin));
    this.#gc(key);
    if (!this.#points.has(key)) return { added: false, point: key, reason: 'full' };
    this.#metrics?.pointsDiscovered.inc({ source });
    this.#emit({ type: 'point_added', point: key, source });
    return { added: true, point: key };
  }

  /**
   * Declares an address of this node (listen or advertised, or learnt from a
   * `self_connection` refusal): it is never dialed, shared or re-learnt, and forgotten if known
   * and idle.
   */
  addOwnAddress(spec: PointSpec): void {
    const key = pointKeyOf(spec);
    if (key === undefined || this.#own.has(key) || this.#own.size >= maxOwnAddresses) return;
    this.#own.add(key);
    const known = this.#points.get(key);
    if (known !== undefined && !isInUse(known.state)) this.#remove(key, 'own_address');
  }

  isOwnAddress(point: PointRef): boolean {
    const key = keyOf(point);
    return key !== undefined && this.#own.has(key);
  }

  /** disconnected → requested. */
  dialStarted(point: PointRef): PoolResult {
    return this.#transition(point, (r) => toRequested(r, this.#clock.now()));
  }

  /**
   * An inbound handshake began from `point` (register inbound peers under their listening
   * address, remote IP + advertised port, as Octez does, so that what we share is dialable).
   * An unknown point is learnt with source `inbound`.
   */
  inboundAccepted(point: PointRef): PoolResult {
    const key = keyOf(point);
    if (key === undefined) return unknownPoint(point);
    if (this.#own.has(key)) return { ok: false, error: { code: 'own_address', point: key } };
    if (!this.#points.has(key)) {
      // Learnt and marked in use before GC runs, so a full pool cannot evict it at once.
      this.#insert(
        newPointRecord(key, hostOfKey(key), portOfKey(key), 'inbound', this.#clock.now()),
      );
      this.#metrics?.pointsDiscovered.inc({ source: 'inbound' });
      this.#emit({ type: 'point_added', point: key, source: 'inbound' });
    }
    const result = this.#transition(key, (r) => toAccepted(r, this.#clock.now()));
    this.#gc();
    return result;
  }

  /**
   * → running, linked to `peerId`: failures and backoff reset; the peer is remembered with
   * what it said about itself (default: public and shareable).
   */
  connected(
    point: PointRef,
    peerId: string,
    announcement: PeerAnnouncement = { privateNode: false, peerSharing: true },
  ): PoolResult {
    const now = this.#clock.now();
    const key = keyOf(point);
    if (key === undefined) return unknownPoint(point);
    const result = this.#transition(key, (r) => toRunning(r, peerId, announcement, now));
    if (!result.ok) return result;
    const known = this.#peers.get(peerId);
    this.#peers.set(peerId, {
      peerId,
      firstSeenAt: known?.firstSeenAt ?? now,
      lastSeenAt: now,
      lastPoint: key,
      connections: (known?.connections ?? 0) + 1,
      privateNode: announcement.privateNode,
      peerSharing: announcement.peerSharing,
    });
    this.#peerViews.set(peerId);
    if (known === undefined) {
      this.#emit({ type: 'peer_added', peerId });
      this.#gcPeers();
    }
    return ok;
  }

  /**
   * A dial or handshake failed (requested/accepted → disconnected): the failure count grows
   * and the point waits its backoff. `network_mismatch` forgets the point instead (another
   * node of ours may share the IP, as Octez says); `self_connection` marks it as our own;
   * misbehaviour greylists the IP and `peerId` (when the handshake proved one).
   */
  dialFailed(point: PointRef, reason: string, opts: { peerId?: string } = {}): PoolResult {
    const key = keyOf(point);
    const state = key === undefined ? undefined : this.#points.get(key)?.state;
    if (state === 'running') {
      return {
        ok: false,
        error: {
          code: 'invalid_transition',
          point: key as PointKey,
          from: 'running',
          to: 'disconnected',
        },
      };
    }
    return this.#end(point, reason, opts.peerId);
  }

  /**
   * A connection ended. From running: the next dial waits `afterDisconnectMs`. From
   * requested/accepted: a failure, as `dialFailed`. Misbehaviour greylists the IP and the
   * connected peer id.
   */
  disconnected(point: PointRef, reason?: string): PoolResult {
    return this.#end(point, reason, undefined);
  }

  /**
   * The governor's churn closed the connection at `point` (DESIGN §7): maintenance dials it
   * after the never-tried points until it is connected again, or it would be re-established
   * first (the most recent success) and churn would explore nothing. Not a failure: no
   * backoff, no greylist.
   */
  churned(point: PointRef): PoolResult {
    const key = keyOf(point);
    const record = key === undefined ? undefined : this.#points.get(key);
    if (key === undefined || record === undefined) return unknownPoint(point);
    this.#put({ ...record, churnedAt: this.#clock.now() }, record);
    return ok;
  }

  /** Forgets an idle point. In use or trusted points are kept (untrust first). */
  forget(point: PointRef): PoolResult {
    const key = keyOf(point);
    const record = key === undefined ? undefined : this.#points.get(key);
    if (key === undefined || record === undefined) return unknownPoint(point);
    if (isInUse(record.state)) return { ok: false, error: { code: 'in_use', point: key } };
    if (this.#acl.isTrustedPoint(key)) return { ok: false, error: { code: 'trusted', point: key } };
    this.#remove(key, 'forget');
    return ok;
  }

  /** When `point` may be dialed again (epoch ms; 0: at once), or undefined when unknown. */
  nextDialAt(point: PointRef): number | undefined {
    const key = keyOf(point);
    return key === undefined ? undefined : this.#points.get(key)?.nextDialAt;
  }

  /** One point as the planner sees it. */
  point(point: PointRef): PointView | undefined {
    const key = keyOf(point);
    return key === undefined
      ? undefined
      : this.#pointViews.get(this.#points, key, this.#clock.now());
  }

  peer(peerId: string): PeerView | undefined {
    return this.#peerViews.get(this.#peers, peerId, this.#clock.now());
  }

  /** An immutable view of everything known, with trust and blocks resolved at this instant. */
  snapshot(): PoolSnapshot {
    const now = this.#clock.now();
    return Object.freeze({
      atMs: now,
      privateMode: this.#privateMode,
      points: this.#pointViews.list(this.#points, now),
      pointsByDialRank: this.#pointViews.sorted(this.#points, now, 'dialRank'),
      pointsByNextDialAt: this.#pointViews.sorted(this.#points, now, 'nextDialAt'),
      peers: this.#peerViews.list(this.#peers, now),
      ownAddresses: Object.freeze([...this.#own]),
      counts: Object.freeze({ ...this.#counts }),
    });
  }

  /**
   * Points for a peer-sharing reply (DESIGN §3): at most min(amount, 30), only shareable
   * ones (see `isShareable`), never the requester's, in an order fixed by `salt` (use
   * `sharingSalt`, which changes every 15 min) so repeated asks do not enumerate the pool.
   */
  shareablePoints(opts: { amount: number; exclude?: ShareExclusions; salt: string }): PointKey[] {
    const n = clampAmount(opts.amount, maxSharedPoints);
    if (n === 0) return [];
    const candidates = shareableCandidates(
      this.#points.values(),
      this.#sharingContext(),
      opts.exclude,
    );
    return saltedOrder(candidates, opts.salt)
      .slice(0, n)
      .map((p) => p.key);
  }

  /**
   * Alternatives for a `too_many_connections` refusal: at most min(max, 50) shareable points
   * (same rules as peer-sharing), those connected now and most recently first.
   */
  alternatives(opts: { max?: number; exclude?: ShareExclusions } = {}): PointKey[] {
    const n = clampAmount(opts.max ?? maxAlternatives, maxAlternatives);
    const candidates = shareableCandidates(
      this.#points.values(),
      this.#sharingContext(),
      opts.exclude,
    );
    return byRecentSuccess(candidates)
      .slice(0, n)
      .map((p) => p.key);
  }

  // ---- access control ----------------------------------------------------------------

  /** Whether a point, IP or peer id is banned or greylisted, and why. */
  isBlocked(query: BlockQuery): Blocked | undefined {
    const point = query.point === undefined ? undefined : keyOf(query.point);
    return this.#acl.isBlocked({ ...query, point });
  }

  /**
   * The operator's ban (permanent without `durationMs`). Returns the points in use that it
   * now covers: closing their connections is the caller's job.
   */
  ban(target: BanTarget, durationMs?: number): PoolBanResult {
    const result = this.#acl.ban(target, durationMs);
    if (!result.ok) return result;
    const banned = result.entry.target;
    const affectedPoints: PointKey[] = [];
    for (const r of this.#points.values()) {
      if (isInUse(r.state) && banCovers(banned, r)) affectedPoints.push(r.key);
    }
    return { ok: true, entry: result.entry, affectedPoints };
  }

  unban(target: BanTarget): boolean {
    return this.#acl.unban(target);
  }

  /** Trusts a point (learning it if needed): never greylisted, never evicted, lifts its ban. */
  trustPoint(spec: PointSpec): TrustResult {
    const key = pointKeyOf(spec);
    if (key === undefined) return { ok: false, code: 'invalid_target' };
    const trusted = this.#acl.trustPoint(key);
    if (trusted.ok) this.addPoint(spec, 'trusted');
    return trusted;
  }

  /** Ends the trust; the point stays known (and becomes evictable). */
  untrustPoint(point: PointRef): boolean {
    const key = keyOf(point);
    const removed = key !== undefined && this.#acl.untrustPoint(key);
    if (removed) this.#gc();
    return removed;
  }

  trustPeer(peerId: string): TrustResult {
    return this.#acl.trustPeer(peerId);
  }

  untrustPeer(peerId: string): boolean {
    const removed = this.#acl.untrustPeer(peerId);
    if (removed) this.#gcPeers();
    return removed;
  }

  /** Greylists an IP for `greylistTimeoutMs` (false when it hosts a trusted point). */
  greylistIp(ip: string, reason: string): boolean {
    const done = this.#acl.greylistIp(ip);
    if (done) this.#emit({ type: 'greylisted', subject: 'ip', value: ip, reason });
    return done;
  }

  /** Greylists a peer id for `greylistTimeoutMs` (false when it is trusted). */
  greylistPeer(peerId: string, reason: string): boolean {
    const done = this.#acl.greylistPeer(peerId);
    if (done) this.#emit({ type: 'greylisted', subject: 'peer_id', value: peerId, reason });
    return done;
  }

  clearIpGreylist(): void {
    this.#acl.clearIpGreylist();
  }

  clearPeerGreylist(): void {
    this.#acl.clearPeerGreylist();
  }

  // ---- persistence -------------------------------------------------------------------

  /** Everything worth remembering across restarts. */
  exportContents(): PoolContents {
    return {
      points: [...this.#points.values()],
      peers: [...this.#peers.values()],
      acl: this.#acl.exportState(),
    };
  }

  /**
   * Adds saved contents (call before adding the configured points). Saved points come back
   * disconnected, peers without connections; points already known and own addresses are
   * skipped; the caps apply at once. Returns how many entries were taken.
   */
  restore(contents: PoolContents): { points: number; peers: number; aclSkipped: number } {
    let points = 0;
    for (const saved of contents.points) {
      if (this.#points.has(saved.key) || this.#own.has(saved.key)) continue;
      const { currentPeerId: _c, ...rest } = saved;
      this.#insert({ ...rest, state: 'disconnected', sources: Object.freeze([...saved.sources]) });
      points++;
    }
    let peers = 0;
    for (const saved of contents.peers) {
      if (this.#peers.has(saved.peerId)) continue;
      this.#peers.set(saved.peerId, { ...saved, connections: 0 });
      this.#peerViews.set(saved.peerId);
      peers++;
    }
    const aclSkipped = this.#acl.restoreState(contents.acl);
    // A trusted point must be known to be dialed, even if its history was not saved.
    for (const key of this.#acl.trustedPoints()) {
      if (this.#points.has(key) || this.#own.has(key)) continue;
      this.#insert(
        newPointRecord(key, hostOfKey(key), portOfKey(key), 'trusted', this.#clock.now()),
      );
      points++;
    }
    this.#gc();
    this.#gcPeers();
    this.#emit({ type: 'restored', points, peers });
    return { points, peers, aclSkipped };
  }

  // ---- internals ---------------------------------------------------------------------

  #end(point: PointRef, reason: string | undefined, provenPeerId: string | undefined): PoolResult {
    const key = keyOf(point);
    const before = key === undefined ? undefined : this.#points.get(key);
    if (key === undefined || before === undefined) return unknownPoint(point);
    const result = this.#transition(key, (r) =>
      toDisconnected(r, {
        nowMs: this.#clock.now(),
        reason,
        reconnect: this.#config.reconnect,
        rng: this.#rng,
      }),
    );
    if (!result.ok) return result;
    if (before.state === 'running' && before.currentPeerId !== undefined) {
      this.#peerDisconnected(before.currentPeerId);
    }
    if (isMisbehaviour(reason)) {
      this.greylistIp(before.host, reason);
      const peerId = provenPeerId ?? before.currentPeerId;
      if (peerId !== undefined) this.greylistPeer(peerId, reason);
    }
    if (reason === 'network_mismatch' && !this.#acl.isTrustedPoint(key)) {
      this.#remove(key, 'network_mismatch');
    } else if (reason === 'self_connection') {
      if (this.#own.size < maxOwnAddresses) this.#own.add(key);
      this.#remove(key, 'own_address');
    }
    this.#gc();
    this.#gcPeers();
    return ok;
  }

  #peerDisconnected(peerId: string): void {
    const peer = this.#peers.get(peerId);
    if (peer === undefined) return;
    this.#peers.set(peerId, {
      ...peer,
      connections: Math.max(0, peer.connections - 1),
      lastSeenAt: this.#clock.now(),
    });
    this.#peerViews.set(peerId);
  }

  #transition(point: PointRef, step: (r: PointRecord) => TransitionResult): PoolResult {
    const key = keyOf(point);
    const record = key === undefined ? undefined : this.#points.get(key);
    if (key === undefined || record === undefined) return unknownPoint(point);
    const result = step(record);
    if (!result.ok) return { ok: false, error: result.error };
    this.#put(result.record, record);
    this.#count(record.state, -1);
    this.#count(result.record.state, +1);
    this.#emit({
      type: 'point_state',
      point: key,
      from: record.state,
      to: result.record.state,
      reason: result.record.state === 'disconnected' ? result.record.lastFailureReason : undefined,
    });
    return ok;
  }

  #insert(record: PointRecord): void {
    this.#put(record, undefined);
    this.#count(record.state, +1);
  }

  /** Stores `record` in place of `previous` (undefined: a new point), its view and indexes. */
  #put(record: PointRecord, previous: PointRecord | undefined): void {
    this.#points.set(record.key, record);
    this.#pointViews.set(record.key);
    this.#pointIndex.put(record, previous);
  }

  #remove(key: PointKey, cause: PointRemovalCause, announce = true): void {
    const record = this.#points.get(key);
    if (record === undefined) return;
    this.#points.delete(key);
    this.#pointViews.delete(key);
    this.#pointIndex.remove(record);
    this.#count(record.state, -1);
    if (announce) this.#emit({ type: 'point_removed', point: key, cause });
  }

  #count(state: PointState, delta: number): void {
    this.#counts[state] += delta;
    this.#metrics?.points.set({ state }, this.#counts[state]);
  }

  #publishGauges(): void {
    for (const state of pointStates) this.#metrics?.points.set({ state }, this.#counts[state]);
  }

  /** Applies the known-points cap; `unannounced` is a point being added, not yet announced. */
  #gc(unannounced?: PointKey): void {
    if (this.#points.size <= this.#config.maxKnownPoints.high) return;
    const victims = pointsToEvict(
      [...this.#points.values()],
      (k) => this.#acl.isTrustedPoint(k),
      this.#config.maxKnownPoints,
    );
    for (const key of victims) this.#remove(key, 'gc', key !== unannounced);
  }

  #gcPeers(): void {
    if (this.#peers.size <= this.#config.maxKnownPeerIds.high) return;
    const victims = peersToEvict(
      [...this.#peers.values()],
      (id) => this.#acl.isTrustedPeer(id),
      this.#config.maxKnownPeerIds,
    );
    for (const peerId of victims) {
      this.#peers.delete(peerId);
      this.#peerViews.delete(peerId);
      this.#emit({ type: 'peer_removed', peerId });
    }
  }

  /**
   * Trust and blocks are part of the views: those of what the change touched are made again.
   * Only those: remaking all 100,000 views of a big node after each greylisting cost ~400 ms
   * (bench/maintenance).
   */
  #aclChanged(changed: AclChange): void {
    if (changed === 'all') {
      this.#pointViews.invalidate();
      this.#peerViews.invalidate();
      return;
    }
    for (const target of changed)
      if (target.kind === 'peer' && this.#peers.has(target.peerId))
        this.#peerViews.set(target.peerId);
    for (const key of this.#pointIndex.touched(changed))
      if (this.#points.has(key)) this.#pointViews.set(key);
  }

  #pointView(record: PointRecord): PointView {
    const trusted = this.#acl.isTrustedPoint(record.key);
    const blocked = this.#blockedPoint(record);
    return Object.freeze(
      blocked === undefined ? { ...record, trusted } : { ...record, trusted, blocked },
    );
  }

  #peerView(record: PeerRecord): PeerView {
    const trusted = this.#acl.isTrustedPeer(record.peerId);
    const blocked = this.#acl.isBlocked({ peerId: record.peerId });
    return Object.freeze(
      blocked === undefined ? { ...record, trusted } : { ...record, trusted, blocked },
    );
  }

  /** The point, its IP, its pinned peer id, then the peer last seen there. */
  #blockedPoint(record: PointRecord): Blocked | undefined {
    // The key is canonical: its host needs no parsing (this runs for every point viewed).
    const first = this.#acl.isBlocked({
      point: record.key,
      ip: hostOfKey(record.key),
      peerId: record.expectedPeerId,
    });
    if (first !== undefined) return first;
    const last = record.currentPeerId ?? record.lastPeerId;
    return last === undefined || last === record.expectedPeerId
      ? undefined
      : this.#acl.isBlocked({ peerId: last });
  }

  #sharingContext(): SharingContext {
    return {
      weArePrivate: this.#privateMode,
      isTrusted: (k) => this.#acl.isTrustedPoint(k),
      isBlocked: (p) => this.#blockedPoint(p) !== undefined,
      isOwnAddress: (k) => this.#own.has(k),
      peer: (id) => this.#peers.get(id),
    };
  }

  #emit(event: PoolEvent): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(event);
      } catch (error) {
        // A throwing listener is a bug: surface it as an uncaught error without leaving the
        // pool half-way through an operation or starving the other listeners.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }
}

/** Whether a ban names this point, its host or its connected peer. */
function banCovers(target: BanTarget, point: PointRecord): boolean {
  switch (target.kind) {
    case 'peer':
      return point.currentPeerId === target.peerId;
    case 'point':
      return point.key === target.point;
    case 'ip':
      return point.host === target.ip;
    default:
      return assertNever(target);
  }
}

function isOperatorSource(source: PointSource): boolean {
  return source === 'bootstrap' || source === 'trusted' || source === 'admin';
}

function keyOf(point: PointRef): PointKey | undefined {
  if (typeof point !== 'string') return pointKeyOf(point);
  const spec = parsePointKey(point);
  return spec === undefined ? undefined : pointKeyOf(spec);
}

function unknownPoint(point: PointRef): PoolResult {
  const shown = typeof point === 'string' ? point : `${point.host}:${point.port}`;
  return { ok: false, error: { code: 'unknown_point', point: shown } };
}
