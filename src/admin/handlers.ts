import { status } from '@grpc/grpc-js';
import type { PeerHandle } from '../peers/handle.ts';
import { isEstablished, type PeerStatus } from '../peers/status.ts';
import type { BanTarget } from '../pool/index.ts';
import { canonicalHost } from '../pool/point-key.ts';
import type { PeerView } from '../pool/pool.ts';
import { GossipError } from '../protocols/gossip.ts';
import { dialErrorOf } from '../wire/transport.ts';
import {
  bandMsg,
  banEntryMsg,
  boundsMsg,
  cycleMsg,
  msOf,
  peerMsg,
  peerStatusOf,
  pointMsg,
  statusMsg,
  targetsMsg,
} from './convert.ts';
import { AdminError, badField, notFound, withReason } from './errors.ts';
import type {
  BanRequest,
  ConnectRequest,
  DisconnectRequest,
  ListPeersRequest,
  ListPointsRequest,
  PublishRequest,
  SetBoundsRequest,
  SetTargetsRequest,
  TrustRequest,
  UnbanRequest,
} from './messages.ts';
import { pageSizeOf, paginate } from './pagination.ts';
import type { AdminNode } from './types.ts';
import { banTargetOf, boundsOf, peerIdOf, pointOf, targetsOf, trustTargetOf } from './validate.ts';

/** What a handler knows of its call. */
export interface CallContext {
  /** Aborts when the caller cancels or the call's deadline passes. */
  readonly signal: AbortSignal;
  /** Adds fields to the call's log line (mutating calls log one line each). */
  note(fields: Record<string, unknown>): void;
}

export interface UnaryMethod {
  /** Changes the node: one log line per call, naming the method and the outcome. */
  readonly mutating: boolean;
  handle(request: unknown, ctx: CallContext): Promise<unknown>;
}

const pointStates = new Set(['requested', 'accepted', 'running', 'disconnected']);

/**
 * The unary methods of AdminService. Each validates its request (INVALID_ARGUMENT naming the
 * field), acts through the node's own components, and returns the response message.
 * `requestStop` runs after Shutdown's reply has been sent.
 */
export function unaryMethods(
  node: AdminNode,
  requestStop: () => void,
): Record<string, UnaryMethod> {
  const read = (handle: UnaryMethod['handle']): UnaryMethod => ({ mutating: false, handle });
  const write = (handle: UnaryMethod['handle']): UnaryMethod => ({ mutating: true, handle });
  return {
    GetStatus: read(async () =>
      statusMsg(await node.status(), node.targets(), node.pool.peerCount),
    ),
    Maintain: write(async (_req, ctx) => {
      const summary = await untilDone(node.maintenance.maintain(), ctx.signal);
      ctx.note({ motive: summary.motive, before: summary.before, after: summary.after });
      return { cycle: cycleMsg(summary) };
    }),
    Shutdown: write(async () => {
      requestStop();
      return {};
    }),
    GetBounds: read(async () => ({
      bounds: boundsMsg(node.maintenance.bounds),
      band: bandMsg(node.maintenance.band),
    })),
    SetBounds: write(async (req, ctx) => {
      const bounds = boundsOf(req as SetBoundsRequest, node.targets());
      const band = node.maintenance.setBounds(bounds);
      node.events.emit({ kind: 'bounds_change', bounds, band });
      ctx.note({ bounds, band });
      return { bounds: boundsMsg(bounds), band: bandMsg(band) };
    }),
    SetTargets: write(async (req, ctx) => {
      const changes = targetsOf(req as SetTargetsRequest, node.maintenance.bounds);
      const targets = node.setTargets(changes);
      node.events.emit({ kind: 'targets_change', targets });
      ctx.note({ targets });
      return { targets: targetsMsg(targets) };
    }),
    ListPeers: read(async (req) => listPeers(node, req as ListPeersRequest)),
    ListPoints: read(async (req) => listPoints(node, req as ListPointsRequest)),
    Connect: write(async (req, ctx) => connect(node, req as ConnectRequest, ctx)),
    Disconnect: write(async (req, ctx) => disconnect(node, req as DisconnectRequest, ctx)),
    Ban: write(async (req, ctx) => ban(node, req as BanRequest, ctx)),
    Unban: write(async (req, ctx) => {
      const target = banTargetOf((req as UnbanRequest).target, 'target');
      ctx.note({ target });
      if (!node.pool.unban(target)) throw notFound('ban', describeTarget(target), 'no such ban');
      node.events.emit({ kind: 'ban', action: 'unban', target });
      return {};
    }),
    Trust: write(async (req, ctx) => {
      const target = trustTargetOf((req as TrustRequest).target, 'target');
      ctx.note({ target: target.kind === 'peer' ? target.peerId : target.point });
      const result =
        target.kind === 'peer'
          ? node.pool.trustPeer(target.peerId)
          : node.pool.trustPoint(target.spec ?? { host: '', port: 0 });
      if (!result.ok) {
        throw result.code === 'too_many_trusted'
          ? withReason(status.RESOURCE_EXHAUSTED, 'TOO_MANY_TRUSTED', 'the trust list is full')
          : badField('target', 'INVALID_TARGET', 'cannot be trusted');
      }
      const { spec: _spec, ...named } = target;
      node.events.emit({ kind: 'trust', trusted: true, target: named });
      return {};
    }),
    Untrust: write(async (req, ctx) => {
      const target = trustTargetOf((req as TrustRequest).target, 'target');
      const name = target.kind === 'peer' ? target.peerId : target.point;
      ctx.note({ target: name });
      const removed =
        target.kind === 'peer'
          ? node.pool.untrustPeer(target.peerId)
          : node.pool.untrustPoint(target.point);
      if (!removed) throw notFound('trust', name, 'not trusted');
      const { spec: _spec, ...named } = target;
      node.events.emit({ kind: 'trust', trusted: false, target: named });
      return {};
    }),
    Publish: write(async (req, ctx) => {
      const payload = (req as PublishRequest).payload;
      const max = node.config.gossip.maxMessageBytes;
      if (payload === undefined || payload.length === 0) {
        throw badField('payload', 'REQUIRED', 'must not be empty');
      }
      if (payload.length > max) {
        throw badField(
          'payload',
          'TOO_LARGE',
          `${payload.length} bytes; at most ${max} (gossip.maxMessageBytes)`,
        );
      }
      try {
        const result = node.gossip.publish(payload);
        ctx.note({
          bytes: payload.length,
          id: Buffer.from(result.id).toString('hex'),
          fresh: result.fresh,
        });
        return { id: Buffer.from(result.id), fresh: result.fresh };
      } catch (error) {
        if (error instanceof GossipError) {
          throw withReason(status.FAILED_PRECONDITION, error.code.toUpperCase(), error.message);
        }
        throw error;
      }
    }),
  };
}

/** Waits for `work`, or fails at once with DEADLINE_EXCEEDED / CANCELLED (the work goes on). */
export async function untilDone<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) throw abortError(signal);
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_resolve, reject) => {
    onAbort = () => reject(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([work, aborted]);
  } finally {
    if (onAbort !== undefined) signal.removeEventListener('abort', onAbort);
  }
}

function abortError(signal: AbortSignal): AdminError {
  return signal.reason instanceof AdminError
    ? signal.reason
    : new AdminError(status.CANCELLED, 'call cancelled');
}

function listPeers(node: AdminNode, req: ListPeersRequest) {
  const statuses = new Set<PeerStatus>();
  for (const name of req.statuses ?? []) {
    const parsed = peerStatusOf(name);
    if (parsed === undefined)
      throw badField('statuses', 'STATUS_UNSPECIFIED', `not a peer status: ${name}`);
    statuses.add(parsed);
  }
  const pageSize = pageSizeOf(req.page_size);
  const views = new Map<string, PeerView>(node.pool.snapshot().peers.map((p) => [p.peerId, p]));
  const ids = new Set([...views.keys(), ...node.peers.handles.keys()]);
  const rows = [...ids]
    .map((peerId) => ({ peerId, handle: node.peers.handles.get(peerId), view: views.get(peerId) }))
    .filter((row) => statuses.size === 0 || statuses.has(row.handle?.status ?? 'cold'));
  const page = paginate(rows, (row) => row.peerId, {
    pageSize,
    pageToken: req.page_token,
    filter: `peers:${[...statuses].sort().join(',')}`,
  });
  return {
    peers: page.items.map((row) =>
      peerMsg(row.peerId, row.handle, row.view, {
        trusted: node.pool.acl.isTrustedPeer(row.peerId),
        blocked: node.pool.isBlocked({ peerId: row.peerId }),
      }),
    ),
    next_page_token: page.nextPageToken,
    total_size: page.totalSize,
  };
}

function listPoints(node: AdminNode, req: ListPointsRequest) {
  const states = new Set<string>();
  for (const name of req.states ?? []) {
    const state = name.replace(/^POINT_STATE_/, '').toLowerCase();
    if (!pointStates.has(state))
      throw badField('states', 'STATE_UNSPECIFIED', `not a point state: ${name}`);
    states.add(state);
  }
  const pageSize = pageSizeOf(req.page_size);
  const points = node.pool
    .snapshot()
    .points.filter((p) => states.size === 0 || states.has(p.state));
  const page = paginate(points, (p) => p.key, {
    pageSize,
    pageToken: req.page_token,
    filter: `points:${[...states].sort().join(',')}`,
  });
  return {
    points: page.items.map(pointMsg),
    next_page_token: page.nextPageToken,
    total_size: page.totalSize,
  };
}

function livePeerMsg(node: AdminNode, handle: PeerHandle) {
  return peerMsg(handle.peerId, handle, node.pool.peer(handle.peerId), {
    trusted: node.pool.acl.isTrustedPeer(handle.peerId),
    blocked: node.pool.isBlocked({ peerId: handle.peerId }),
  });
}

/** A live (warm or hot) peer at `key` or with `peerId`. */
function findLive(
  node: AdminNode,
  match: { key?: string; peerId?: string },
): PeerHandle | undefined {
  for (const handle of node.peers.handles.values()) {
    if (!isEstablished(handle.status)) continue;
    if (match.peerId !== undefined && handle.peerId === match.peerId) return handle;
    if (match.key !== undefined && handle.connection.point === match.key) return handle;
  }
  return undefined;
}

async function connect(node: AdminNode, req: ConnectRequest, ctx: CallContext) {
  const { spec, key } = pointOf(req.address, 'address');
  ctx.note({ point: key, ...(spec.peerId === undefined ? {} : { pin: spec.peerId }) });
  if (node.pool.isOwnAddress(key)) {
    throw badField('address', 'OWN_ADDRESS', `${key} is this node's own address`);
  }
  const existing = findLive(node, {
    key,
    ...(spec.peerId === undefined ? {} : { peerId: spec.peerId }),
  });
  if (existing !== undefined) return { peer: livePeerMsg(node, existing), already_connected: true };
  // The point, its IP, its pin, or the peer last seen there may be banned or greylisted.
  const blocked =
    node.pool.isBlocked({
      point: key,
      ...(spec.peerId === undefined ? {} : { peerId: spec.peerId }),
    }) ?? node.pool.point(key)?.blocked;
  if (blocked !== undefined) {
    throw withReason(
      status.FAILED_PRECONDITION,
      blocked.reason === 'banned' ? 'BANNED_HERE' : 'GREYLISTED_HERE',
      `${key} is ${blocked.reason} on this node (by ${blocked.by}); unban it first`,
      { point: key },
    );
  }
  node.pool.addPoint(spec, 'admin');
  const before = new Set(node.peers.handles.keys());
  try {
    const handle = await untilDone(node.connect(spec), ctx.signal);
    ctx.note({ peer: handle.peerId, outcome: 'connected' });
    return { peer: livePeerMsg(node, handle), already_connected: before.has(handle.peerId) };
  } catch (error) {
    throw connectFailure(key, error, ctx);
  }
}

/**
 * A failed Connect is FAILED_PRECONDITION with google.rpc.ErrorInfo: `reason` is the remote's
 * refusal (NOT_TRUSTED, TOO_MANY_CONNECTIONS, …) or the dial failure (CONNECT_ERROR,
 * CONNECT_TIMEOUT, UNEXPECTED_PEER_ID, …); metadata has the point, the failure type of DESIGN §5
 * and, for too_many_connections, the alternatives offered.
 */
function connectFailure(key: string, error: unknown, ctx: CallContext): AdminError {
  if (error instanceof AdminError) return error;
  const failureType = (error as { code?: unknown }).code;
  const dial = dialErrorOf(error);
  if (dial?.code === 'shutting_down')
    return new AdminError(status.UNAVAILABLE, 'the node is shutting down');
  const refusal = dial?.refusal;
  const reason = (refusal?.reason ?? dial?.code ?? 'handle_failure').toUpperCase();
  const metadata: Record<string, string> = { point: key };
  if (typeof failureType === 'string') metadata.failure = failureType;
  if (dial?.peerId !== undefined) metadata.peer_id = dial.peerId;
  if (refusal !== undefined && refusal.alternatives.length > 0) {
    metadata.alternatives = refusal.alternatives.join(',');
  }
  ctx.note({ outcome: refusal === undefined ? 'failed' : 'refused', reason: reason.toLowerCase() });
  const message =
    refusal === undefined
      ? `could not connect to ${key}: ${dial?.message ?? (error instanceof Error ? error.message : String(error))}`
      : `${key} refused the connection: ${refusal.reason}`;
  return withReason(status.FAILED_PRECONDITION, reason, message, metadata);
}

async function disconnect(node: AdminNode, req: DisconnectRequest, ctx: CallContext) {
  let handle: PeerHandle | undefined;
  if (req.target === 'peer_id') {
    const peerId = peerIdOf(req.peer_id, 'peer_id');
    ctx.note({ peer: peerId });
    handle = findLive(node, { peerId });
    if (handle === undefined) throw notFound('peer', peerId, `no live peer ${peerId}`);
  } else if (req.target === 'address') {
    const { key } = pointOf(req.address, 'address');
    ctx.note({ point: key });
    handle = findLive(node, { key });
    if (handle === undefined) throw notFound('point', key, `no live connection at ${key}`);
  } else {
    throw badField('peer_id', 'REQUIRED', 'set peer_id or address');
  }
  try {
    await node.peers.close(handle);
  } catch (error) {
    throw withReason(
      status.FAILED_PRECONDITION,
      'NOT_CLOSABLE',
      `${handle.peerId}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  return { peer_id: handle.peerId };
}

async function ban(node: AdminNode, req: BanRequest, ctx: CallContext) {
  const target = banTargetOf(req.target, 'target');
  const durationMs = req.duration === undefined ? 0 : msOf(req.duration);
  if (!Number.isFinite(durationMs) || durationMs < 0) {
    throw badField('duration', 'NEGATIVE', 'must not be negative');
  }
  ctx.note({ target, durationMs });
  const result = node.pool.ban(target, durationMs === 0 ? undefined : durationMs);
  if (!result.ok) {
    switch (result.code) {
      case 'too_many_bans':
        throw withReason(status.RESOURCE_EXHAUSTED, 'TOO_MANY_BANS', 'the ban list is full');
      case 'invalid_duration':
        throw badField('duration', 'INVALID_DURATION', 'not a usable duration');
      default:
        throw badField('target', 'INVALID_TARGET', 'cannot be banned');
    }
  }
  node.events.emit({
    kind: 'ban',
    action: 'ban',
    target: result.entry.target,
    ...(result.entry.untilMs === undefined ? {} : { untilMs: result.entry.untilMs }),
  });
  const affected = new Set(result.affectedPoints);
  const victims = [...node.peers.handles.values()].filter(
    (h) =>
      isEstablished(h.status) &&
      (covers(result.entry.target, h) || affected.has(h.connection.point ?? '')),
  );
  const closed = await Promise.allSettled(victims.map((h) => node.peers.close(h)));
  const closedConnections = closed.filter((c) => c.status === 'fulfilled').length;
  ctx.note({ closedConnections });
  return { ban: banEntryMsg(result.entry), closed_connections: closedConnections };
}

function covers(target: BanTarget, handle: PeerHandle): boolean {
  switch (target.kind) {
    case 'peer':
      return handle.peerId === target.peerId;
    case 'point':
      return handle.connection.point === target.point;
    case 'ip':
      return canonicalHost(handle.connection.remoteHost) === target.ip;
    default: {
      const never: never = target;
      return never;
    }
  }
}

function describeTarget(target: BanTarget): string {
  return target.kind === 'peer'
    ? target.peerId
    : target.kind === 'point'
      ? target.point
      : target.ip;
}
