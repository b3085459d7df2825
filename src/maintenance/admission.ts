import type { Band } from '../config/band.ts';
import { isTrustedRemote } from '../peers/trust.ts';
import type { Pool } from '../pool/index.ts';
import { inboundPoint } from '../wire/connection.ts';
import type { Refusal } from '../wire/handshake.ts';
import type { AdmissionPolicy, AdmissionRequest } from '../wire/transport.ts';

export interface AdmissionDeps {
  pool: Pool;
  privateMode: boolean;
  /** The band in force (it changes with SetBounds). */
  band: () => Band;
  /** Established peers now. */
  established: () => number;
}

/**
 * Who may connect (DESIGN §3, §6): banned or greylisted peers and addresses never; in private
 * mode only trusted ones; inbound connections not at all once the count reaches maxTarget
 * with alternatives the dialer can try instead. Octez refuses at maxThreshold; we refuse at
 * maxTarget, so that the room between maxTarget and maxThreshold absorbs only our own dials in
 * flight and counts settle inside the targets (docs/design-notes.md). Two exceptions: trusted
 * peers are always let in (they are kept whatever the count), and a dialer whose Hello says it
 * is below its band is let in up to maxThreshold — otherwise a node arriving when
 * every other sits at maxTarget would starve; the worker then sheds back to maxTarget.
 */
export function admissionPolicy(deps: AdmissionDeps): AdmissionPolicy {
  return {
    admit(request: AdmissionRequest): Refusal | undefined {
      const { pool } = deps;
      const point = inboundPoint(request.remoteHost, request.hello.advertisedAddress);
      const trusted = isTrustedRemote(pool, {
        peerId: request.peerId,
        remoteHost: request.remoteHost,
        ...(point === undefined ? {} : { point }),
      });
      if (
        !trusted &&
        pool.isBlocked({ ip: request.remoteHost, peerId: request.peerId }) !== undefined
      ) {
        return { reason: 'banned', alternatives: [] };
      }
      if (deps.privateMode && !trusted) return { reason: 'not_trusted', alternatives: [] };
      if (!trusted && deps.established() >= admissionLimit(deps.band(), request)) {
        // The dialer has the last word too: inbounds that arrived while our dial was under way
        // may have filled the room it was planned for.
        const alternatives =
          request.direction === 'outbound' || deps.privateMode
            ? []
            : pool.alternatives({ max: 50, exclude: { peerIds: [request.peerId] } });
        return { reason: 'too_many_connections', alternatives };
      }
      return undefined;
    },
  };
}

/** How many connections may be established before this request is refused as one too many. */
function admissionLimit(band: Band, request: AdmissionRequest): number {
  const wanting = request.direction === 'inbound' && request.hello.wantsConnections;
  return wanting ? band.maxThreshold : band.maxTarget;
}
