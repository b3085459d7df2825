import { isPeerId } from '../config/address.ts';
import {
  type AclState,
  type BanEntry,
  type BanTarget,
  defaultAclLimits,
  type GreylistEntry,
} from './acl.ts';
import { maxCountedFailures } from './backoff.ts';
import type { PeerRecord } from './peer-record.ts';
import { hostOfKey, type PointKey, parsePointKey, pointKeyOf, portOfKey } from './point-key.ts';
import { type PointRecord, type PointSource, pointSources } from './point-state.ts';
import type { PoolContents } from './pool.ts';

/**
 * The `peers.json` format (DESIGN §4), version 1. Encoding is plain JSON; decoding treats the
 * file as hostile: every field is checked, every array and string is bounded, and a bad entry
 * is dropped and reported while the rest is kept. Only a file whose overall shape is wrong
 * (not JSON, another schema or version, a section of the wrong type or beyond its bound) is
 * rejected as a whole.
 *
 * ```json
 * { "schema": "meshkeeper.pool", "version": 1, "savedAt": 1700000000000,
 *   "points": [{ "point": "10.0.0.7:9740", "pin": "mk…", "sources": ["bootstrap"],
 *                "addedAt": …, "lastAttemptAt": …, "lastFailureAt": …, "lastFailureReason": "…",
 *                "lastSuccessAt": …, "lastDisconnectAt": …, "consecutiveFailures": 0,
 *                "nextDialAt": 0, "lastPeerId": "mk…", "privateNode": false, "peerSharing": true }],
 *   "peers": [{ "peerId": "mk…", "firstSeenAt": …, "lastSeenAt": …, "lastPoint": "…",
 *               "privateNode": false, "peerSharing": true }],
 *   "bans": [{ "kind": "peer" | "point" | "ip", "value": "…", "since": …, "until": … }],
 *   "greylist": { "ips": [{ "ip": "…", "until": … }], "peerIds": [{ "peerId": "…", "until": … }] },
 *   "trusted": { "points": ["…"], "peerIds": ["…"] } }
 * ```
 */
export const poolFileSchema = 'meshkeeper.pool';
export const poolFileVersion = 1;

/**
 * Bounds on what is read. Points and peer ids allow the largest caps `--connections` can
 * derive (8 · 1000) with room to spare; lower configured caps are applied after loading by
 * the pool's GC, so lowering a cap never makes an old file "corrupt".
 */
export const poolFileLimits = {
  maxFileBytes: 32 * 1024 * 1024,
  maxPoints: 50_000,
  maxPeers: 50_000,
  maxBans: defaultAclLimits.banMaxEntries,
  maxGreylist: defaultAclLimits.greylistMaxEntries,
  maxTrusted: defaultAclLimits.trustMaxEntries,
  maxReasonLength: 64,
  /** Detailed warnings kept; the rest are summed up in one line. */
  maxWarnings: 50,
} as const;

export interface DecodeOptions {
  nowMs: number;
  /** Longest backoff: a saved `nextDialAt` further away than this is brought back to it. */
  reconnectCapMs: number;
  /** A saved greylist entry never lasts longer than a fresh one would. */
  greylistTimeoutMs: number;
}

export type DecodeResult =
  | { readonly ok: true; readonly contents: PoolContents; readonly warnings: readonly string[] }
  | { readonly ok: false; readonly error: string };

export const emptyContents: PoolContents = Object.freeze({
  points: [],
  peers: [],
  acl: { bans: [], ipGreylist: [], peerGreylist: [], trustedPoints: [], trustedPeers: [] },
});

/** The file's text for `contents`, saved at `savedAtMs`. */
export function encodePoolFile(contents: PoolContents, savedAtMs: number): string {
  const file = {
    schema: poolFileSchema,
    version: poolFileVersion,
    savedAt: savedAtMs,
    points: contents.points.map(encodePoint),
    peers: contents.peers.map((p) => ({
      peerId: p.peerId,
      firstSeenAt: p.firstSeenAt,
      lastSeenAt: p.lastSeenAt,
      lastPoint: p.lastPoint,
      privateNode: p.privateNode,
      peerSharing: p.peerSharing,
    })),
    bans: contents.acl.bans.map(encodeBan),
    greylist: {
      ips: contents.acl.ipGreylist.map((g) => ({ ip: g.value, until: g.untilMs })),
      peerIds: contents.acl.peerGreylist.map((g) => ({ peerId: g.value, until: g.untilMs })),
    },
    trusted: { points: contents.acl.trustedPoints, peerIds: contents.acl.trustedPeers },
  };
  return `${JSON.stringify(file, null, 1)}\n`;
}

function encodePoint(p: PointRecord) {
  return {
    point: p.key,
    pin: p.expectedPeerId,
    sources: p.sources,
    addedAt: p.addedAt,
    lastAttemptAt: p.lastAttemptAt,
    lastFailureAt: p.lastFailureAt,
    lastFailureReason: p.lastFailureReason,
    lastSuccessAt: p.lastSuccessAt,
    lastDisconnectAt: p.lastDisconnectAt,
    consecutiveFailures: p.consecutiveFailures,
    nextDialAt: p.nextDialAt,
    lastPeerId: p.lastPeerId,
    privateNode: p.privateNode,
    peerSharing: p.peerSharing,
  };
}

function encodeBan(b: BanEntry) {
  const value =
    b.target.kind === 'peer'
      ? b.target.peerId
      : b.target.kind === 'point'
        ? b.target.point
        : b.target.ip;
  return { kind: b.target.kind, value, since: b.sinceMs, until: b.untilMs };
}

// ---- decoding ------------------------------------------------------------------------

type Obj = Record<string, unknown>;

/** Thrown inside a field reader; caught per entry, never escapes `decodePoolFile`. */
class BadField extends Error {}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

class Reader {
  readonly entry: Obj;
  readonly now: number;

  constructor(entry: Obj, now: number) {
    this.entry = entry;
    this.now = now;
  }

  /** An epoch-ms time: a non-negative safe integer; a time in the future is brought back to now. */
  time(name: string): number {
    const v = this.entry[name];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
      throw new BadField(`${name} is not a time`);
    return Math.min(v, this.now);
  }

  optTime(name: string): number | undefined {
    return this.entry[name] === undefined ? undefined : this.time(name);
  }

  /** A time that may lie in the future (an expiry), bounded by `max`. */
  future(name: string, max: number): number {
    const v = this.entry[name];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
      throw new BadField(`${name} is not a time`);
    return Math.min(v, max);
  }

  bool(name: string): boolean {
    const v = this.entry[name];
    if (typeof v !== 'boolean') throw new BadField(`${name} is not a boolean`);
    return v;
  }

  count(name: string, max: number): number {
    const v = this.entry[name];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
      throw new BadField(`${name} is not a count`);
    return Math.min(v, max);
  }

  peerId(name: string): string {
    const v = this.entry[name];
    if (typeof v !== 'string' || !isPeerId(v)) throw new BadField(`${name} is not a peer id`);
    return v;
  }

  optPeerId(name: string): string | undefined {
    return this.entry[name] === undefined ? undefined : this.peerId(name);
  }

  point(name: string): PointKey {
    const key = readPoint(this.entry[name]);
    if (key === undefined) throw new BadField(`${name} is not a host:port address`);
    return key;
  }

  optPoint(name: string): PointKey | undefined {
    return this.entry[name] === undefined ? undefined : this.point(name);
  }

  reason(name: string): string | undefined {
    const v = this.entry[name];
    if (v === undefined) return undefined;
    if (
      typeof v !== 'string' ||
      v.length > poolFileLimits.maxReasonLength ||
      !/^[a-z0-9_]+$/.test(v)
    ) {
      throw new BadField(`${name} is not a reason code`);
    }
    return v;
  }

  sources(name: string): PointSource[] {
    const v = this.entry[name];
    if (!Array.isArray(v) || v.length === 0 || v.length > pointSources.length) {
      throw new BadField(`${name} is not a list of sources`);
    }
    const out: PointSource[] = [];
    for (const s of v) {
      const source = pointSources.find((known) => known === s);
      if (source === undefined) throw new BadField(`${name} holds an unknown source`);
      if (!out.includes(source)) out.push(source);
    }
    return out;
  }
}

function readPoint(v: unknown): PointKey | undefined {
  if (typeof v !== 'string') return undefined;
  const spec = parsePointKey(v);
  return spec === undefined || spec.peerId !== undefined ? undefined : pointKeyOf(spec);
}

class Warnings {
  readonly list: string[] = [];
  #more = 0;

  add(text: string): void {
    if (this.list.length < poolFileLimits.maxWarnings) this.list.push(text);
    else this.#more++;
  }

  done(): string[] {
    return this.#more === 0
      ? this.list
      : [...this.list, `… and ${this.#more} more dropped entries`];
  }
}

/** Reads every entry of a section, dropping (and reporting) the bad ones and duplicates. */
function readEntries<T>(
  section: string,
  items: readonly unknown[],
  now: number,
  warnings: Warnings,
  read: (r: Reader) => T,
  idOf: (value: T) => string,
): T[] {
  const out: T[] = [];
  const seen = new Set<string>();
  items.forEach((item, i) => {
    try {
      if (!isObj(item)) throw new BadField('not an object');
      const value = read(new Reader(item, now));
      const id = idOf(value);
      if (seen.has(id)) throw new BadField('duplicate');
      seen.add(id);
      out.push(value);
    } catch (error) {
      if (!(error instanceof BadField)) throw error;
      warnings.add(`${section}[${i}] dropped: ${error.message}`);
    }
  });
  return out;
}

function readPointEntry(r: Reader, opts: DecodeOptions): PointRecord {
  const key = r.point('point');
  const pin = r.optPeerId('pin');
  const base: PointRecord = {
    key,
    host: hostOfKey(key),
    port: portOfKey(key),
    state: 'disconnected',
    sources: r.sources('sources'),
    addedAt: r.time('addedAt'),
    consecutiveFailures: r.count('consecutiveFailures', maxCountedFailures),
    nextDialAt: r.future('nextDialAt', opts.nowMs + opts.reconnectCapMs),
    privateNode: r.bool('privateNode'),
    peerSharing: r.bool('peerSharing'),
  };
  const optional: Partial<PointRecord> = {
    expectedPeerId: pin,
    lastAttemptAt: r.optTime('lastAttemptAt'),
    lastFailureAt: r.optTime('lastFailureAt'),
    lastFailureReason: r.reason('lastFailureReason'),
    lastSuccessAt: r.optTime('lastSuccessAt'),
    lastDisconnectAt: r.optTime('lastDisconnectAt'),
    lastPeerId: r.optPeerId('lastPeerId'),
  };
  return withDefined(base, optional);
}

function readPeerEntry(r: Reader): PeerRecord {
  const base: PeerRecord = {
    peerId: r.peerId('peerId'),
    firstSeenAt: r.time('firstSeenAt'),
    lastSeenAt: r.time('lastSeenAt'),
    connections: 0,
    privateNode: r.bool('privateNode'),
    peerSharing: r.bool('peerSharing'),
  };
  return withDefined(base, { lastPoint: r.optPoint('lastPoint') });
}

function readBanEntry(r: Reader): BanEntry {
  const kind = r.entry.kind;
  const value = r.entry.value;
  let target: BanTarget;
  if (kind === 'peer') target = { kind, peerId: r.peerId('value') };
  else if (kind === 'point') target = { kind, point: r.point('value') };
  else if (kind === 'ip') target = { kind, ip: ipOf(value) };
  else throw new BadField('kind is not a ban kind');
  const since = r.time('since');
  const until =
    r.entry.until === undefined ? undefined : r.future('until', Number.MAX_SAFE_INTEGER);
  return until === undefined
    ? { target, sinceMs: since }
    : { target, sinceMs: since, untilMs: until };
}

/** `base` with the defined fields of `optional` (absent fields stay absent, not undefined). */
function withDefined<T extends object>(base: T, optional: Partial<T>): T {
  const defined = Object.entries(optional).filter(([, v]) => v !== undefined);
  return { ...base, ...(Object.fromEntries(defined) as Partial<T>) };
}

/** Where the overall shape is wrong: the whole file is rejected. */
function shapeError(file: Obj): string | undefined {
  if (file.schema !== poolFileSchema) return 'not a meshkeeper pool file';
  if (file.version !== poolFileVersion)
    return `unknown version ${JSON.stringify(file.version)?.slice(0, 20)}`;
  const arrays: [string, unknown, number][] = [
    ['points', file.points, poolFileLimits.maxPoints],
    ['peers', file.peers, poolFileLimits.maxPeers],
    ['bans', file.bans, poolFileLimits.maxBans],
  ];
  const greylist = file.greylist;
  const trusted = file.trusted;
  if (!isObj(greylist)) return 'greylist is not an object';
  if (!isObj(trusted)) return 'trusted is not an object';
  arrays.push(
    ['greylist.ips', greylist.ips, poolFileLimits.maxGreylist],
    ['greylist.peerIds', greylist.peerIds, poolFileLimits.maxGreylist],
    ['trusted.points', trusted.points, poolFileLimits.maxTrusted],
    ['trusted.peerIds', trusted.peerIds, poolFileLimits.maxTrusted],
  );
  for (const [name, value, max] of arrays) {
    if (!Array.isArray(value)) return `${name} is not an array`;
    if (value.length > max) return `${name} holds ${value.length} entries, more than ${max}`;
  }
  return undefined;
}

/**
 * Decodes a pool file. Never throws: a wrong overall shape is an error; bad entries are
 * dropped with a warning each; expired bans and greylist entries are dropped silently.
 */
export function decodePoolFile(text: string, opts: DecodeOptions): DecodeResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ok: false, error: 'not valid JSON' };
  }
  if (!isObj(parsed)) return { ok: false, error: 'not a JSON object' };
  const shape = shapeError(parsed);
  if (shape !== undefined) return { ok: false, error: shape };
  const file = parsed as Obj & { greylist: Obj; trusted: Obj };
  const now = opts.nowMs;
  const w = new Warnings();
  const arr = (v: unknown) => v as unknown[];

  const points = readEntries(
    'points',
    arr(file.points),
    now,
    w,
    (r) => readPointEntry(r, opts),
    (p) => p.key,
  );
  const peers = readEntries('peers', arr(file.peers), now, w, readPeerEntry, (p) => p.peerId);
  const bans = readEntries(
    'bans',
    arr(file.bans),
    now,
    w,
    readBanEntry,
    (b) => encodeBan(b).kind + encodeBan(b).value,
  ).filter((b) => b.untilMs === undefined || b.untilMs > now);
  const greyMax = now + opts.greylistTimeoutMs;
  const ipGreylist = readEntries(
    'greylist.ips',
    arr(file.greylist.ips),
    now,
    w,
    (r): GreylistEntry => ({ value: ipOf(r.entry.ip), untilMs: r.future('until', greyMax) }),
    (g) => g.value,
  ).filter((g) => g.untilMs > now);
  const peerGreylist = readEntries(
    'greylist.peerIds',
    arr(file.greylist.peerIds),
    now,
    w,
    (r): GreylistEntry => ({ value: r.peerId('peerId'), untilMs: r.future('until', greyMax) }),
    (g) => g.value,
  ).filter((g) => g.untilMs > now);
  const trustedPoints = readEntries(
    'trusted.points',
    arr(file.trusted.points).map((point) => ({ point })),
    now,
    w,
    (r) => r.point('point'),
    (k) => k,
  );
  const trustedPeers = readEntries(
    'trusted.peerIds',
    arr(file.trusted.peerIds).map((peerId) => ({ peerId })),
    now,
    w,
    (r) => r.peerId('peerId'),
    (id) => id,
  );
  const acl: AclState = { bans, ipGreylist, peerGreylist, trustedPoints, trustedPeers };
  return { ok: true, contents: { points, peers, acl }, warnings: w.done() };
}

/** A canonical IP (or host name) from a file field; throws BadField otherwise. */
function ipOf(v: unknown): string {
  if (typeof v !== 'string' || v.length > 300) throw new BadField('ip is not an address');
  const key = readPoint(`${v.includes(':') ? `[${v}]` : v}:1`);
  if (key === undefined) throw new BadField('ip is not an address');
  return hostOfKey(key);
}
