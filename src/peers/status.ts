/**
 * Peer temperatures, ordered cold < cooling < warm < hot (Cardano's PeerStatus), and the named
 * transitions the seed traces (PeerStatusChangeType).
 */
export type PeerStatus = 'cold' | 'cooling' | 'warm' | 'hot';

export const peerStatuses: readonly PeerStatus[] = ['cold', 'cooling', 'warm', 'hot'];

export type Transition =
  | 'ColdToWarm'
  | 'WarmToHot'
  | 'HotToWarm'
  | 'WarmToCooling'
  | 'HotToCooling'
  | 'CoolingToCold';

/** The transition from one status to another, if the state machine has it. */
export function transitionOf(from: PeerStatus, to: PeerStatus): Transition | undefined {
  switch (from) {
    case 'cold':
      return to === 'warm' ? 'ColdToWarm' : undefined;
    case 'warm':
      return to === 'hot' ? 'WarmToHot' : to === 'cooling' ? 'WarmToCooling' : undefined;
    case 'hot':
      return to === 'warm' ? 'HotToWarm' : to === 'cooling' ? 'HotToCooling' : undefined;
    case 'cooling':
      return to === 'cold' ? 'CoolingToCold' : undefined;
    default: {
      const never: never = from;
      return never;
    }
  }
}

/** Established peers are the ones with a running connection: warm or hot. */
export function isEstablished(status: PeerStatus): boolean {
  return status === 'warm' || status === 'hot';
}
