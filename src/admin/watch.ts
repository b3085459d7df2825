import { status } from '@grpc/grpc-js';
import { eventMsg } from './convert.ts';
import type { NodeEvent, NodeEventKind } from './events.ts';
import type { WatchEventsResponse } from './messages.ts';

/** What a watch needs of a grpc-js server stream (ServerWritableStream). */
export interface EventSink {
  write(message: WatchEventsResponse): boolean;
  once(event: 'drain', listener: () => void): unknown;
  /** Ends the stream with a status (grpc-js: `emit('error', …)` then end). */
  fail(code: status, message: string): void;
  end(): void;
}

export interface WatchOptions {
  /** Kinds to send; empty for all. */
  kinds: ReadonlySet<NodeEventKind>;
  /** Events held while the reader is behind; one more ends the stream. */
  bufferEvents: number;
  /** Told how many events were dropped when the buffer overflowed (once per stream). */
  onOverflow: (dropped: number) => void;
}

export type WatchEnd =
  | { reason: 'overflow'; dropped: number }
  | { reason: 'closed'; code: status; message: string };

/**
 * One WatchEvents stream. `push` is called synchronously by the node's event hub and never waits:
 * while the transport takes messages they are written at once; when it pushes back (HTTP/2 flow
 * control, a reader that does not read) events wait in a buffer of `bufferEvents`, and the next
 * one ends the stream with RESOURCE_EXHAUSTED: the reader learns it missed events instead of
 * seeing a silent gap, and the node keeps no more than the buffer for it.
 */
export class EventWatch {
  readonly #sink: EventSink;
  readonly #opts: WatchOptions;
  #queue: NodeEvent[] = [];
  #blocked = false;
  #sequence = 0;
  #ended: WatchEnd | undefined;

  constructor(sink: EventSink, opts: WatchOptions) {
    this.#sink = sink;
    this.#opts = opts;
  }

  get ended(): WatchEnd | undefined {
    return this.#ended;
  }

  get buffered(): number {
    return this.#queue.length;
  }

  push(event: NodeEvent): void {
    if (this.#ended !== undefined) return;
    if (this.#opts.kinds.size > 0 && !this.#opts.kinds.has(event.kind)) return;
    if (!this.#blocked) {
      this.#write(event);
      return;
    }
    if (this.#queue.length < this.#opts.bufferEvents) {
      this.#queue.push(event);
      return;
    }
    const dropped = this.#queue.length + 1;
    this.#queue = [];
    this.#ended = { reason: 'overflow', dropped };
    this.#opts.onOverflow(dropped);
    this.#sink.fail(
      status.RESOURCE_EXHAUSTED,
      `reader too slow: more than ${this.#opts.bufferEvents} events waiting, ${dropped} dropped; watch again`,
    );
  }

  /** Ends the stream with `code` (e.g. UNAVAILABLE while shutting down); OK ends it cleanly. */
  close(code: status, message: string): void {
    if (this.#ended !== undefined) return;
    this.#ended = { reason: 'closed', code, message };
    this.#queue = [];
    if (code === status.OK) this.#sink.end();
    else this.#sink.fail(code, message);
  }

  #write(event: NodeEvent): void {
    this.#sequence++;
    if (this.#sink.write(eventMsg(event, this.#sequence))) return;
    this.#blocked = true;
    this.#sink.once('drain', () => this.#flush());
  }

  #flush(): void {
    this.#blocked = false;
    while (this.#ended === undefined && !this.#blocked) {
      const next = this.#queue.shift();
      if (next === undefined) return;
      this.#write(next);
    }
  }
}
