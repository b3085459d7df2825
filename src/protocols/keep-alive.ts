import { create } from '@bufbuild/protobuf';
import type { Clock } from '../clock.ts';
import { type KeepAlive, KeepAliveSchema } from '../wire/gen/meshkeeper/wire/v1/keepalive_pb.ts';
import type { Channel } from '../wire/mux.ts';
import { withDeadline } from './deadline.ts';
import { type Closable, MessageChannel } from './message-channel.ts';

/**
 * Keep-alive (mini-protocol 1, established bundle; DESIGN §3). Both sides run a client on every
 * established connection; the mux flag tells the two instances apart.
 */

/** The keep-alive ingress limit is 1 KiB; one message is a few bytes. */
const MAX_MESSAGE_BYTES = 64;

export interface KeepAliveClientOptions {
  clock: Clock;
  intervalMs: number;
  timeoutMs: number;
  /** Aborting it ends the instance cleanly (a clean return) after any ping in flight. */
  signal: AbortSignal;
  /** Called with each measured round trip, in seconds. */
  onRtt: (rttSeconds: number) => void;
  /**
   * Monotonic milliseconds the round trip is measured with: `performance.now` by default (the
   * clock's epoch milliseconds are too coarse for a LAN); the simulator passes its clock's.
   */
  monotonicMs?: () => number;
}

/**
 * Pings every `intervalMs` and waits `timeoutMs` for the matching pong. A missing or wrong pong
 * closes the connection (`timeout`, `protocol_violation`) and rejects; the monitoring loop sees
 * the error. Resolves when the signal aborts or the server ends the instance.
 */
export async function runKeepAliveClient(
  channel: Channel,
  connection: Closable,
  opts: KeepAliveClientOptions,
): Promise<void> {
  const messages = new MessageChannel(channel, connection, KeepAliveSchema, MAX_MESSAGE_BYTES);
  const elapsedMs = opts.monotonicMs ?? (() => performance.now());
  let cookie = 0;
  while (!opts.signal.aborted) {
    cookie = (cookie + 1) >>> 0;
    const sentAt = elapsedMs();
    await messages.send(create(KeepAliveSchema, { message: { case: 'ping', value: { cookie } } }));
    const reply = await withDeadline(opts.clock, messages.next(), opts.timeoutMs, () =>
      messages.fail('timeout', `no pong in ${opts.timeoutMs} ms`),
    );
    if (reply === null) return;
    if (reply.message.case !== 'pong' || reply.message.value.cookie !== cookie) {
      throw messages.fail('protocol_violation', `expected pong ${cookie}`);
    }
    opts.onRtt((elapsedMs() - sentAt) / 1000);
    try {
      await opts.clock.sleep(opts.intervalMs, opts.signal);
    } catch {
      break;
    }
  }
  await messages.end();
}

/** Answers each ping with its cookie until the client ends the instance, then ends ours. */
export async function serveKeepAlive(channel: Channel, connection: Closable): Promise<void> {
  const messages = new MessageChannel(channel, connection, KeepAliveSchema, MAX_MESSAGE_BYTES);
  for (;;) {
    const request: KeepAlive | null = await messages.next();
    if (request === null) break;
    if (request.message.case !== 'ping') {
      throw messages.fail('protocol_violation', 'keep-alive server expects pings');
    }
    const cookie = request.message.value.cookie;
    await messages.send(create(KeepAliveSchema, { message: { case: 'pong', value: { cookie } } }));
  }
  await messages.end();
}
