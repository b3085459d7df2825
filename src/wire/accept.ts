import type { Direction } from '../telemetry/metrics.ts';
import type { RemoteHello } from './connection.ts';
import type { ConnectionTable, TableEntry } from './connection-table.ts';
import type { Hello } from './gen/meshkeeper/wire/v1/handshake_pb.ts';
import { checkHello, type Decision, type Refusal, refuse } from './handshake.ts';

export interface AdmissionRequest {
  direction: Direction;
  peerId: string;
  remoteHost: string;
  hello: RemoteHello;
}

/**
 * Policy asked after the wire's own checks pass (network, version, self, duplicates): bans,
 * greylists, trust in private mode, the connection limit. Undefined admits.
 */
export interface AdmissionPolicy {
  admit(request: AdmissionRequest): Refusal | undefined;
}

export const admitAll: AdmissionPolicy = { admit: () => undefined };

/** What one node's accept decision reads: who it is, its connections, its policy. */
export interface AcceptGate {
  network: string;
  peerId: string;
  table: ConnectionTable;
  policy: AdmissionPolicy;
}

export interface AcceptRequest {
  direction: Direction;
  /** The remote's peer id, proven by TLS. */
  peerId: string;
  remoteHost: string;
  hello: Hello;
  /** The dialer passes the version the acceptor chose. */
  acceptedVersion?: number;
}

/**
 * The accept decision, the same in both directions and under every transport (TCP, or the
 * simulator's links): the wire's own checks (network, version, self), then duplicates, then the
 * node's policy. An accepted connection holds a table entry until it closes.
 */
export function decideAccept(
  gate: AcceptGate,
  request: AcceptRequest,
): { decision: Decision; entry?: TableEntry } {
  const { peerId, hello } = request;
  const checked = checkHello(hello, peerId, { network: gate.network, peerId: gate.peerId });
  if (!checked.accept) return { decision: checked };
  if (gate.table.isEstablished(peerId)) return { decision: refuse('already_connected') };
  const refusal = gate.policy.admit({
    direction: request.direction,
    peerId,
    remoteHost: request.remoteHost,
    hello: remoteHelloOf(hello),
  });
  if (refusal !== undefined) return { decision: { accept: false, refusal } };
  const initiator = request.direction === 'outbound' ? gate.peerId : peerId;
  const entry = gate.table.claim(peerId, initiator);
  if (entry === 'already_connected') return { decision: refuse('already_connected') };
  return { decision: { accept: true, version: request.acceptedVersion ?? checked.version }, entry };
}

/** What the remote's Hello says about it, as a connection keeps it. */
export function remoteHelloOf(hello: Hello): RemoteHello {
  return {
    privateNode: hello.privateNode,
    peerSharing: hello.peerSharing,
    wantsConnections: hello.wantsConnections,
    ...(hello.advertisedAddress === '' ? {} : { advertisedAddress: hello.advertisedAddress }),
  };
}

/** The refusal a decision carries (an accept overtaken by another connection: a duplicate). */
export function refusalOf(decision: Decision): Refusal {
  return decision.accept ? { reason: 'already_connected', alternatives: [] } : decision.refusal;
}
