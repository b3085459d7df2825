import { create } from '@bufbuild/protobuf';
import type { Clock } from '../clock.ts';
import {
  type Deliver,
  type Gossip,
  GossipSchema,
} from '../wire/gen/meshkeeper/wire/v1/gossip_pb.ts';
import type { Channel, ChannelRole } from '../wire/mux.ts';
import { Protocol } from '../wire/protocol-numbers.ts';
import { ID_BYTES, idKey, matchesId } from './gossip-ids.ts';
import { type Closable, MessageChannel } from './message-channel.ts';
import { Fifo, SeenCache } from './seen-cache.ts';

/**
 * One gossip session per hot connection (DESIGN §3 Gossip, §5 hot bundle).
 *
 * Mapping onto the mux. Each side writes only on the instance whose client it runs: our
 * *client* instance carries everything we say — Announce (ids we have), Request (ids the remote
 * announced that we want), Deliver (payloads the remote requested) — and the remote's instance,
 * which we serve, carries everything it says. The server direction of either instance carries no
 * message, only its `end`. So the mux's rule "the client writes first" always holds, a side never
 * waits for the other's instance to exist before it can speak, and the two directions of traffic
 * are independent streams with their own backpressure.
 *
 * Lifecycle. A connection has at most one running session; it serves the remote's instance, if
 * any, and owns ours. The hot bundle's start (`startGossip`) opens our instance at once with an
 * empty Announce, so the remote learns of it; the remote's responder then serves it in the
 * remote's running session, or starts one. A session started by a responder opens our instance
 * only when it has something to say (a Request, an Announce), so two sessions never keep opening
 * instances at each other. A peer we promote to hot therefore gossips with us both ways whether
 * or not it promoted us.
 *
 * `stop()` drops what is queued and ends our instance after the message being written. The
 * remote, reading that end, stops its session: it ends its own instance, then its server side of
 * ours. Reading the end of its instance we end our server side of it, and `done` resolves once
 * both instances are complete (last to finish). The remote ending its instance first is a clean
 * return as well (the monitoring loop turns it into `deactivate`). Ending our own instance before
 * completing the remote's means that a remote instance whose first frame arrives after ours
 * completed is a new one. Errors close the connection with a WireError code and reject `done`.
 */

/** Bounds of one session and of the router's payload store. */
export interface GossipLimits {
  /** Most ids in one Announce or Request; more is a `protocol_violation`. */
  maxIdsPerMessage: number;
  /** Ids waiting to be announced to one peer; over it the oldest is dropped (and counted). */
  maxPendingAnnounceIds: number;
  /** Ids waiting to be requested from one peer; over it the oldest is dropped. */
  maxPendingRequestIds: number;
  /** Ids one peer asked for that wait to be delivered; over it the oldest is dropped. */
  maxPendingDeliveries: number;
  /** Ids remembered per peer (announced by it, or delivered to it) so none is asked or sent twice. */
  rememberedIdsPerPeer: number;
  /** Bytes of recent payloads kept to answer requests (each also leaves after the seen TTL). */
  storeBytes: number;
}

export const defaultGossipLimits: GossipLimits = {
  maxIdsPerMessage: 256,
  maxPendingAnnounceIds: 10_000,
  maxPendingRequestIds: 10_000,
  maxPendingDeliveries: 10_000,
  rememberedIdsPerPeer: 10_000,
  storeBytes: 64 * 1024 * 1024,
};

/** Where the router's announcements go: a session, or a fake in tests. */
export interface GossipPeer {
  /** Queues `id` to be announced to this peer; never waits. */
  announce(id: Uint8Array): void;
}

/** What a session needs from its router. */
export interface GossipHub {
  readonly clock: Clock;
  readonly limits: GossipLimits;
  readonly maxMessageBytes: number;
  readonly seenTtlMs: number;
  isSeen(id: Uint8Array): boolean;
  payloadOf(id: Uint8Array): Uint8Array | undefined;
  /** A verified payload from `from`: delivered once, a duplicate afterwards. */
  accept(from: GossipPeer, id: Uint8Array, payload: Uint8Array): 'delivered' | 'duplicate';
  attach(peer: GossipPeer): void;
  detach(peer: GossipPeer): void;
  /** Counts announcements that will never be sent. */
  dropped(count: number): void;
}

/** The connection a session runs on (a Connection). */
export interface GossipConnection extends Closable {
  readonly mux: { channel(protocol: number, role: ChannelRole): Channel };
}

export type GossipSessionState = 'running' | 'stopping' | 'done';

/** Protobuf overhead of a Deliver around its payload (tags, lengths, the 32-byte id), rounded up. */
const MESSAGE_OVERHEAD_BYTES = 64;

/** A bounded FIFO of ids: pushing onto a full one drops the oldest and returns it. */
class IdQueue {
  readonly #items = new Fifo<Uint8Array>();
  readonly #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  get length(): number {
    return this.#items.length;
  }

  push(id: Uint8Array): Uint8Array | undefined {
    this.#items.push(id);
    return this.#items.length > this.#max ? this.#items.shift() : undefined;
  }

  shift(): Uint8Array | undefined {
    return this.#items.shift();
  }

  take(max: number): Uint8Array[] {
    const ids: Uint8Array[] = [];
    while (ids.length < max) {
      const id = this.#items.shift();
      if (id === undefined) break;
      ids.push(id);
    }
    return ids;
  }

  clear(): number {
    return this.#items.clear();
  }
}

const TURNS = ['request', 'announce', 'deliver'] as const;
type Turn = (typeof TURNS)[number];

export class GossipSession implements GossipPeer {
  /** Resolves on a clean return (see the module comment); rejects with the connection's error. */
  readonly done: Promise<void>;
  readonly #connection: GossipConnection;
  readonly #hub: GossipHub;
  readonly #limits: GossipLimits;
  readonly #messageLimit: number;
  readonly #announces: IdQueue;
  readonly #requests: IdQueue;
  readonly #deliveries: IdQueue;
  /** Ids the remote announced or delivered: never requested twice, never announced back. */
  readonly #remoteHas: SeenCache;
  /** Ids the remote asked for and we queued: each is delivered at most once per session. */
  readonly #answered: SeenCache;
  #state: GossipSessionState = 'running';
  #server: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  /** Send an (empty) Announce at once to open our instance, rather than wait for content. */
  #eager = false;
  /** Settles once our instance has ended, or was never opened and never will be. */
  readonly #clientEnd: Promise<void>;
  #clientEnded: () => void = () => {};
  #turn = 0;
  #receivedDeliveries = 0;
  #announcedIds = 0;

  /** Starts the session; its instance opens once `previous` (the last session here) is done. */
  constructor(connection: GossipConnection, hub: GossipHub, previous?: Promise<unknown>) {
    this.#connection = connection;
    this.#hub = hub;
    const limits = hub.limits;
    this.#limits = limits;
    this.#messageLimit =
      Math.max(hub.maxMessageBytes, limits.maxIdsPerMessage * (ID_BYTES + 2)) +
      MESSAGE_OVERHEAD_BYTES;
    this.#announces = new IdQueue(limits.maxPendingAnnounceIds);
    this.#requests = new IdQueue(limits.maxPendingRequestIds);
    this.#deliveries = new IdQueue(limits.maxPendingDeliveries);
    const remembered = {
      clock: hub.clock,
      capacity: limits.rememberedIdsPerPeer,
      ttlMs: hub.seenTtlMs,
    };
    this.#remoteHas = new SeenCache(remembered);
    this.#answered = new SeenCache(remembered);
    this.#clientEnd = new Promise((resolve) => {
      this.#clientEnded = resolve;
    });
    hub.attach(this);
    this.done = this.#run(previous ?? Promise.resolve());
    // Sessions a responder starts have no other observer; the rejection is still seen by callers.
    this.done.catch(() => {});
  }

  get state(): GossipSessionState {
    return this.#state;
  }

  /** True once the remote's instance is attached (see `serve`). */
  get serving(): boolean {
    return this.#server !== undefined;
  }

  /** Ids queued to be announced to the remote (at most `maxPendingAnnounceIds`). */
  get pendingAnnounceIds(): number {
    return this.#announces.length;
  }

  /** Ids queued to be requested from the remote (at most `maxPendingRequestIds`). */
  get pendingRequestIds(): number {
    return this.#requests.length;
  }

  /** Ids the remote asked for, queued for delivery (at most `maxPendingDeliveries`). */
  get pendingDeliveries(): number {
    return this.#deliveries.length;
  }

  /** Ids taken into Announce messages (written, or being written). */
  get announcedIds(): number {
    return this.#announcedIds;
  }

  /** Valid Deliver messages received, new or duplicate. */
  get receivedDeliveries(): number {
    return this.#receivedDeliveries;
  }

  announce(id: Uint8Array): void {
    if (this.#state !== 'running') {
      this.#hub.dropped(1);
      return;
    }
    if (this.#remoteHas.has(idKey(id))) return;
    if (this.#announces.push(id) !== undefined) this.#hub.dropped(1);
    this.#signal();
  }

  /**
   * Makes this session open our instance at once (the hot bundle's start): the remote learns of
   * it and starts its own session, even before we have anything to say.
   */
  open(): void {
    this.#eager = true;
    this.#signal();
  }

  /** Serves the remote's instance of gossip on this connection (its responder's channel). */
  serve(channel: Channel): void {
    if (this.#server !== undefined) throw new Error('gossip session already serves an instance');
    this.#server = this.#serve(channel);
    this.#server.catch(() => {});
  }

  /**
   * Asks the session to finish: queued announcements are dropped (and counted), nothing more is
   * requested or delivered, our instance ends after the message being written. Idempotent.
   */
  stop(): void {
    if (this.#state !== 'running') return;
    this.#state = 'stopping';
    this.#hub.detach(this);
    const unsent = this.#announces.clear();
    if (unsent > 0) this.#hub.dropped(unsent);
    this.#requests.clear();
    this.#deliveries.clear();
    this.#signal();
  }

  async #run(previous: Promise<unknown>): Promise<void> {
    try {
      await this.#runClient(previous);
      await this.#server;
    } finally {
      this.stop();
      this.#state = 'done';
    }
  }

  /**
   * Our instance: opened by the first message (at once for an eager session, with the first
   * thing to say otherwise), written until stopped, then ended; complete when the remote ended
   * its side too.
   */
  async #runClient(previous: Promise<unknown>): Promise<void> {
    let client: MessageChannel<typeof GossipSchema> | undefined;
    let remoteSide: Promise<void> | undefined;
    try {
      // A mini-protocol instance restarts only once the previous one completed (mux rule).
      await previous.catch(() => {});
      while (this.#state === 'running') {
        const opener = this.#eager && client === undefined ? gossip('announce', []) : undefined;
        const message = this.#nextMessage() ?? opener;
        if (message === undefined) {
          await new Promise<void>((resolve) => {
            this.#wake = resolve;
          });
          continue;
        }
        if (client === undefined) {
          const channel = this.#connection.mux.channel(Protocol.gossip, 'client');
          client = new MessageChannel(channel, this.#connection, GossipSchema, this.#messageLimit);
          remoteSide = this.#awaitRemoteEnd(client);
          remoteSide.catch(() => {});
        }
        await client.send(message);
      }
      await client?.end(); // never opened: nothing to end
    } finally {
      this.#clientEnded();
    }
    await remoteSide;
  }

  /** The server direction of our instance carries no message: only the remote's end. */
  async #awaitRemoteEnd(client: MessageChannel<typeof GossipSchema>): Promise<void> {
    const message = await this.#stopOnError(client.next());
    if (message !== null) {
      this.stop();
      throw client.fail('protocol_violation', 'gossip message on the server side of our instance');
    }
    this.stop();
  }

  /**
   * `read`, stopping the session when it fails: the connection is gone (or closing for a
   * protocol error), so the writer must not wait for more work.
   */
  async #stopOnError<T>(read: Promise<T>): Promise<T> {
    try {
      return await read;
    } catch (error) {
      this.stop();
      throw error;
    }
  }

  #signal(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /** The next message to write, taking turns between the queues so none starves the others. */
  #nextMessage(): Gossip | undefined {
    for (let i = 0; i < TURNS.length; i++) {
      const index = (this.#turn + i) % TURNS.length;
      const message = this.#take(TURNS[index] as Turn);
      if (message !== undefined) {
        this.#turn = (index + 1) % TURNS.length;
        return message;
      }
    }
    return undefined;
  }

  #take(turn: Turn): Gossip | undefined {
    switch (turn) {
      case 'request': {
        const ids = this.#requests.take(this.#limits.maxIdsPerMessage);
        return ids.length === 0 ? undefined : gossip('request', ids);
      }
      case 'announce': {
        const ids = this.#announces.take(this.#limits.maxIdsPerMessage);
        this.#announcedIds += ids.length;
        return ids.length === 0 ? undefined : gossip('announce', ids);
      }
      case 'deliver': {
        for (let id = this.#deliveries.shift(); id !== undefined; id = this.#deliveries.shift()) {
          const payload = this.#hub.payloadOf(id);
          if (payload !== undefined) {
            return create(GossipSchema, { message: { case: 'deliver', value: { id, payload } } });
          }
        }
        return undefined;
      }
      default: {
        const unexpected: never = turn;
        throw new Error(`unknown turn ${String(unexpected)}`);
      }
    }
  }

  /** The remote's instance: every message it sends, until it ends the instance. */
  async #serve(channel: Channel): Promise<void> {
    const messages = new MessageChannel(
      channel,
      this.#connection,
      GossipSchema,
      this.#messageLimit,
    );
    for (;;) {
      const message = await this.#stopOnError(messages.next());
      if (message === null) break;
      try {
        this.#receive(message, messages);
      } catch (error) {
        this.stop();
        throw error;
      }
    }
    // The remote returned cleanly: so does this session. Our instance ends before we complete
    // theirs, so that the remote sees every frame of it before it may open a new one.
    this.stop();
    await this.#clientEnd;
    await messages.end();
  }

  #receive(message: Gossip, messages: MessageChannel<typeof GossipSchema>): void {
    const body = message.message;
    switch (body.case) {
      case 'announce':
        this.#checkIds('announce', body.value.ids, messages);
        this.#onAnnounce(body.value.ids);
        return;
      case 'request':
        this.#checkIds('request', body.value.ids, messages);
        this.#onRequest(body.value.ids);
        return;
      case 'deliver':
        this.#onDeliver(body.value, messages);
        return;
      case undefined:
        throw messages.fail('protocol_violation', 'empty gossip message');
      default: {
        const unexpected: never = body;
        throw messages.fail('protocol_violation', `unknown gossip message ${String(unexpected)}`);
      }
    }
  }

  #checkIds(
    kind: 'announce' | 'request',
    ids: readonly Uint8Array[],
    messages: MessageChannel<typeof GossipSchema>,
  ): void {
    const max = this.#limits.maxIdsPerMessage;
    if (ids.length > max) {
      throw messages.fail('protocol_violation', `gossip ${kind} of ${ids.length} ids (max ${max})`);
    }
    if (ids.some((id) => id.length !== ID_BYTES)) {
      throw messages.fail('protocol_violation', `gossip ${kind} with an id that is not SHA-256`);
    }
  }

  /** Requests each unseen id once from this peer. */
  #onAnnounce(ids: readonly Uint8Array[]): void {
    if (this.#state !== 'running') return;
    for (const id of ids) {
      if (!this.#remoteHas.add(idKey(id))) continue;
      if (this.#hub.isSeen(id)) continue;
      this.#requests.push(id);
    }
    this.#signal();
  }

  /** Queues each id we hold, once per session; unknown ids are ignored. */
  #onRequest(ids: readonly Uint8Array[]): void {
    if (this.#state !== 'running') return;
    for (const id of ids) {
      if (this.#hub.payloadOf(id) === undefined) continue;
      if (!this.#answered.add(idKey(id))) continue;
      this.#deliveries.push(id);
    }
    this.#signal();
  }

  /** Verifies and hands a payload to the router; a wrong one is the remote's fault. */
  #onDeliver(deliver: Deliver, messages: MessageChannel<typeof GossipSchema>): void {
    const { id, payload } = deliver;
    if (payload.length > this.#hub.maxMessageBytes) {
      throw messages.fail(
        'protocol_violation',
        `gossip payload of ${payload.length} bytes (max ${this.#hub.maxMessageBytes})`,
      );
    }
    if (!matchesId(id, payload)) {
      throw messages.fail('protocol_violation', 'gossip deliver whose id is not its SHA-256');
    }
    this.#receivedDeliveries += 1;
    this.#remoteHas.add(idKey(id));
    this.#hub.accept(this, id, payload);
  }
}

function gossip(kind: 'announce' | 'request', ids: Uint8Array[]): Gossip {
  return create(GossipSchema, { message: { case: kind, value: { ids } } });
}
