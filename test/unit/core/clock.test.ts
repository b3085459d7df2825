import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeClock, systemClock } from '../../../src/clock.ts';

test('FakeClock fires timers in time order, then insertion order', async () => {
  const clock = new FakeClock(0);
  const fired: string[] = [];
  clock.setTimeout(() => fired.push('b@20'), 20);
  clock.setTimeout(() => fired.push('a@10'), 10);
  clock.setTimeout(() => fired.push('c@20'), 20);
  await clock.advance(15);
  assert.deepEqual(fired, ['a@10']);
  assert.equal(clock.now(), 15);
  await clock.advance(5);
  assert.deepEqual(fired, ['a@10', 'b@20', 'c@20']);
});

test('FakeClock: a cancelled timer never fires', async () => {
  const clock = new FakeClock(0);
  let fired = false;
  clock
    .setTimeout(() => {
      fired = true;
    }, 5)
    .cancel();
  await clock.advance(10);
  assert.equal(fired, false);
  assert.equal(clock.pendingTimers, 0);
});

test('FakeClock: timers scheduled by async continuations fire within the same advance', async () => {
  const clock = new FakeClock(0);
  const times: number[] = [];
  const loop = async (): Promise<void> => {
    for (let i = 0; i < 3; i++) {
      await clock.sleep(100);
      times.push(clock.now());
    }
  };
  const done = loop();
  await clock.advance(1000);
  await done;
  assert.deepEqual(times, [100, 200, 300]);
});

test('sleep rejects with the abort reason and cancels its timer', async () => {
  const clock = new FakeClock(0);
  const ac = new AbortController();
  const p = clock.sleep(1000, ac.signal);
  ac.abort(new Error('stop'));
  await assert.rejects(p, /stop/);
  assert.equal(clock.pendingTimers, 0);
});

test('systemClock.sleep waits real time', async () => {
  const t0 = performance.now();
  await systemClock.sleep(20);
  assert.ok(performance.now() - t0 >= 15);
});
