import type { Clock } from '../clock.ts';
import type { Config } from '../config/types.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { Metrics } from '../telemetry/metrics.ts';
import type { Channel } from '../wire/mux.ts';
import { idKey, messageId } from './gossip-ids.ts';
import {
  defaultGossipLimits,
  type GossipConnection,
  type GossipHub,
  type GossipLimits,
  type GossipPeer,
  GossipSession,
} from './gossip-session.ts';
import { AgedMap, SeenCache } from './seen-cache.ts';

/**
 * Gossip (mini-protocol 3, hot bundle; DESIGN §3): `Announce { ids }`, `Request { ids }`,
 * `Deliver { id, payload }`, id = SHA-256(payload). One `GossipRouter` per node holds the
 * seen-cache and the recent payloads and fans announcements out to every attached session; one
 * `GossipSession` per hot connection speaks the protocol (see gossip-session.ts for how it maps
 * onto the mux's two instances and how it stops).
 */

export { ID_BYTES, messageId } from './gossip-ids.ts';
export {
  defaultGossipLimits,
  type GossipConnection,
  type GossipLimits,
  type GossipPeer,
  GossipSession,
  type GossipSessionState,
} from './gossip-session.ts';

export type GossipErrorCode = 'message_too_large';

/** A publish the router refuses; nothing was sent. */
export class GossipError extends Error {
  readonly code: GossipErrorCode;

  constructor(code: GossipErrorCode, message: string) {
    super(message);
    this.name = 'GossipError';
    this.code = code;
  }
}

export interface GossipRouterDeps {
  clock: Clock;
  config: Config['gossip'];
  metrics?: Pick<Metrics, 'gossipMessages'>;
  log?: Logger;
  /** Each message from the network, once per node (never our own publishes). */
  onMessage(payload: Uint8Array, id: Uint8Array): void;
  limits?: Partial<GossipLimits>;
}

export interface PublishResult {
  id: Uint8Array;
  /** False when the payload was already seen within the TTL: nothing was announced. */
  fresh: boolean;
}

/** A running session as the hot bundle sees it (the shape of a `MiniProtocolRun`). */
export interface GossipRun {
  readonly done: Promise<void>;
  stop(): void;
  readonly session: GossipSession;
}

type GossipEvent = 'published' | 'delivered' | 'duplicate' | 'dropped';

/** Per-entry bookkeeping counted against the store's byte budget, so empty payloads are not free. */
const STORE_ENTRY_OVERHEAD_BYTES = 128;

export class GossipRouter implements GossipHub {
  readonly clock: Clock;
  readonly limits: GossipLimits;
  readonly maxMessageBytes: number;
  readonly seenTtlMs: number;
  readonly #deps: GossipRouterDeps;
  readonly #seen: SeenCache;
  /** Recent payloads by id, to answer requests: bounded by bytes, entries and the seen TTL. */
  readonly #store: AgedMap<Uint8Array>;
  readonly #peers = new Set<GossipPeer>();
  readonly #sessions = new WeakMap<GossipConnection, GossipSession>();

  constructor(deps: GossipRouterDeps) {
    this.#deps = deps;
    this.clock = deps.clock;
    this.limits = { ...defaultGossipLimits, ...deps.limits };
    this.maxMessageBytes = deps.config.maxMessageBytes;
    this.seenTtlMs = deps.config.seenTtlMs;
    this.#seen = new SeenCache({
      clock: deps.clock,
      capacity: deps.config.seenCacheSize,
      ttlMs: deps.config.seenTtlMs,
    });
    this.#store = new AgedMap({
      clock: deps.clock,
      maxEntries: deps.config.seenCacheSize,
      ttlMs: deps.config.seenTtlMs,
      maxWeight: this.limits.storeBytes,
      weight: (payload) => payload.length + STORE_ENTRY_OVERHEAD_BYTES,
    });
  }

  /** Peers currently receiving announcements. */
  get attachedPeers(): number {
    return this.#peers.size;
  }

  /**
   * Announces `payload` to every attached peer and keeps it to answer their requests. Throws a
   * `GossipError` (`message_too_large`) above `gossip.maxMessageBytes`, sending nothing. A payload
   * seen within the TTL is not announced again (`fresh: false`).
   */
  publish(payload: Uint8Array): PublishResult {
    if (payload.length > this.maxMessageBytes) {
      throw new GossipError(
        'message_too_large',
        `gossip payload of ${payload.length} bytes (max ${this.maxMessageBytes})`,
      );
    }
    const id = messageId(payload);
    const key = idKey(id);
    if (!this.#seen.add(key)) return { id, fresh: false };
    // A copy: the caller may reuse its buffer, and we serve these bytes for minutes.
    this.#store.add(key, payload.slice());
    this.#count('published');
    for (const peer of this.#peers) peer.announce(id);
    return { id, fresh: true };
  }

  /** `peer` receives every later announcement (publishes and first deliveries from others). */
  attach(peer: GossipPeer): void {
    this.#peers.add(peer);
  }

  /** `peer` receives no more announcements. */
  detach(peer: GossipPeer): void {
    this.#peers.delete(peer);
  }

  /** True while `id` is in the seen-cache. */
  isSeen(id: Uint8Array): boolean {
    return this.#seen.has(idKey(id));
  }

  /** The payload of `id` if it is still stored. */
  payloadOf(id: Uint8Array): Uint8Array | undefined {
    return this.#store.get(idKey(id));
  }

  /**
   * A payload whose id the caller verified. The first time: stored, handed to `onMessage`,
   * counted `delivered` and announced to every attached peer but `from`; afterwards (within the
   * TTL) only counted `duplicate`.
   */
  accept(from: GossipPeer, id: Uint8Array, payload: Uint8Array): 'delivered' | 'duplicate' {
    const key = idKey(id);
    if (!this.#seen.add(key)) {
      this.#count('duplicate');
      return 'duplicate';
    }
    // The store keeps a compact copy (a decoded payload may be a view into a larger buffer); the
    // application gets the decoded bytes, which nothing else holds.
    this.#store.add(key, payload.slice());
    this.#count('delivered');
    for (const peer of this.#peers) if (peer !== from) peer.announce(id);
    try {
      this.#deps.onMessage(payload, id);
    } catch (error) {
      this.#deps.log?.warn({ event: 'gossip_handler_failed', err: error }, 'onMessage threw');
    }
    return 'delivered';
  }

  /** Counts announcements that will never be sent (a full queue, or a session gone). */
  dropped(count: number): void {
    this.#deps.metrics?.gossipMessages.inc({ event: 'dropped' }, count);
  }

  /**
   * The running session on `connection`, started and attached if it has none. A session still
   * stopping there is replaced; the new one opens its instance once the old one is done.
   */
  sessionFor(connection: GossipConnection): GossipSession {
    const current = this.#sessions.get(connection);
    if (current !== undefined && current.state === 'running') return current;
    const session = new GossipSession(connection, this, current?.done);
    this.#sessions.set(connection, session);
    return session;
  }

  #count(event: GossipEvent): void {
    this.#deps.metrics?.gossipMessages.inc({ event });
  }
}

/**
 * The hot protocol on `connection` (for the hot bundle, e.g. `hot: { gossip: ({ connection }) =>
 * startGossip(connection, router) }`): the connection's session, started if needed, with our
 * instance opened at once. `done` resolves on a clean return (ours after `stop()`, or the
 * remote's) and rejects with the connection's error.
 */
export function startGossip(connection: GossipConnection, router: GossipRouter): GossipRun {
  const session = router.sessionFor(connection);
  session.open();
  return { done: session.done, stop: () => session.stop(), session };
}

/**
 * The gossip responder: serves the instance the remote opened (`channel`) in the connection's
 * session, starting one if there is none. Use as
 * `connection.setResponder(Protocol.gossip, (channel, c) => serveGossip(channel, c, router))`;
 * with only the connection at hand, `channel` is `connection.mux.channel(Protocol.gossip,
 * 'server')`.
 */
export function serveGossip(
  channel: Channel,
  connection: GossipConnection,
  router: GossipRouter,
): void {
  const session = router.sessionFor(connection);
  if (session.serving) {
    // The remote can open a new instance only after its previous one completed, which stops the
    // session serving it; reaching here is a bug of ours, not the peer's.
    throw new Error('gossip: a second remote instance on a running session');
  }
  session.serve(channel);
}
