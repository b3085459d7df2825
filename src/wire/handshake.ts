import { create } from '@bufbuild/protobuf';
import {
  type HandshakeReply,
  HandshakeReplySchema,
  type Hello,
  HelloSchema,
  RefuseReason,
} from './gen/meshkeeper/wire/v1/handshake_pb.ts';
import { encodeDelimited } from './messages.ts';

/**
 * Pure handshake rules (DESIGN §3): what a Hello must say, how a version is chosen, what a
 * reply may contain, and which of two connections to one peer survives a simultaneous open.
 * The transport performs the exchange; this module decides, and encodes the replies.
 */

/** Versions of handshake + mux this build speaks, preferred first. */
export const WIRE_VERSIONS: readonly number[] = [1];

/** Most alternatives a too_many_connections refusal may carry; more is a protocol violation. */
export const MAX_ALTERNATIVES = 50;

/** Largest handshake message accepted: 50 alternatives of ≤ 300 bytes, with room to spare. */
export const MAX_HANDSHAKE_MESSAGE_BYTES = 32 * 1024;

const reasons = {
  network_mismatch: RefuseReason.NETWORK_MISMATCH,
  no_common_version: RefuseReason.NO_COMMON_VERSION,
  self_connection: RefuseReason.SELF_CONNECTION,
  already_connected: RefuseReason.ALREADY_CONNECTED,
  too_many_connections: RefuseReason.TOO_MANY_CONNECTIONS,
  banned: RefuseReason.BANNED,
  not_trusted: RefuseReason.NOT_TRUSTED,
} as const;

export type RefusalReason = keyof typeof reasons;
export const refusalReasons = Object.keys(reasons) as RefusalReason[];

export interface Refusal {
  reason: RefusalReason;
  /** Points the refuser knows and may share; only with too_many_connections. */
  alternatives: string[];
}

export type Decision = { accept: true; version: number } | { accept: false; refusal: Refusal };

export function refuse(reason: RefusalReason, alternatives: string[] = []): Decision {
  return {
    accept: false,
    refusal: { reason, alternatives: alternatives.slice(0, MAX_ALTERNATIVES) },
  };
}

/** The highest version both sides speak, if any. */
export function pickVersion(
  ours: readonly number[],
  theirs: readonly number[],
): number | undefined {
  let best: number | undefined;
  for (const v of theirs) if (ours.includes(v) && (best === undefined || v > best)) best = v;
  return best;
}

export interface LocalHelloView {
  network: string;
  peerId: string;
}

/**
 * The checks every Hello passes before policy (bans, trust, limits) is asked: same network, a
 * common version, not ourselves. Order matters: a node of another network learns only that.
 */
export function checkHello(hello: Hello, remotePeerId: string, local: LocalHelloView): Decision {
  if (hello.network !== local.network) return refuse('network_mismatch');
  const version = pickVersion(WIRE_VERSIONS, hello.versions);
  if (version === undefined) return refuse('no_common_version');
  if (remotePeerId === local.peerId) return refuse('self_connection');
  return { accept: true, version };
}

/** What a received reply means; a malformed reply is a protocol violation, not a refusal. */
export type ReplyReading =
  | { kind: 'accept'; version: number }
  | { kind: 'refuse'; refusal: Refusal }
  | { kind: 'violation'; detail: string };

export function readReply(reply: HandshakeReply, offered: readonly number[]): ReplyReading {
  switch (reply.result.case) {
    case 'accept': {
      const version = reply.result.value.version;
      if (!offered.includes(version)) {
        return { kind: 'violation', detail: `accepted version ${version} was never offered` };
      }
      return { kind: 'accept', version };
    }
    case 'refuse': {
      const reason = reasonFromWire(reply.result.value.reason);
      const alternatives = reply.result.value.alternatives;
      if (reason === undefined) return { kind: 'violation', detail: 'unknown refusal reason' };
      if (alternatives.length > MAX_ALTERNATIVES) {
        return { kind: 'violation', detail: `${alternatives.length} alternatives (max 50)` };
      }
      if (alternatives.length > 0 && reason !== 'too_many_connections') {
        return { kind: 'violation', detail: `alternatives with ${reason}` };
      }
      return { kind: 'refuse', refusal: { reason, alternatives } };
    }
    case undefined:
      return { kind: 'violation', detail: 'empty handshake reply' };
  }
}

export function reasonFromWire(value: number): RefusalReason | undefined {
  for (const [name, wire] of Object.entries(reasons)) {
    if (wire === value) return name as RefusalReason;
  }
  return undefined;
}

export function replyMessage(decision: Decision): HandshakeReply {
  return create(HandshakeReplySchema, {
    result: decision.accept
      ? { case: 'accept', value: { version: decision.version } }
      : {
          case: 'refuse',
          value: {
            reason: reasons[decision.refusal.reason],
            alternatives: decision.refusal.alternatives,
          },
        },
  });
}

/**
 * `decision` as the length-prefixed reply it is sent as. An Accept is the same bytes for every
 * connection of a version (one of the few we speak), so those are encoded once.
 */
export function encodeReply(decision: Decision): Uint8Array {
  if (!decision.accept) return encodeDelimited(HandshakeReplySchema, replyMessage(decision));
  let bytes = acceptBytes.get(decision.version);
  if (bytes === undefined) {
    bytes = encodeDelimited(HandshakeReplySchema, replyMessage(decision));
    if (WIRE_VERSIONS.includes(decision.version)) acceptBytes.set(decision.version, bytes);
  }
  return bytes;
}

const acceptBytes = new Map<number, Uint8Array>();

export interface HelloFields {
  network: string;
  advertisedAddress?: string;
  privateNode: boolean;
  peerSharing: boolean;
  traceparent?: string;
  /** The dialer is below its band (the acceptor may admit it above its maxTarget). */
  wantsConnections?: boolean;
}

export function helloMessage(fields: HelloFields): Hello {
  return create(HelloSchema, {
    network: fields.network,
    versions: [...WIRE_VERSIONS],
    advertisedAddress: fields.advertisedAddress ?? '',
    privateNode: fields.privateNode,
    peerSharing: fields.peerSharing,
    traceparent: fields.traceparent ?? '',
    wantsConnections: fields.wantsConnections ?? false,
  });
}

/**
 * Simultaneous open (Cardano's connection manager): when two connections join the same pair of
 * nodes, both nodes keep the one initiated by the node with the lower peer id. Depending only on
 * the two ids makes both sides agree without talking.
 */
export function survivingInitiator(a: string, b: string): string {
  return a < b ? a : b;
}
