import { survivingInitiator } from './handshake.ts';

/**
 * One connection per peer pair (DESIGN §3, Cardano's connection manager). Every connection
 * whose peer id is known (after TLS) has an entry until it closes; the table decides whether a
 * new one may proceed.
 */
export interface TableEntry {
  readonly peerId: string;
  /** Peer id of the node that dialed this connection. */
  readonly initiator: string;
  state: 'pending' | 'established';
}

export class ConnectionTable {
  readonly #localPeerId: string;
  readonly #byPeer = new Map<string, Set<TableEntry>>();

  constructor(localPeerId: string) {
    this.#localPeerId = localPeerId;
  }

  /**
   * Registers a connection that reached its accept decision, or answers why it must not go on:
   * a connection already established to that peer always wins; between two in progress, the
   * one initiated by the lower peer id wins, so both nodes pick the same one.
   */
  claim(peerId: string, initiator: string): TableEntry | 'already_connected' {
    const others = this.#byPeer.get(peerId);
    if (others !== undefined) {
      for (const other of others) {
        if (other.state === 'established') return 'already_connected';
      }
      if (others.size > 0 && survivingInitiator(this.#localPeerId, peerId) !== initiator) {
        return 'already_connected';
      }
    }
    const entry: TableEntry = { peerId, initiator, state: 'pending' };
    const set = others ?? new Set<TableEntry>();
    set.add(entry);
    this.#byPeer.set(peerId, set);
    return entry;
  }

  /** Marks a claimed connection established; false when another one was established first. */
  establish(entry: TableEntry): boolean {
    const set = this.#byPeer.get(entry.peerId);
    if (set === undefined || !set.has(entry)) return false;
    for (const other of set) {
      if (other !== entry && other.state === 'established') return false;
    }
    entry.state = 'established';
    return true;
  }

  release(entry: TableEntry): void {
    const set = this.#byPeer.get(entry.peerId);
    if (set === undefined) return;
    set.delete(entry);
    if (set.size === 0) this.#byPeer.delete(entry.peerId);
  }

  /** Connections past TLS and admitted, not yet established (either direction). */
  get pending(): number {
    let n = 0;
    for (const set of this.#byPeer.values()) for (const e of set) if (e.state === 'pending') n++;
    return n;
  }

  isEstablished(peerId: string): boolean {
    for (const e of this.#byPeer.get(peerId) ?? []) if (e.state === 'established') return true;
    return false;
  }
}
