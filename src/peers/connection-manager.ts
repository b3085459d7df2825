import type { Clock } from '../clock.ts';
import type { PointSpec } from '../config/types.ts';
import type { Pool } from '../pool/index.ts';
import { parsePointKey, pointKeyOf, sharingSalt } from '../pool/index.ts';
import { serveKeepAlive } from '../protocols/keep-alive.ts';
import { servePeerSharing } from '../protocols/peer-sharing.ts';
import type { Telemetry } from '../telemetry/index.ts';
import type { Connection, Responder } from '../wire/connection.ts';
import { Protocol } from '../wire/protocol-numbers.ts';
import { dialErrorOf } from '../wire/transport.ts';
import type { PeerStateActions } from './actions.ts';
import type { PeerHandle } from './handle.ts';

export interface ConnectionManagerDeps {
  clock: Clock;
  pool: Pool;
  peers: PeerStateActions;
  telemetry: Telemetry;
  /** Secret part of the peer-sharing salt, so other nodes cannot predict our picks. */
  sharingSecret: string;
  /** Extra responders (e.g. gossip) served on every connection. */
  responders?: ReadonlyMap<number, Responder>;
}

/**
 * Cardano's connection manager, reduced: every handshaken connection serves the responders;
 * an inbound one becomes a warm peer; dials and closes are mirrored into the pool so that it
 * always knows which points are running, failing or disconnected.
 */
export class ConnectionManager {
  readonly #deps: ConnectionManagerDeps;

  constructor(deps: ConnectionManagerDeps) {
    this.#deps = deps;
  }

  /** For the transport's `onConnection`: called for both directions once the handshake is done. */
  onConnection(connection: Connection): void {
    this.#serve(connection);
    if (connection.direction === 'outbound') return;
    const point = connection.point === undefined ? undefined : parsePointKey(connection.point);
    const { pool } = this.#deps;
    if (point !== undefined) {
      pool.addPoint(point, 'inbound');
      pool.inboundAccepted(point);
      pool.connected(point, connection.peerId, connection.hello);
      this.#mirrorClose(connection, point);
    }
    this.#deps.peers.adopt(connection);
  }

  /** cold → warm through the pool: marks the dial, establishes, records the outcome. */
  async establish(point: PointSpec): Promise<PeerHandle> {
    const { pool, peers } = this.#deps;
    pool.dialStarted(point);
    try {
      const handle = await peers.establish(point);
      if (
        handle.connection.direction === 'outbound' &&
        handle.connection.point === pointKeyOf(point)
      ) {
        pool.connected(point, handle.peerId, handle.connection.hello);
        this.#mirrorClose(handle.connection, point);
      } else {
        // Reused an inbound connection: the dial itself did not happen.
        pool.dialFailed(point, 'already_connected', { peerId: handle.peerId });
      }
      return handle;
    } catch (error) {
      const dial = dialErrorOf(error);
      const reason = dial?.refusal?.reason ?? dial?.code ?? 'handle_failure';
      pool.dialFailed(point, reason, dial?.peerId === undefined ? {} : { peerId: dial.peerId });
      if (dial?.refusal?.reason === 'too_many_connections') {
        for (const alternative of dial.refusal.alternatives) {
          const parsed = parsePointKey(alternative);
          if (parsed !== undefined) pool.addPoint(parsed, 'refusal_alternatives');
        }
      }
      throw error;
    }
  }

  #mirrorClose(connection: Connection, point: PointSpec): void {
    void connection.closed.then((error) => {
      this.#deps.pool.disconnected(point, error?.code);
    });
  }

  #serve(connection: Connection): void {
    const { clock, pool, sharingSecret, responders } = this.#deps;
    connection.setResponder(Protocol.keepAlive, (channel, conn) => {
      serveKeepAlive(channel, conn).catch(() => {});
    });
    connection.setResponder(Protocol.peerSharing, (channel, conn) => {
      servePeerSharing(channel, conn, {
        clock,
        provide: (amount) =>
          pool.shareablePoints({
            amount,
            salt: sharingSalt(sharingSecret, clock.now()),
            exclude: {
              peerIds: [conn.peerId],
              ...(conn.point === undefined ? {} : { points: [conn.point] }),
            },
          }),
      }).catch(() => {});
    });
    for (const [protocol, serve] of responders ?? []) connection.setResponder(protocol, serve);
  }
}
