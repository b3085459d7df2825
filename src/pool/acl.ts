import type { Clock } from '../clock.ts';
import { canonicalHost, type PointKey, parsePointKey, pointKeyOf } from './point-key.ts';

/**
 * Access control (DESIGN §4): automatic greylists, operator bans, trust.
 *
 * - Greylists (IP and peer id) expire exactly `greylistTimeoutMs` after the last offence
 *   (an entry is blocking while `now < until`) and are bounded: when full, the entry that
 *   expires soonest goes first. Octez' peer greylist never expires and its IP greylist is a
 *   decaying Bloom filter with false positives; exact expiry is explainable to an operator.
 * - Bans are the operator's: by peer id, point or IP, permanent or for a duration.
 * - Trust exempts from greylisting (a trusted point's IP and a trusted peer id are never
 *   greylisted). Bans are explicit and always apply; the last operator action wins:
 *   trusting a point or peer lifts the ban naming it (as Octez' `trust`), banning it lifts
 *   its trust.
 */

export type BanTarget =
  | { readonly kind: 'peer'; readonly peerId: string }
  | { readonly kind: 'point'; readonly point: PointKey }
  | { readonly kind: 'ip'; readonly ip: string };

export interface BanEntry {
  readonly target: BanTarget;
  readonly sinceMs: number;
  /** Absent: permanent. */
  readonly untilMs?: number;
}

export interface GreylistEntry {
  readonly value: string;
  readonly untilMs: number;
}

export type BlockReason = 'banned' | 'greylisted';

/** Why something is blocked, and by which of its names. */
export interface Blocked {
  readonly reason: BlockReason;
  readonly by: 'peer_id' | 'point' | 'ip';
  /** Absent for a permanent ban. */
  readonly untilMs?: number;
}

/** What to check: any of a point, an IP (e.g. an inbound socket's) and a peer id. */
export interface BlockQuery {
  readonly point?: PointKey;
  readonly ip?: string;
  readonly peerId?: string;
}

/**
 * Size bounds. 10 000 greylist entries per list: a flood of misbehaving connections costs
 * each attacker a TLS handshake, so at the measured few hundred setups per second the list
 * covers the last ~30 s of a flood and at most a few MiB of memory; bans and trust are the
 * operator's and bounded so that an admin script or a hostile file cannot grow them without end.
 */
export interface AclLimits {
  greylistMaxEntries: number;
  banMaxEntries: number;
  trustMaxEntries: number;
}

export const defaultAclLimits: AclLimits = {
  greylistMaxEntries: 10_000,
  banMaxEntries: 10_000,
  trustMaxEntries: 1_000,
};

export type BanResult =
  | { readonly ok: true; readonly entry: BanEntry }
  | { readonly ok: false; readonly code: 'invalid_duration' | 'invalid_target' | 'too_many_bans' };

export type TrustResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly code: 'too_many_trusted' | 'invalid_target' };

/** What persistence saves and restores. */
export interface AclState {
  readonly bans: readonly BanEntry[];
  readonly ipGreylist: readonly GreylistEntry[];
  readonly peerGreylist: readonly GreylistEntry[];
  readonly trustedPoints: readonly PointKey[];
  readonly trustedPeers: readonly string[];
}

/** What an ACL change touched: these points, IPs and peer ids, or anything. */
export type AclChange = readonly BanTarget[] | 'all';

export interface AclDeps {
  clock: Clock;
  greylistTimeoutMs: number;
  limits?: Partial<AclLimits>;
  /**
   * Called after every change (persistence listens through the pool), with the points, IPs and
   * peer ids whose standing (trust, ban, greylist) changed, or 'all'.
   */
  onChange?: (changed: AclChange) => void;
}

/** The IP of a point key (its canonical host). */
function hostOfPoint(point: PointKey): string | undefined {
  return parsePointKey(point)?.host;
}

function normalIp(ip: string): string {
  return canonicalHost(ip) ?? ip.toLowerCase();
}

/** What names a ban, normalised (`peer:…`, `point:…`, `ip:…`): one ban per key. */
export function banKey(target: BanTarget): string {
  switch (target.kind) {
    case 'peer':
      return `peer:${target.peerId}`;
    case 'point':
      return `point:${target.point}`;
    case 'ip':
      return `ip:${normalIp(target.ip)}`;
    default:
      return assertNeverTarget(target);
  }
}

function assertNeverTarget(value: never): never {
  throw new Error(`unexpected ban target: ${JSON.stringify(value)}`);
}

function normalTarget(target: BanTarget): BanTarget | undefined {
  switch (target.kind) {
    case 'peer':
      return target.peerId.length > 0 ? target : undefined;
    case 'point': {
      const point = canonicalPoint(target.point);
      return point === undefined ? undefined : { kind: 'point', point };
    }
    case 'ip': {
      const ip = canonicalHost(target.ip);
      return ip === undefined ? undefined : { kind: 'ip', ip };
    }
    default:
      return assertNeverTarget(target);
  }
}

function canonicalPoint(point: string): PointKey | undefined {
  const spec = parsePointKey(point);
  return spec === undefined ? undefined : pointKeyOf(spec);
}

/** A greylist with exact expiry, bounded by evicting the soonest-expiring entry. */
class Greylist {
  readonly #entries = new Map<string, number>();
  readonly #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  add(value: string, untilMs: number, nowMs: number): void {
    const current = this.#entries.get(value);
    if (current !== undefined) {
      this.#entries.set(value, Math.max(current, untilMs));
      return;
    }
    if (this.#entries.size >= this.#max) this.#makeRoom(nowMs);
    this.#entries.set(value, untilMs);
  }

  until(value: string, nowMs: number): number | undefined {
    const until = this.#entries.get(value);
    if (until === undefined) return undefined;
    if (nowMs >= until) {
      this.#entries.delete(value);
      return undefined;
    }
    return until;
  }

  delete(value: string): boolean {
    return this.#entries.delete(value);
  }

  clear(): boolean {
    const had = this.#entries.size > 0;
    this.#entries.clear();
    return had;
  }

  entries(nowMs: number): GreylistEntry[] {
    this.prune(nowMs);
    return [...this.#entries].map(([value, untilMs]) => ({ value, untilMs }));
  }

  prune(nowMs: number): void {
    for (const [value, until] of this.#entries) if (nowMs >= until) this.#entries.delete(value);
  }

  get size(): number {
    return this.#entries.size;
  }

  #makeRoom(nowMs: number): void {
    this.prune(nowMs);
    if (this.#entries.size < this.#max) return;
    let soonest: string | undefined;
    let soonestUntil = Number.POSITIVE_INFINITY;
    for (const [value, until] of this.#entries) {
      if (until < soonestUntil) {
        soonest = value;
        soonestUntil = until;
      }
    }
    if (soonest !== undefined) this.#entries.delete(soonest);
  }
}

export class Acl {
  readonly #clock: Clock;
  readonly #greylistTimeoutMs: number;
  readonly #limits: AclLimits;
  readonly #onChange: ((changed: AclChange) => void) | undefined;
  readonly #ipGreylist: Greylist;
  readonly #peerGreylist: Greylist;
  readonly #bans = new Map<string, BanEntry>();
  /** Trusted point → its host; hosts of trusted points are never greylisted. */
  readonly #trustedPoints = new Map<PointKey, string>();
  readonly #trustedHosts = new Map<string, number>();
  readonly #trustedPeers = new Set<string>();

  constructor(deps: AclDeps) {
    this.#clock = deps.clock;
    this.#greylistTimeoutMs = deps.greylistTimeoutMs;
    this.#limits = { ...defaultAclLimits, ...deps.limits };
    this.#onChange = deps.onChange;
    this.#ipGreylist = new Greylist(this.#limits.greylistMaxEntries);
    this.#peerGreylist = new Greylist(this.#limits.greylistMaxEntries);
  }

  get limits(): Readonly<AclLimits> {
    return this.#limits;
  }

  /** Greylists an IP for `greylistTimeoutMs`; false (nothing done) when it hosts a trusted point. */
  greylistIp(ip: string): boolean {
    const host = normalIp(ip);
    if (this.#trustedHosts.has(host)) return false;
    const now = this.#clock.now();
    this.#ipGreylist.add(host, now + this.#greylistTimeoutMs, now);
    this.#changed([{ kind: 'ip', ip: host }]);
    return true;
  }

  /** Greylists a peer id for `greylistTimeoutMs`; false (nothing done) when it is trusted. */
  greylistPeer(peerId: string): boolean {
    if (this.#trustedPeers.has(peerId)) return false;
    const now = this.#clock.now();
    this.#peerGreylist.add(peerId, now + this.#greylistTimeoutMs, now);
    this.#changed([{ kind: 'peer', peerId }]);
    return true;
  }

  /** Empties the IP greylist (bans and the peer greylist stay). */
  clearIpGreylist(): void {
    if (this.#ipGreylist.clear()) this.#changed('all');
  }

  /** Empties the peer-id greylist (bans and the IP greylist stay). */
  clearPeerGreylist(): void {
    if (this.#peerGreylist.clear()) this.#changed('all');
  }

  /** Bans a target, permanently when `durationMs` is absent; replaces an earlier ban of it. */
  ban(target: BanTarget, durationMs?: number): BanResult {
    if (durationMs !== undefined && !(Number.isFinite(durationMs) && durationMs > 0)) {
      return { ok: false, code: 'invalid_duration' };
    }
    const normal = normalTarget(target);
    if (normal === undefined) return { ok: false, code: 'invalid_target' };
    const now = this.#clock.now();
    const key = banKey(normal);
    if (!this.#bans.has(key)) {
      this.#pruneBans(now);
      if (this.#bans.size >= this.#limits.banMaxEntries)
        return { ok: false, code: 'too_many_bans' };
    }
    const entry: BanEntry =
      durationMs === undefined
        ? { target: normal, sinceMs: now }
        : { target: normal, sinceMs: now, untilMs: now + durationMs };
    this.#bans.set(key, entry);
    if (normal.kind === 'peer') this.#trustedPeers.delete(normal.peerId);
    if (normal.kind === 'point') this.#dropTrustedPoint(normal.point);
    this.#changed([normal]);
    return { ok: true, entry };
  }

  /** Lifts a ban; false when there was none. */
  unban(target: BanTarget): boolean {
    const normal = normalTarget(target);
    if (normal === undefined) return false;
    const removed = this.#bans.delete(banKey(normal));
    if (removed) this.#changed([normal]);
    return removed;
  }

  /** Trusts a point: its IP is never greylisted; lifts a ban of exactly this point. */
  trustPoint(pointKey: PointKey): TrustResult {
    const point = canonicalPoint(pointKey);
    if (point === undefined) return { ok: false, code: 'invalid_target' };
    if (this.#trustedPoints.has(point)) return { ok: true };
    if (this.#trustedPoints.size >= this.#limits.trustMaxEntries) {
      return { ok: false, code: 'too_many_trusted' };
    }
    const host = hostOfPoint(point) ?? point;
    this.#trustedPoints.set(point, host);
    this.#trustedHosts.set(host, (this.#trustedHosts.get(host) ?? 0) + 1);
    this.#ipGreylist.delete(host);
    this.#bans.delete(banKey({ kind: 'point', point }));
    this.#changed([
      { kind: 'point', point },
      { kind: 'ip', ip: host },
    ]);
    return { ok: true };
  }

  untrustPoint(point: PointKey): boolean {
    const removed = this.#dropTrustedPoint(point);
    if (removed) this.#changed([{ kind: 'point', point }]);
    return removed;
  }

  /** Trusts a peer id: never greylisted; lifts a ban of it. */
  trustPeer(peerId: string): TrustResult {
    if (peerId.length === 0) return { ok: false, code: 'invalid_target' };
    if (this.#trustedPeers.has(peerId)) return { ok: true };
    if (this.#trustedPeers.size >= this.#limits.trustMaxEntries) {
      return { ok: false, code: 'too_many_trusted' };
    }
    this.#trustedPeers.add(peerId);
    this.#peerGreylist.delete(peerId);
    this.#bans.delete(banKey({ kind: 'peer', peerId }));
    this.#changed([{ kind: 'peer', peerId }]);
    return { ok: true };
  }

  untrustPeer(peerId: string): boolean {
    const removed = this.#trustedPeers.delete(peerId);
    if (removed) this.#changed([{ kind: 'peer', peerId }]);
    return removed;
  }

  isTrustedPoint(point: PointKey): boolean {
    return this.#trustedPoints.has(point);
  }

  /** Whether a trusted point is at this IP. */
  isTrustedHost(ip: string): boolean {
    return this.#trustedHosts.size > 0 && this.#trustedHosts.has(normalIp(ip));
  }

  isTrustedPeer(peerId: string): boolean {
    return this.#trustedPeers.has(peerId);
  }

  /**
   * Whether any of the query's names is banned or greylisted, bans first, then point, IP
   * (given, or the point's host) and peer id. Greylists never block a trusted point's IP or
   * a trusted peer id.
   */
  isBlocked(query: BlockQuery): Blocked | undefined {
    const now = this.#clock.now();
    const ip =
      query.ip !== undefined
        ? normalIp(query.ip)
        : query.point !== undefined
          ? hostOfPoint(query.point)
          : undefined;
    if (this.#bans.size > 0) {
      const banned =
        (query.point !== undefined
          ? this.#banOf(`point:${query.point}`, 'point', now)
          : undefined) ??
        (ip !== undefined ? this.#banOf(`ip:${ip}`, 'ip', now) : undefined) ??
        (query.peerId !== undefined
          ? this.#banOf(`peer:${query.peerId}`, 'peer_id', now)
          : undefined);
      if (banned !== undefined) return banned;
    }
    if (ip !== undefined && !this.#trustedHosts.has(ip)) {
      const until = this.#ipGreylist.until(ip, now);
      if (until !== undefined) return { reason: 'greylisted', by: 'ip', untilMs: until };
    }
    if (query.peerId !== undefined && !this.#trustedPeers.has(query.peerId)) {
      const until = this.#peerGreylist.until(query.peerId, now);
      if (until !== undefined) return { reason: 'greylisted', by: 'peer_id', untilMs: until };
    }
    return undefined;
  }

  /** Active bans (expired ones are dropped on the way). */
  bans(): BanEntry[] {
    this.#pruneBans(this.#clock.now());
    return [...this.#bans.values()];
  }

  greylistedIps(): GreylistEntry[] {
    return this.#ipGreylist.entries(this.#clock.now());
  }

  greylistedPeers(): GreylistEntry[] {
    return this.#peerGreylist.entries(this.#clock.now());
  }

  trustedPoints(): PointKey[] {
    return [...this.#trustedPoints.keys()];
  }

  trustedPeers(): string[] {
    return [...this.#trustedPeers];
  }

  /** Everything, for persistence (expired entries left out). */
  exportState(): AclState {
    return {
      bans: this.bans(),
      ipGreylist: this.greylistedIps(),
      peerGreylist: this.greylistedPeers(),
      trustedPoints: this.trustedPoints(),
      trustedPeers: this.trustedPeers(),
    };
  }

  /**
   * Adds saved entries to the current ones (expired entries and those beyond the bounds are
   * skipped; greylist entries for trusted names are skipped). Returns how many were skipped.
   */
  restoreState(state: AclState): number {
    const now = this.#clock.now();
    let skipped = 0;
    for (const p of state.trustedPoints) if (!this.trustPoint(p).ok) skipped++;
    for (const p of state.trustedPeers) if (!this.trustPeer(p).ok) skipped++;
    for (const ban of state.bans) {
      const normal = normalTarget(ban.target);
      const expired = ban.untilMs !== undefined && now >= ban.untilMs;
      if (normal === undefined || expired || this.#bans.size >= this.#limits.banMaxEntries) {
        skipped++;
        continue;
      }
      this.#bans.set(banKey(normal), { ...ban, target: normal });
    }
    const byExpiry = (a: GreylistEntry, b: GreylistEntry) => a.untilMs - b.untilMs;
    for (const g of [...state.ipGreylist].sort(byExpiry)) {
      const host = normalIp(g.value);
      if (now >= g.untilMs || this.#trustedHosts.has(host)) skipped++;
      else this.#ipGreylist.add(host, g.untilMs, now);
    }
    for (const g of [...state.peerGreylist].sort(byExpiry)) {
      if (now >= g.untilMs || this.#trustedPeers.has(g.value)) skipped++;
      else this.#peerGreylist.add(g.value, g.untilMs, now);
    }
    this.#changed('all');
    return skipped;
  }

  #banOf(key: string, by: Blocked['by'], now: number): Blocked | undefined {
    const entry = this.#bans.get(key);
    if (entry === undefined) return undefined;
    if (entry.untilMs === undefined) return { reason: 'banned', by };
    if (now >= entry.untilMs) {
      this.#bans.delete(key);
      return undefined;
    }
    return { reason: 'banned', by, untilMs: entry.untilMs };
  }

  #pruneBans(now: number): void {
    for (const [key, entry] of this.#bans) {
      if (entry.untilMs !== undefined && now >= entry.untilMs) this.#bans.delete(key);
    }
  }

  #dropTrustedPoint(point: PointKey): boolean {
    const host = this.#trustedPoints.get(point);
    if (host === undefined) return false;
    this.#trustedPoints.delete(point);
    const n = (this.#trustedHosts.get(host) ?? 1) - 1;
    if (n <= 0) this.#trustedHosts.delete(host);
    else this.#trustedHosts.set(host, n);
    return true;
  }

  #changed(changed: AclChange): void {
    this.#onChange?.(changed);
  }
}
