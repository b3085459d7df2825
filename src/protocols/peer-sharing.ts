import { create } from '@bufbuild/protobuf';
import type { Clock } from '../clock.ts';
import { parsePoint } from '../config/address.ts';
import { PeerSharingSchema } from '../wire/gen/meshkeeper/wire/v1/peersharing_pb.ts';
import type { Channel } from '../wire/mux.ts';
import { withDeadline } from './deadline.ts';
import { type Closable, MessageChannel } from './message-channel.ts';

/**
 * Peer-sharing (mini-protocol 2, established bundle; DESIGN §3, Cardano's PeerSharing): a
 * request for up to 100 points, answered with at most min(amount, 30) shareable points.
 */
export const MAX_REQUEST_AMOUNT = 100;
export const MAX_REPLY_POINTS = 30;
/** A responder answers one request per peer per this interval; others get an empty reply. */
export const MIN_REQUEST_INTERVAL_MS = 10_000;
/** Matches the 64 KiB ingress limit of the mini-protocol. */
const MAX_MESSAGE_BYTES = 64 * 1024;

/** The client side: one request at a time on a long-lived instance. */
export class PeerSharingClient {
  readonly #messages: MessageChannel<typeof PeerSharingSchema>;
  readonly #clock: Clock;
  readonly #timeoutMs: number;
  #busy: Promise<unknown> = Promise.resolve();

  constructor(channel: Channel, connection: Closable, opts: { clock: Clock; timeoutMs: number }) {
    this.#messages = new MessageChannel(channel, connection, PeerSharingSchema, MAX_MESSAGE_BYTES);
    this.#clock = opts.clock;
    this.#timeoutMs = opts.timeoutMs;
  }

  /**
   * Asks for up to `amount` points. A reply with more than asked, or with a malformed point, is
   * a protocol violation (as Cardano's client treats it): the connection closes and this rejects.
   */
  request(amount: number): Promise<string[]> {
    if (!Number.isInteger(amount) || amount < 1 || amount > MAX_REQUEST_AMOUNT) {
      return Promise.reject(new RangeError(`amount must be 1..${MAX_REQUEST_AMOUNT}`));
    }
    const run = this.#busy.then(() => this.#exchange(amount));
    this.#busy = run.catch(() => {});
    return run;
  }

  /** Ends the instance (a clean return). */
  end(): Promise<void> {
    return this.#messages.end();
  }

  async #exchange(amount: number): Promise<string[]> {
    const messages = this.#messages;
    await messages.send(
      create(PeerSharingSchema, { message: { case: 'request', value: { amount } } }),
    );
    const reply = await withDeadline(this.#clock, messages.next(), this.#timeoutMs, () =>
      messages.fail('timeout', `no peer-sharing reply in ${this.#timeoutMs} ms`),
    );
    if (reply === null) throw messages.fail('protocol_violation', 'server ended before replying');
    if (reply.message.case !== 'reply') {
      throw messages.fail('protocol_violation', 'expected a peer-sharing reply');
    }
    const points = reply.message.value.points;
    if (points.length > amount) {
      throw messages.fail('protocol_violation', `${points.length} points for ${amount} asked`);
    }
    for (const point of points) {
      if (!parsePoint(point).ok) throw messages.fail('protocol_violation', 'malformed point');
    }
    return points;
  }
}

export interface PeerSharingServerOptions {
  clock: Clock;
  /** Up to `amount` points this node may share with this peer (the pool applies the rules). */
  provide: (amount: number) => string[];
}

/** Serves requests until the client ends the instance, then ends ours. */
export async function servePeerSharing(
  channel: Channel,
  connection: Closable,
  opts: PeerSharingServerOptions,
): Promise<void> {
  const messages = new MessageChannel(channel, connection, PeerSharingSchema, MAX_MESSAGE_BYTES);
  let lastAnsweredAt = Number.NEGATIVE_INFINITY;
  for (;;) {
    const request = await messages.next();
    if (request === null) break;
    if (request.message.case !== 'request') {
      throw messages.fail('protocol_violation', 'peer-sharing server expects requests');
    }
    const amount = request.message.value.amount;
    if (amount > MAX_REQUEST_AMOUNT) {
      throw messages.fail('protocol_violation', `request for ${amount} points`);
    }
    const now = opts.clock.now();
    let points: string[] = [];
    if (now - lastAnsweredAt >= MIN_REQUEST_INTERVAL_MS) {
      lastAnsweredAt = now;
      points = opts
        .provide(Math.min(amount, MAX_REPLY_POINTS))
        .slice(0, Math.min(amount, MAX_REPLY_POINTS));
    }
    await messages.send(
      create(PeerSharingSchema, { message: { case: 'reply', value: { points } } }),
    );
  }
  await messages.end();
}
