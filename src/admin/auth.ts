import { createHash, timingSafeEqual } from 'node:crypto';
import {
  type Metadata,
  ResponderBuilder,
  ServerInterceptingCall,
  type ServerInterceptor,
  ServerListenerBuilder,
  status,
} from '@grpc/grpc-js';
import { healthServiceName } from './proto.ts';

/** Longer than any token we accept (config caps the file at 4 KiB); bounds the hashing work. */
const maxAuthorizationLength = 8192;

export type AuthResult = { ok: true } | { ok: false; message: string };

/**
 * Checks `authorization: Bearer <token>` against the configured token. Both sides are hashed to
 * SHA-256 first, so `timingSafeEqual` compares equal-length digests and the time taken says
 * nothing about the token, not even its length. No token configured: everything passes (the
 * server then listens on loopback only).
 */
export class TokenCheck {
  readonly #digest: Buffer | undefined;

  constructor(token: string | undefined) {
    this.#digest = token === undefined ? undefined : sha256(token);
  }

  get required(): boolean {
    return this.#digest !== undefined;
  }

  check(metadata: Metadata): AuthResult {
    if (this.#digest === undefined) return { ok: true };
    const values = metadata.get('authorization');
    if (values.length === 0) return { ok: false, message: 'missing bearer token' };
    if (values.length > 1) return { ok: false, message: 'more than one authorization header' };
    const header = values[0];
    if (typeof header !== 'string' || header.length > maxAuthorizationLength) {
      return { ok: false, message: 'malformed authorization header' };
    }
    const match = /^bearer(?:[ \t]+(.*))?$/i.exec(header.trim());
    if (match === null) return { ok: false, message: 'authorization is not a bearer token' };
    const token = match[1]?.trim() ?? '';
    if (token === '') return { ok: false, message: 'empty bearer token' };
    return timingSafeEqual(sha256(token), this.#digest)
      ? { ok: true }
      : { ok: false, message: 'invalid bearer token' };
  }
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** True for the methods that need no token: health only (DESIGN §9). */
export function isOpenMethod(path: string): boolean {
  return path.startsWith(`/${healthServiceName}/`);
}

/**
 * A server interceptor that refuses unauthenticated calls with UNAUTHENTICATED before any
 * handler runs, for every service (admin and reflection) except health. `onRefused` counts them.
 */
export function authInterceptor(
  check: TokenCheck,
  onRefused: (path: string, message: string) => void,
): ServerInterceptor {
  return (method, call) => {
    if (!check.required || isOpenMethod(method.path)) return new ServerInterceptingCall(call);
    const listener = new ServerListenerBuilder()
      .withOnReceiveMetadata((metadata, next) => {
        const result = check.check(metadata);
        if (result.ok) {
          next(metadata);
          return;
        }
        onRefused(method.path, result.message);
        call.sendStatus({ code: status.UNAUTHENTICATED, details: result.message });
      })
      .build();
    const responder = new ResponderBuilder().withStart((next) => next(listener)).build();
    return new ServerInterceptingCall(call, responder);
  };
}
