import type { Band } from '../config/band.ts';
import type { ConnectionBounds, Watermarks } from '../config/types.ts';
import type { CycleSummary } from '../maintenance/worker.ts';
import type { PeerHandle } from '../peers/handle.ts';
import type { PeerStatus } from '../peers/status.ts';
import type { BanEntry, BanTarget, Blocked } from '../pool/index.ts';
import type { PeerView, PointView } from '../pool/pool.ts';
import type { NodeStatus } from '../status.ts';
import type { NodeEvent, NodeEventKind, NodeTargets, TrustTarget } from './events.ts';
import type {
  BandMsg,
  BanEntryMsg,
  BanTargetMsg,
  BlockMsg,
  BoundsMsg,
  CycleSummaryMsg,
  Duration,
  EventKindName,
  GetStatusResponse,
  PeerMsg,
  PeerStatusName,
  PointMsg,
  PointStateName,
  TargetsMsg,
  Timestamp,
  TrustTargetMsg,
  WatchEventsResponse,
} from './messages.ts';

/** Pure conversions from the node's values to the admin API's messages. */

export function timestampOf(epochMs: number): Timestamp {
  const seconds = Math.floor(epochMs / 1000);
  return { seconds, nanos: Math.round((epochMs - seconds * 1000) * 1e6) };
}

export function durationOf(ms: number): Duration {
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: Math.round((ms - seconds * 1000) * 1e6) };
}

/** Milliseconds of a google.protobuf.Duration (0 when absent). */
export function msOf(duration: Duration | undefined): number {
  if (duration === undefined) return 0;
  return Number(duration.seconds ?? 0) * 1000 + Number(duration.nanos ?? 0) / 1e6;
}

export function epochMsOf(timestamp: Timestamp | undefined): number | undefined {
  return timestamp === undefined ? undefined : msOf(timestamp);
}

export function peerStatusName(status: PeerStatus): PeerStatusName {
  return `PEER_STATUS_${status.toUpperCase()}` as PeerStatusName;
}

export function peerStatusOf(name: string): PeerStatus | undefined {
  const status = name.replace(/^PEER_STATUS_/, '').toLowerCase();
  return status === 'cold' || status === 'cooling' || status === 'warm' || status === 'hot'
    ? status
    : undefined;
}

export function pointStateName(state: string): PointStateName {
  return `POINT_STATE_${state.toUpperCase()}` as PointStateName;
}

export const eventKindNames: Readonly<Record<NodeEventKind, EventKindName>> = {
  status_change: 'EVENT_KIND_STATUS_CHANGE',
  cycle: 'EVENT_KIND_CYCLE',
  bounds_change: 'EVENT_KIND_BOUNDS_CHANGE',
  ban: 'EVENT_KIND_BAN',
  trust: 'EVENT_KIND_TRUST',
  targets_change: 'EVENT_KIND_TARGETS_CHANGE',
};

export function boundsMsg(bounds: ConnectionBounds): BoundsMsg {
  return { min: bounds.min, expected: bounds.expected, max: bounds.max };
}

export function bandMsg(band: Band): BandMsg {
  return {
    min_threshold: band.minThreshold,
    min_target: band.minTarget,
    max_target: band.maxTarget,
    max_threshold: band.maxThreshold,
  };
}

function watermarksMsg(w: Watermarks): { high: number; low: number } {
  return { high: w.high, low: w.low };
}

export function targetsMsg(targets: NodeTargets): TargetsMsg {
  return {
    hot_target: targets.hotTarget,
    max_known_points: watermarksMsg(targets.maxKnownPoints),
    max_known_peer_ids: watermarksMsg(targets.maxKnownPeerIds),
  };
}

export function cycleMsg(summary: CycleSummary): CycleSummaryMsg {
  return {
    motive: `CYCLE_MOTIVE_${summary.motive.toUpperCase()}` as CycleSummaryMsg['motive'],
    before: summary.before,
    after: summary.after,
    dialed: summary.dialed,
    succeeded: summary.succeeded,
    closed: summary.closed,
    asked_for_more: summary.askedForMore,
    duration: durationOf(summary.durationMs),
  };
}

export function blockMsg(blocked: Blocked | undefined): BlockMsg | undefined {
  if (blocked === undefined) return undefined;
  return {
    reason: blocked.reason === 'banned' ? 'BLOCK_REASON_BANNED' : 'BLOCK_REASON_GREYLISTED',
    by:
      blocked.by === 'peer_id'
        ? 'BLOCKED_BY_PEER_ID'
        : blocked.by === 'point'
          ? 'BLOCKED_BY_POINT'
          : 'BLOCKED_BY_IP',
    ...(blocked.untilMs === undefined ? {} : { until: timestampOf(blocked.untilMs) }),
  };
}

/** A peer from its live handle (when connected) and what the pool remembers of it. */
export function peerMsg(
  peerId: string,
  handle: PeerHandle | undefined,
  view: PeerView | undefined,
  extra: { trusted: boolean; blocked: Blocked | undefined },
): PeerMsg {
  const address = handle?.connection.point ?? view?.lastPoint;
  const rtt = handle?.rttSeconds;
  const blocked = blockMsg(extra.blocked);
  return {
    peer_id: peerId,
    status: peerStatusName(handle?.status ?? 'cold'),
    direction:
      handle === undefined
        ? 'DIRECTION_UNSPECIFIED'
        : handle.direction === 'inbound'
          ? 'DIRECTION_INBOUND'
          : 'DIRECTION_OUTBOUND',
    ...(address === undefined ? {} : { address }),
    ...(handle === undefined ? {} : { established_at: timestampOf(handle.establishedAt) }),
    ...(rtt === undefined ? {} : { keep_alive_rtt: durationOf(rtt * 1000) }),
    trusted: extra.trusted,
    ...(blocked === undefined ? {} : { blocked }),
    ...(view === undefined ? {} : { last_seen_at: timestampOf(view.lastSeenAt) }),
    private_node: handle?.connection.hello.privateNode ?? view?.privateNode ?? false,
  };
}

export function pointMsg(view: PointView): PointMsg {
  const blocked = blockMsg(view.blocked);
  const peerId = view.currentPeerId ?? view.lastPeerId;
  const msg: PointMsg = {
    address: view.key,
    state: pointStateName(view.state),
    sources: view.sources.map((s) => `POINT_SOURCE_${s.toUpperCase()}`),
    trusted: view.trusted,
    consecutive_failures: view.consecutiveFailures,
    added_at: timestampOf(view.addedAt),
  };
  if (blocked !== undefined) msg.blocked = blocked;
  if (view.expectedPeerId !== undefined) msg.expected_peer_id = view.expectedPeerId;
  if (peerId !== undefined) msg.peer_id = peerId;
  if (view.lastFailureReason !== undefined) msg.last_failure_reason = view.lastFailureReason;
  if (view.lastFailureAt !== undefined) msg.last_failure_at = timestampOf(view.lastFailureAt);
  if (view.lastSuccessAt !== undefined) msg.last_success_at = timestampOf(view.lastSuccessAt);
  if (view.nextDialAt > 0) msg.next_dial_at = timestampOf(view.nextDialAt);
  return msg;
}

export function statusMsg(
  status: NodeStatus,
  targets: NodeTargets,
  knownPeerIds: number,
): GetStatusResponse {
  return {
    peer_id: status.peerId,
    version: status.version,
    network: status.network,
    listen_address: status.listen,
    private_mode: status.privateMode,
    uptime: durationOf(status.uptimeSeconds * 1000),
    bounds: boundsMsg(status.bounds),
    band: bandMsg(status.band),
    targets: targetsMsg(targets),
    established: status.established,
    peers: { ...status.peers },
    connections: { ...status.connections },
    known_points: status.knownPoints,
    known_peer_ids: knownPeerIds,
    ...(status.lastCycle === undefined ? {} : { last_cycle: cycleMsg(status.lastCycle) }),
    connection_failures: status.failures,
  };
}

export function banTargetMsg(target: BanTarget): BanTargetMsg {
  switch (target.kind) {
    case 'peer':
      return { peer_id: target.peerId };
    case 'point':
      return { address: target.point };
    case 'ip':
      return { ip: target.ip };
    default: {
      const never: never = target;
      return never;
    }
  }
}

export function trustTargetMsg(target: TrustTarget): TrustTargetMsg {
  return target.kind === 'peer' ? { peer_id: target.peerId } : { address: target.point };
}

export function banEntryMsg(entry: BanEntry): BanEntryMsg {
  return {
    target: banTargetMsg(entry.target),
    since: timestampOf(entry.sinceMs),
    ...(entry.untilMs === undefined ? {} : { until: timestampOf(entry.untilMs) }),
  };
}

/** One WatchEvents message; `sequence` counts the messages of its stream from 1. */
export function eventMsg(event: NodeEvent, sequence: number): WatchEventsResponse {
  const base = { time: timestampOf(event.atMs), sequence, kind: eventKindNames[event.kind] };
  switch (event.kind) {
    case 'status_change':
      return {
        ...base,
        status_change: {
          peer_id: event.peerId,
          from: peerStatusName(event.from),
          to: peerStatusName(event.to),
          direction: event.direction === 'inbound' ? 'DIRECTION_INBOUND' : 'DIRECTION_OUTBOUND',
          ...(event.address === undefined ? {} : { address: event.address }),
        },
      };
    case 'cycle':
      return { ...base, cycle: cycleMsg(event.summary) };
    case 'bounds_change':
      return {
        ...base,
        bounds_change: { bounds: boundsMsg(event.bounds), band: bandMsg(event.band) },
      };
    case 'ban':
      return {
        ...base,
        ban_change: {
          action:
            event.action === 'ban'
              ? 'BAN_ACTION_BAN'
              : event.action === 'unban'
                ? 'BAN_ACTION_UNBAN'
                : 'BAN_ACTION_GREYLIST',
          target: banTargetMsg(event.target),
          ...(event.untilMs === undefined ? {} : { until: timestampOf(event.untilMs) }),
          ...(event.reason === undefined ? {} : { reason: event.reason }),
        },
      };
    case 'trust':
      return {
        ...base,
        trust_change: { trusted: event.trusted, target: trustTargetMsg(event.target) },
      };
    case 'targets_change':
      return { ...base, targets_change: { targets: targetsMsg(event.targets) } };
    default: {
      const never: never = event;
      return never;
    }
  }
}
