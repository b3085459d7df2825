import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import { status } from '@grpc/grpc-js';
import type { NodeEvent } from '../../../src/admin/events.ts';
import { NodeEvents } from '../../../src/admin/events.ts';
import type { WatchEventsResponse } from '../../../src/admin/messages.ts';
import { type EventSink, EventWatch } from '../../../src/admin/watch.ts';

/** A sink that takes `room` messages, then pushes back until `drain()`. */
class FakeSink extends EventEmitter implements EventSink {
  written: WatchEventsResponse[] = [];
  failed: { code: number; message: string } | undefined;
  ended = false;
  room: number;

  constructor(room: number) {
    super();
    this.room = room;
  }

  write(message: WatchEventsResponse): boolean {
    this.written.push(message);
    this.room--;
    return this.room > 0;
  }

  fail(code: number, message: string): void {
    this.failed = { code, message };
  }

  end(): void {
    this.ended = true;
  }

  drain(room: number): void {
    this.room = room;
    this.emit('drain');
  }
}

function cycle(n: number): NodeEvent {
  return {
    kind: 'cycle',
    atMs: 1_700_000_000_000 + n,
    summary: {
      motive: 'idle',
      before: n,
      after: n,
      dialed: 0,
      succeeded: 0,
      closed: 0,
      askedForMore: false,
      durationMs: 1,
    },
  };
}

test('watch: events go out at once while the transport takes them, numbered from 1', () => {
  const sink = new FakeSink(100);
  const watch = new EventWatch(sink, { kinds: new Set(), bufferEvents: 4, onOverflow: () => {} });
  for (let i = 0; i < 3; i++) watch.push(cycle(i));
  assert.deepEqual(
    sink.written.map((m) => [m.sequence, m.kind, m.cycle?.before]),
    [
      [1, 'EVENT_KIND_CYCLE', 0],
      [2, 'EVENT_KIND_CYCLE', 1],
      [3, 'EVENT_KIND_CYCLE', 2],
    ],
  );
});

test('watch: held while the transport pushes back, then sent in order on drain', () => {
  const sink = new FakeSink(1);
  const watch = new EventWatch(sink, { kinds: new Set(), bufferEvents: 4, onOverflow: () => {} });
  for (let i = 0; i < 4; i++) watch.push(cycle(i));
  assert.equal(sink.written.length, 1);
  assert.equal(watch.buffered, 3);
  sink.drain(100);
  assert.deepEqual(
    sink.written.map((m) => m.cycle?.before),
    [0, 1, 2, 3],
  );
  assert.equal(watch.buffered, 0);
});

test('watch: one event more than the buffer ends the stream with RESOURCE_EXHAUSTED and counts the drop', () => {
  const sink = new FakeSink(1);
  const dropped: number[] = [];
  const watch = new EventWatch(sink, {
    kinds: new Set(),
    bufferEvents: 3,
    onOverflow: (n) => dropped.push(n),
  });
  for (let i = 0; i < 10; i++) watch.push(cycle(i));
  assert.equal(sink.failed?.code, status.RESOURCE_EXHAUSTED);
  assert.deepEqual(dropped, [4], 'the three held and the one that did not fit, counted once');
  assert.deepEqual(watch.ended, { reason: 'overflow', dropped: 4 });
  assert.equal(watch.buffered, 0, 'nothing is kept for a reader that fell behind');
  sink.drain(100);
  assert.equal(sink.written.length, 1, 'no event is sent after the overflow');
});

test('watch: only the kinds asked for', () => {
  const sink = new FakeSink(100);
  const watch = new EventWatch(sink, {
    kinds: new Set(['bounds_change']),
    bufferEvents: 4,
    onOverflow: () => {},
  });
  watch.push(cycle(1));
  watch.push({
    kind: 'bounds_change',
    atMs: 0,
    bounds: { min: 1, expected: 2, max: 3 },
    band: { minThreshold: 1, minTarget: 1, maxTarget: 3, maxThreshold: 3 },
  });
  assert.deepEqual(
    sink.written.map((m) => [m.sequence, m.kind]),
    [[1, 'EVENT_KIND_BOUNDS_CHANGE']],
  );
});

test('watch: close with UNAVAILABLE ends it once; OK ends it cleanly', () => {
  const a = new FakeSink(100);
  const w = new EventWatch(a, { kinds: new Set(), bufferEvents: 4, onOverflow: () => {} });
  w.close(status.UNAVAILABLE, 'shutting down');
  w.close(status.INTERNAL, 'again');
  assert.deepEqual(a.failed, { code: status.UNAVAILABLE, message: 'shutting down' });
  const b = new FakeSink(100);
  new EventWatch(b, { kinds: new Set(), bufferEvents: 4, onOverflow: () => {} }).close(
    status.OK,
    '',
  );
  assert.equal(b.ended, true);
});

test('event hub: a throwing listener neither breaks the reporter nor starves the others', () => {
  const events = new NodeEvents({
    now: () => 42,
    setTimeout: () => ({ cancel() {} }),
    sleep: async () => {},
  });
  const got: number[] = [];
  events.on(() => {
    throw new Error('bug in a watcher');
  });
  events.on((e) => got.push(e.atMs));
  const event = cycle(0);
  assert.ok(event.kind === 'cycle');
  assert.doesNotThrow(() => events.cycle(event.summary));
  assert.deepEqual(got, [42]);
});
