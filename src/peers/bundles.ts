import type { Clock } from '../clock.ts';
import { runKeepAliveClient } from '../protocols/keep-alive.ts';
import { PeerSharingClient } from '../protocols/peer-sharing.ts';
import type { Connection } from '../wire/connection.ts';
import { Protocol } from '../wire/protocol-numbers.ts';

/**
 * Mini-protocol bundles by temperature (DESIGN §5): established = keep-alive + peer-sharing;
 * warm = none (reserved); hot = gossip. Only the initiator (client) side lives here; responders
 * are served on demand by the connection, as Cardano's server does.
 */
export type Temperature = 'established' | 'warm' | 'hot';

/** One running mini-protocol client: `done` resolves on a clean return and rejects on error. */
export interface MiniProtocolRun {
  readonly done: Promise<void>;
  /** Asks it to finish (Cardano's `Terminate` control message); `done` settles when it has. */
  stop(): void;
}

/** What a bundle's starters may use of a peer. */
export interface PeerContext {
  readonly connection: Connection;
  /** Records a keep-alive round trip. */
  observeRtt(rttSeconds: number): void;
}

export type ProtocolStarter = (peer: PeerContext) => MiniProtocolRun;

/** Named starters per temperature; names appear in traces and logs. */
export type Bundles = Readonly<Record<Temperature, Readonly<Record<string, ProtocolStarter>>>>;

export interface EstablishedBundleOptions {
  clock: Clock;
  keepAliveIntervalMs: number;
  keepAliveTimeoutMs: number;
  /** What keep-alive measures round trips with (see `KeepAliveClientOptions.monotonicMs`). */
  monotonicMs?: () => number;
}

/** Keep-alive client: pings until stopped, then ends its instance. */
export function keepAliveStarter(opts: EstablishedBundleOptions): ProtocolStarter {
  return (peer) => {
    const stop = new AbortController();
    const { connection } = peer;
    return {
      done: runKeepAliveClient(connection.mux.channel(Protocol.keepAlive, 'client'), connection, {
        clock: opts.clock,
        intervalMs: opts.keepAliveIntervalMs,
        timeoutMs: opts.keepAliveTimeoutMs,
        signal: stop.signal,
        onRtt: (rtt) => peer.observeRtt(rtt),
        ...(opts.monotonicMs === undefined ? {} : { monotonicMs: opts.monotonicMs }),
      }),
      stop: () => stop.abort(),
    };
  };
}

/**
 * Peer-sharing client: idle between requests, which maintenance makes through `sharing.get`.
 * Stopping ends the instance.
 */
export function peerSharingStarter(
  opts: { clock: Clock; timeoutMs: number },
  sharing: WeakMap<Connection, PeerSharingClient>,
): ProtocolStarter {
  return ({ connection }) => {
    const client = new PeerSharingClient(
      connection.mux.channel(Protocol.peerSharing, 'client'),
      connection,
      opts,
    );
    sharing.set(connection, client);
    let stopped: () => void = () => {};
    const stopRequested = new Promise<void>((resolve) => {
      stopped = resolve;
    });
    const closed = connection.closed.then((error) => {
      if (error !== undefined) throw error;
    });
    return {
      done: Promise.race([stopRequested.then(() => client.end()), closed]).finally(() =>
        sharing.delete(connection),
      ),
      stop: stopped,
    };
  };
}
