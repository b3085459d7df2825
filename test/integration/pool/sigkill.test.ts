import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AdminClient } from '../../../src/admin/client.ts';
import { systemClock } from '../../../src/clock.ts';
import { peerIdFromPublicKey } from '../../../src/identity/index.ts';
import { type AclState, banKey, loadPool, poolFileName } from '../../../src/pool/index.ts';
import { type Rng, randomInt, seededRng } from '../../../src/rng.ts';
import { defaultConfig } from '../../fixtures/config.ts';
import { killAll } from '../../fixtures/scenario.ts';
import {
  type AdminNodeProcess,
  closeClients,
  metricValue,
  startAdminNode,
  until,
} from '../admin/fixtures.ts';

// Persistence under SIGKILL (DESIGN §4): a real `meshkeeper run` process on 127.0.22.1 takes
// 200 pool updates through its admin API (Ban, Unban, Trust, Untrust, Connect) with
// peers.json written every few milliseconds, and is killed with SIGKILL at seeded-random
// moments, several times. After each kill the real loader must read the file whole (never a
// `.corrupt-*`), holding exactly the bans and trust after some prefix of the updates; the
// restarted node must come up with them.

const HOST = '127.0.22.1';
const UPDATES = 200;
const KILLS = 6;
const SEED = 22;
const DEBOUNCE_MS = 5;
const FILE_FLAGS = [`--pool-persist-debounce=${DEBOUNCE_MS}ms`];

const dataDir = mkdtempSync(join(tmpdir(), 'meshkeeper-sigkill-'));

/** Temp files of writeFileAtomic (`.peers.json.<pid>.<random>.tmp`): a kill mid-write leaves one. */
function tempFiles(): string[] {
  return readdirSync(dataDir).filter(
    (n) => n.startsWith(`.${poolFileName}.`) && n.endsWith('.tmp'),
  );
}

const nodes: AdminNodeProcess[] = [];
after(async () => {
  closeClients();
  await killAll(nodes);
  rmSync(dataDir, { recursive: true, force: true });
});

/** Targets: points at 127.0.22.100+ (nothing listens: a Connect fails at once), TEST-NET IPs. */
const POINTS = Array.from({ length: 24 }, (_, i) => `127.0.22.${100 + i}:9`);
const IPS = Array.from({ length: 12 }, (_, i) => `192.0.2.${1 + i}`);

type BanTargetMsg = { peer_id: string } | { address: string } | { ip: string };
type TrustTargetMsg = { peer_id: string } | { address: string };
type Update =
  | { rpc: 'Ban'; target: BanTargetMsg; permanent: boolean }
  | { rpc: 'Unban'; target: BanTargetMsg }
  | { rpc: 'Trust'; target: TrustTargetMsg }
  | { rpc: 'Untrust'; target: TrustTargetMsg }
  | { rpc: 'Connect'; address: string };

/** The bans and trust the node should hold, keyed as the file names them (`kind:value`). */
class AclModel {
  readonly bans: ReadonlyMap<string, 'permanent' | 'timed'>;
  readonly trusted: ReadonlySet<string>;

  constructor(
    bans: ReadonlyMap<string, 'permanent' | 'timed'> = new Map(),
    trusted: ReadonlySet<string> = new Set(),
  ) {
    this.bans = bans;
    this.trusted = trusted;
  }

  static of(acl: AclState): AclModel {
    const bans = new Map<string, 'permanent' | 'timed'>();
    for (const b of acl.bans) {
      bans.set(banKey(b.target), b.untilMs === undefined ? 'permanent' : 'timed');
    }
    const trusted = new Set([
      ...acl.trustedPoints.map((p) => `point:${p}`),
      ...acl.trustedPeers.map((p) => `peer:${p}`),
    ]);
    return new AclModel(bans, trusted);
  }

  /** What the node holds after `update` succeeds: a ban and a trust of one target exclude each other. */
  apply(update: Update): AclModel {
    const bans = new Map(this.bans);
    const trusted = new Set(this.trusted);
    switch (update.rpc) {
      case 'Ban':
        bans.set(keyOf(update.target), update.permanent ? 'permanent' : 'timed');
        trusted.delete(keyOf(update.target));
        break;
      case 'Unban':
        bans.delete(keyOf(update.target));
        break;
      case 'Trust':
        trusted.add(keyOf(update.target));
        bans.delete(keyOf(update.target));
        break;
      case 'Untrust':
        trusted.delete(keyOf(update.target));
        break;
      case 'Connect':
        break;
      default:
        update satisfies never;
    }
    return new AclModel(bans, trusted);
  }

  get key(): string {
    return JSON.stringify([[...this.bans].sort(), [...this.trusted].sort()]);
  }
}

function keyOf(target: BanTargetMsg): string {
  if ('peer_id' in target) return `peer:${target.peer_id}`;
  if ('address' in target) return `point:${target.address}`;
  return `ip:${target.ip}`;
}

function targetOf(key: string): BanTargetMsg {
  const at = key.indexOf(':');
  const [kind, value] = [key.slice(0, at), key.slice(at + 1)];
  return kind === 'peer'
    ? { peer_id: value }
    : kind === 'point'
      ? { address: value }
      : { ip: value };
}

function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[randomInt(rng, items.length)] as T;
}

/** A valid next update for `model`: an Unban or Untrust always names something it holds. */
function nextUpdate(rng: Rng, model: AclModel, peers: readonly string[]): Update {
  const roll = rng.next();
  const trustable = (): TrustTargetMsg =>
    rng.next() < 0.5 ? { address: pick(rng, POINTS) } : { peer_id: pick(rng, peers) };
  if (roll < 0.15 && model.bans.size > 0) {
    return { rpc: 'Unban', target: targetOf(pick(rng, [...model.bans.keys()])) };
  }
  if (roll < 0.25 && model.trusted.size > 0) {
    return { rpc: 'Untrust', target: targetOf(pick(rng, [...model.trusted])) as TrustTargetMsg };
  }
  if (roll < 0.45) return { rpc: 'Trust', target: trustable() };
  if (roll < 0.75) {
    const which = randomInt(rng, 3);
    const target: BanTargetMsg =
      which === 0
        ? { peer_id: pick(rng, peers) }
        : which === 1
          ? { address: pick(rng, POINTS) }
          : { ip: pick(rng, IPS) };
    return { rpc: 'Ban', target, permanent: rng.next() < 0.5 };
  }
  return { rpc: 'Connect', address: pick(rng, POINTS) };
}

async function send(client: AdminClient, update: Update): Promise<void> {
  const settings = { timeoutMs: 10_000 };
  switch (update.rpc) {
    case 'Ban':
      await client.call(
        'Ban',
        { target: update.target, ...(update.permanent ? {} : { duration: { seconds: 3600 } }) },
        settings,
      );
      return;
    case 'Unban':
      await client.call('Unban', { target: update.target }, settings);
      return;
    case 'Trust':
      await client.call('Trust', { target: update.target }, settings);
      return;
    case 'Untrust':
      await client.call('Untrust', { target: update.target }, settings);
      return;
    case 'Connect':
      // Nothing listens there: the dial fails, and the pool records the point and the failure.
      await client.call('Connect', { address: update.address }, settings).catch(() => {});
      return;
    default:
      update satisfies never;
  }
}

/** What the real loader makes of peers.json now; fails on anything but a whole, clean file. */
async function readPoolFile(what: string): Promise<AclModel> {
  const names = readdirSync(dataDir);
  assert.deepEqual(
    names.filter((n) => n.startsWith(`${poolFileName}.corrupt-`)),
    [],
    `${what}: no file moved aside as corrupt`,
  );
  const loaded = await loadPool(join(dataDir, poolFileName), {
    clock: systemClock,
    config: defaultConfig().pool,
  });
  assert.equal(loaded.status, 'loaded', `${what}: ${loaded.warnings.join('; ')}`);
  assert.deepEqual(loaded.warnings, [], `${what}: every entry readable`);
  return AclModel.of(loaded.contents.acl);
}

async function start(): Promise<AdminNodeProcess> {
  const node = await startAdminNode(HOST, FILE_FLAGS, { dataDir });
  nodes.push(node);
  return node;
}

/**
 * A restarted node holds what the file held: its points say so through the admin API, and the
 * file it writes from its restored pool (it saves at once after a restore) holds the same.
 */
async function expectRestored(
  node: AdminNodeProcess,
  client: AdminClient,
  model: AclModel,
  what: string,
) {
  assert.ok(
    !node.logs.some((l) => l.event === 'pool_file_rejected'),
    `${what}: peers.json accepted`,
  );
  const stale = tempFiles().filter((n) => !n.includes(`.${node.child.pid}.`));
  assert.deepEqual(stale, [], `${what}: the temp file of an interrupted write removed`);
  const { points = [] } = await client.call('ListPoints', { page_size: 1000 });
  const listed = new Map(points.map((p) => [p.address ?? '', p]));
  for (const key of model.trusted) {
    if (key.startsWith('point:')) assert.ok(listed.has(key.slice(6)), `${what}: ${key} known`);
  }
  for (const address of POINTS) {
    const point = listed.get(address);
    if (point === undefined) continue;
    assert.equal(
      point.trusted ?? false,
      model.trusted.has(`point:${address}`),
      `${what}: ${address} trust`,
    );
    const bannedHere =
      point.blocked?.reason === 'BLOCK_REASON_BANNED' && point.blocked.by === 'BLOCKED_BY_POINT';
    assert.equal(bannedHere, model.bans.has(`point:${address}`), `${what}: ${address} ban`);
  }
  await until(
    () => metricValue(node, 'meshkeeper_persist_total', { result: 'ok' }),
    (written) => written >= 1,
    10_000,
    `${what}: the restored pool written`,
  );
  assert.equal((await readPoolFile(what)).key, model.key, `${what}: bans and trust kept`);
}

test('SIGKILL at random moments during 200 pool updates never leaves an unreadable peers.json; bans and trust survive restarts', async (t) => {
  const rng = seededRng(SEED);
  const peers = Array.from({ length: 12 }, () =>
    peerIdFromPublicKey(Uint8Array.from({ length: 32 }, () => randomInt(rng, 256))),
  );
  // One kill at a random update in each of KILLS equal stretches.
  const stretch = Math.floor(UPDATES / KILLS);
  const killAt = new Set(
    Array.from({ length: KILLS }, (_, k) => k * stretch + 5 + randomInt(rng, stretch - 5)),
  );

  let node = await start();
  let client = node.client();
  let model = new AclModel();
  /** Every state since the last verified restart: after a kill the file must hold one of them. */
  let states = [model];
  let killed = 0;
  let midWrite = 0;
  /** Per kill, the updates since the last write that the kill took with it. */
  const lost: number[] = [];
  for (let i = 0; i < UPDATES; i++) {
    const update = nextUpdate(rng, model, peers);
    model = model.apply(update);
    states.push(model);
    if (!killAt.has(i)) {
      await send(client, update);
      continue;
    }
    // Half the kills land while the update is in flight, half when its write is due (after
    // the debounce, a write takes about a millisecond here): mid-write, often.
    const inFlight = send(client, update).catch(() => {});
    if (killed % 2 === 1) await inFlight;
    await sleep(killed % 2 === 1 ? DEBOUNCE_MS + randomInt(rng, 3) : randomInt(rng, 5));
    await node.stop('SIGKILL');
    await inFlight;
    killed++;
    const what = `kill ${killed} (update ${i})`;
    if (tempFiles().length > 0) midWrite++;
    const saved = await readPoolFile(what);
    const kept = states.findLastIndex((s) => s.key === saved.key);
    assert.ok(kept >= 0, `${what}: the file holds the state after some prefix of the updates`);
    lost.push(states.length - 1 - kept);
    model = states[kept] as AclModel;
    states = [model];
    client.close();
    node = await start();
    client = node.client();
    await expectRestored(node, client, model, `restart ${killed}`);
  }

  // Once the last update is on disk, a kill loses nothing of it.
  await until(
    () => readPoolFile('final write'),
    (saved) => saved.key === model.key,
    10_000,
    'the last update written',
  );
  await node.stop('SIGKILL');
  client.close();
  node = await start();
  client = node.client();
  await expectRestored(node, client, model, 'final restart');
  assert.equal(killed, KILLS);
  t.diagnostic(
    `${midWrite} of ${KILLS} kills landed mid-write (a temp file was left); ` +
      `updates lost per kill (not yet written): ${lost.join(', ')}`,
  );
  assert.ok(model.bans.size + model.trusted.size > 0, 'something to keep');
});
