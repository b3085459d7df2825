import { type Rng, shuffled } from '../rng.ts';
import type { LiveConnection, Victim, VictimReason } from './types.ts';

const tierOrder: readonly VictimReason[] = [
  'warm_inbound',
  'warm_outbound',
  'hot_inbound',
  'hot_outbound',
];

/** The tier a connection is closed in (earlier tiers first). */
export function victimTier(connection: LiveConnection): VictimReason {
  return `${connection.status}_${connection.direction}`;
}

/**
 * Up to `count` connections to close when above the band, in closing order: never a trusted
 * one; warm before hot (hot peers carry the gossip); inbound before outbound (the ones we chose
 * are kept); youngest first (a long-lived peer has proved itself); equal keys in an order drawn
 * from `rng`. A peer that dialed us while below its band (`wanted`) comes after all others: it
 * was let in above maxTarget so that it would not starve, and the close that follows is meant to
 * shed someone else. Octez picks uniformly at random, trusted public peers included, and may
 * drop a good long-lived peer. Returns fewer than `count` only when non-trusted connections run
 * out.
 */
export function chooseVictims(
  connections: readonly LiveConnection[],
  count: number,
  rng: Rng,
): Victim[] {
  if (!(count > 0)) return [];
  const eligible = connections.filter((c) => !c.trusted);
  // Shuffle, then a stable sort: equal keys keep the shuffled order (the random tie-break).
  const ordered = shuffled(rng, eligible).sort(compareVictims);
  return ordered.slice(0, Math.floor(count)).map(toVictim);
}

function compareVictims(a: LiveConnection, b: LiveConnection): number {
  return (
    Number(a.wanted === true) - Number(b.wanted === true) ||
    tierOrder.indexOf(victimTier(a)) - tierOrder.indexOf(victimTier(b)) ||
    b.establishedAt - a.establishedAt
  );
}

function toVictim(connection: LiveConnection): Victim {
  const reason = victimTier(connection);
  return connection.point === undefined
    ? { peerId: connection.peerId, reason }
    : { peerId: connection.peerId, point: connection.point, reason };
}
