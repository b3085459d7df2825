import type { PeerStatus, Transition } from './status.ts';

/** Why a status change failed: exactly the seed's FailureType. */
export type FailureType =
  | 'HandshakeClientFailure'
  | 'HandshakeServerFailure'
  | 'HandleFailure'
  | 'MuxStoppedFailure'
  | 'TimeoutError'
  | 'ActiveCold'
  | 'ApplicationFailure';

export const failureTypes: readonly FailureType[] = [
  'HandshakeClientFailure',
  'HandshakeServerFailure',
  'HandleFailure',
  'MuxStoppedFailure',
  'TimeoutError',
  'ActiveCold',
  'ApplicationFailure',
];

/**
 * An action that could not be done. `failure` is the seed's FailureType when the action was
 * attempted, or `IllegalTransition` when it was asked from a status that does not allow it (the
 * status is then unchanged).
 */
export class PeerActionError extends Error {
  readonly code: FailureType | 'IllegalTransition';
  readonly transition: Transition | undefined;
  readonly status: PeerStatus;

  constructor(
    code: FailureType | 'IllegalTransition',
    status: PeerStatus,
    message: string,
    extra: { transition?: Transition; cause?: unknown } = {},
  ) {
    super(message, { cause: extra.cause });
    this.name = 'PeerActionError';
    this.code = code;
    this.status = status;
    this.transition = extra.transition;
  }
}

/** `establish` failed in the handshake: ours (client) or the remote's refusal (server). */
export class EstablishConnectionError extends PeerActionError {
  constructor(
    code: 'HandshakeClientFailure' | 'HandshakeServerFailure',
    message: string,
    cause: unknown,
  ) {
    super(code, 'cold', message, { transition: 'ColdToWarm', cause });
    this.name = 'EstablishConnectionError';
  }
}

/** Hot protocols did not stop within `deactivateTimeout`: the connection was closed. */
export class DeactivationTimeout extends PeerActionError {
  readonly peerId: string;

  constructor(peerId: string, timeoutMs: number) {
    super(
      'TimeoutError',
      'cooling',
      `hot protocols of ${peerId} still running after ${timeoutMs} ms`,
      {
        transition: 'HotToCooling',
      },
    );
    this.name = 'DeactivationTimeout';
    this.peerId = peerId;
  }
}

/**
 * The seed's exception for a `monitor` that would block. `monitor` reads state and never waits,
 * so nothing raises it; it exists so callers can name it.
 */
export class MonitorPeerConnectionBlocked extends Error {
  constructor() {
    super('monitor would block');
    this.name = 'MonitorPeerConnectionBlocked';
  }
}
