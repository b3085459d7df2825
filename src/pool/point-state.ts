import type { Rng } from '../rng.ts';
import {
  maxCountedFailures,
  nextDialAfterDisconnect,
  nextDialAfterFailure,
  type ReconnectConfig,
} from './backoff.ts';
import type { PointKey } from './point-key.ts';

/**
 * The connection state of a point (DESIGN §4, Octez `P2p_point_state`):
 * `requested` we are dialing it, `accepted` an inbound handshake from it is in progress,
 * `running` a connection to it is established (linked to a peer), `disconnected` none.
 */
export type PointState = 'requested' | 'accepted' | 'running' | 'disconnected';

export const pointStates: readonly PointState[] = [
  'requested',
  'accepted',
  'running',
  'disconnected',
];

/** How the node learnt of a point (DESIGN §6 discovery; `trusted` = configured or admin trust). */
export type PointSource =
  | 'bootstrap'
  | 'peer_sharing'
  | 'refusal_alternatives'
  | 'admin'
  | 'inbound'
  | 'trusted';

export const pointSources: readonly PointSource[] = [
  'bootstrap',
  'peer_sharing',
  'refusal_alternatives',
  'admin',
  'inbound',
  'trusted',
];

/**
 * Everything the pool remembers about one point. Immutable: a transition returns a new
 * record, so a snapshot can hand records out without copying. Times are epoch ms.
 */
export interface PointRecord {
  readonly key: PointKey;
  readonly host: string;
  readonly port: number;
  /** The peer id the operator pinned for this address (`host:port#peerId`). */
  readonly expectedPeerId?: string;
  readonly state: PointState;
  readonly sources: readonly PointSource[];
  readonly addedAt: number;
  /** Last dial started or inbound connection accepted. */
  readonly lastAttemptAt?: number;
  /** Last failed dial or handshake (requested/accepted → disconnected). */
  readonly lastFailureAt?: number;
  readonly lastFailureReason?: string;
  /** Last time a connection to it was established (→ running). */
  readonly lastSuccessAt?: number;
  /** Last time a running connection ended. */
  readonly lastDisconnectAt?: number;
  /**
   * Last time the governor's churn closed the connection here (Pool.churned). Not persisted:
   * it only orders the next dials (DESIGN §6), and a restart explores anyway.
   */
  readonly churnedAt?: number;
  /** Failures since the last established connection. */
  readonly consecutiveFailures: number;
  /** Dialing is allowed from this time on (0: at once). */
  readonly nextDialAt: number;
  /** The peer the running connection is linked to. */
  readonly currentPeerId?: string;
  /** The peer last established at this point. */
  readonly lastPeerId?: string;
  /** The peer last established here said `privateNode = true`: never share this point. */
  readonly privateNode: boolean;
  /** The peer last established here allows being shared (`peerSharing` in its Hello). */
  readonly peerSharing: boolean;
}

/** What a point's peer said about itself in its Hello (DESIGN §3). */
export interface PeerAnnouncement {
  readonly privateNode: boolean;
  readonly peerSharing: boolean;
}

/** A transition the current state does not allow (a bug in the caller, reported as a value). */
export interface InvalidTransition {
  readonly code: 'invalid_transition';
  readonly point: PointKey;
  readonly from: PointState;
  readonly to: PointState;
}

export type TransitionResult =
  | { readonly ok: true; readonly record: PointRecord }
  | { readonly ok: false; readonly error: InvalidTransition };

/** A fresh, disconnected record that may be dialed at once. */
export function newPointRecord(
  key: PointKey,
  host: string,
  port: number,
  source: PointSource,
  nowMs: number,
  expectedPeerId?: string,
): PointRecord {
  const base: PointRecord = {
    key,
    host,
    port,
    state: 'disconnected',
    sources: Object.freeze([source]),
    addedAt: nowMs,
    consecutiveFailures: 0,
    nextDialAt: 0,
    privateNode: false,
    peerSharing: true,
  };
  return expectedPeerId === undefined ? base : { ...base, expectedPeerId };
}

/**
 * Whether a point may move from `from` to `to` (Octez' assertions, as values): dialing
 * starts only from disconnected; an inbound handshake may start while our own dial is
 * in progress (simultaneous open, DESIGN §3); a connection is established from any
 * non-running state; and anything but disconnected can end.
 */
export function canTransition(from: PointState, to: PointState): boolean {
  switch (to) {
    case 'requested':
      return from === 'disconnected';
    case 'accepted':
      return from === 'disconnected' || from === 'requested';
    case 'running':
      return from !== 'running';
    case 'disconnected':
      return from !== 'disconnected';
    default:
      return assertNever(to);
  }
}

function checked(record: PointRecord, to: PointState, next: () => PointRecord): TransitionResult {
  if (!canTransition(record.state, to)) {
    return {
      ok: false,
      error: { code: 'invalid_transition', point: record.key, from: record.state, to },
    };
  }
  return { ok: true, record: next() };
}

/** disconnected → requested: we start dialing. */
export function toRequested(record: PointRecord, nowMs: number): TransitionResult {
  return checked(record, 'requested', () => ({
    ...record,
    state: 'requested',
    lastAttemptAt: nowMs,
  }));
}

/** disconnected | requested → accepted: an inbound handshake from this point began. */
export function toAccepted(record: PointRecord, nowMs: number): TransitionResult {
  return checked(record, 'accepted', () => ({
    ...record,
    state: 'accepted',
    lastAttemptAt: nowMs,
  }));
}

/**
 * → running: a connection is established and linked to `peerId`. Failures reset (the
 * backoff restarts from `initialMs`), the peer's announcement is remembered for sharing.
 */
export function toRunning(
  record: PointRecord,
  peerId: string,
  announcement: PeerAnnouncement,
  nowMs: number,
): TransitionResult {
  return checked(record, 'running', () => ({
    ...record,
    state: 'running',
    lastSuccessAt: nowMs,
    consecutiveFailures: 0,
    nextDialAt: 0,
    currentPeerId: peerId,
    lastPeerId: peerId,
    privateNode: announcement.privateNode,
    peerSharing: announcement.peerSharing,
  }));
}

/**
 * → disconnected. Ending a running connection waits `afterDisconnectMs` before the next
 * dial with failures reset; ending a dial or an inbound handshake is a failure: the count
 * grows and the next dial waits the backoff of DESIGN §4.
 */
export function toDisconnected(
  record: PointRecord,
  ctx: { nowMs: number; reason?: string; reconnect: ReconnectConfig; rng: Rng },
): TransitionResult {
  return checked(record, 'disconnected', () => {
    const { currentPeerId: _gone, ...rest } = record;
    const from = record.state;
    switch (from) {
      case 'running':
        return {
          ...rest,
          state: 'disconnected',
          lastDisconnectAt: ctx.nowMs,
          consecutiveFailures: 0,
          nextDialAt: nextDialAfterDisconnect(ctx.reconnect, ctx.nowMs),
        };
      case 'requested':
      case 'accepted': {
        const failures = Math.min(record.consecutiveFailures + 1, maxCountedFailures);
        return {
          ...rest,
          state: 'disconnected',
          lastFailureAt: ctx.nowMs,
          lastFailureReason: ctx.reason ?? 'unknown',
          consecutiveFailures: failures,
          nextDialAt: nextDialAfterFailure(ctx.reconnect, failures, ctx.nowMs, ctx.rng),
        };
      }
      case 'disconnected':
        // Excluded by canTransition; kept so the switch stays exhaustive.
        return record;
      default:
        return assertNever(from);
    }
  });
}

/** True while the point is being dialed, handshaking or connected: never evicted. */
export function isInUse(state: PointState): boolean {
  switch (state) {
    case 'requested':
    case 'accepted':
    case 'running':
      return true;
    case 'disconnected':
      return false;
    default:
      return assertNever(state);
  }
}

/** Adds a source to the record's list (first-seen order, no duplicates). */
export function withSource(record: PointRecord, source: PointSource): PointRecord {
  return record.sources.includes(source)
    ? record
    : { ...record, sources: Object.freeze([...record.sources, source]) };
}

export function assertNever(value: never): never {
  throw new Error(`unexpected value: ${String(value)}`);
}
