import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { PointSpec } from '../config/types.ts';
import type { PeerHandle } from '../peers/handle.ts';
import type { Pool } from '../pool/index.ts';
import { parsePointKey } from '../pool/index.ts';
import type { PeerSharingClient } from '../protocols/peer-sharing.ts';
import type { Telemetry } from '../telemetry/index.ts';
import type { Connection } from '../wire/connection.ts';

/** Resolves a host name to its addresses (injected so tests need no DNS server). */
export type Resolver = (host: string) => Promise<string[]>;

export const systemResolver: Resolver = async (host) =>
  (await lookup(host, { all: true })).map((a) => a.address);

export interface DiscoveryDeps {
  pool: Pool;
  telemetry: Telemetry;
  bootstrap: readonly PointSpec[];
  /** Live peers to ask, and their peer-sharing clients. */
  peers: () => Iterable<PeerHandle>;
  sharing: WeakMap<Connection, PeerSharingClient>;
  resolve?: Resolver;
  /** How many points to ask each peer for (≤ 100). */
  askAmount?: number;
}

/**
 * Where points come from when maintenance runs short (DESIGN §6): bootstrap names re-resolved
 * each time (a Kubernetes headless Service answers with every pod), and peer-sharing with every
 * connected peer that is not private. Refusal alternatives, inbound peers and the admin API add
 * points through the pool directly.
 */
export class Discovery {
  readonly #deps: DiscoveryDeps;

  constructor(deps: DiscoveryDeps) {
    this.#deps = deps;
  }

  /** Adds every address the bootstrap entries resolve to; returns how many were new. */
  async resolveBootstrap(): Promise<number> {
    const { pool, telemetry } = this.#deps;
    const resolve = this.#deps.resolve ?? systemResolver;
    let added = 0;
    await Promise.all(
      this.#deps.bootstrap.map(async (entry) => {
        let hosts: string[];
        try {
          hosts = isIP(entry.host) === 0 ? await resolve(entry.host) : [entry.host];
        } catch (error) {
          telemetry.log.warn(
            { event: 'bootstrap_resolve_failed', host: entry.host, err: error },
            'DNS lookup failed',
          );
          return;
        }
        for (const host of hosts) {
          const point: PointSpec =
            entry.peerId === undefined
              ? { host, port: entry.port }
              : { host, port: entry.port, peerId: entry.peerId };
          if (pool.addPoint(point, 'bootstrap').added) added++;
        }
      }),
    );
    return added;
  }

  /** Asks every non-private peer for points; a failed ask is that peer's problem, not ours. */
  async askPeers(): Promise<number> {
    const { pool, sharing } = this.#deps;
    const amount = this.#deps.askAmount ?? 30;
    let added = 0;
    const asks = [...this.#deps.peers()]
      .filter((h) => !h.connection.hello.privateNode)
      .map(async (handle) => {
        const client = sharing.get(handle.connection);
        if (client === undefined) return;
        const points = await client.request(amount).catch(() => [] as string[]);
        for (const text of points) {
          const point = parsePointKey(text);
          if (point !== undefined && pool.addPoint(point, 'peer_sharing').added) added++;
        }
      });
    await Promise.all(asks);
    return added;
  }

  /** Both sources at once; resolves with the number of new points. */
  async askForMore(): Promise<number> {
    const [fromDns, fromPeers] = await Promise.all([this.resolveBootstrap(), this.askPeers()]);
    return fromDns + fromPeers;
  }
}
