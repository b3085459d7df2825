import type { Config } from '../config/types.ts';

/** Mini-protocol numbers on the mux (DESIGN §3). */
export const Protocol = { keepAlive: 1, peerSharing: 2, gossip: 3 } as const;
export type ProtocolNumber = (typeof Protocol)[keyof typeof Protocol];

/** Metric label of each mini-protocol (a closed set: never the raw number from the wire). */
export function protocolLabel(
  protocol: number,
): 'keep_alive' | 'peer_sharing' | 'gossip' | 'other' {
  switch (protocol) {
    case Protocol.keepAlive:
      return 'keep_alive';
    case Protocol.peerSharing:
      return 'peer_sharing';
    case Protocol.gossip:
      return 'gossip';
    default:
      return 'other';
  }
}

/** Bytes a mini-protocol may have received and not yet consumed; over it the peer is cut off. */
export function ingressLimits(gossip: Config['gossip']): ReadonlyMap<number, number> {
  return new Map<number, number>([
    [Protocol.keepAlive, 1024],
    [Protocol.peerSharing, 64 * 1024],
    [Protocol.gossip, gossip.maxIngressBytes],
  ]);
}
