import { randomBytes } from 'node:crypto';
import tls from 'node:tls';

/**
 * TLS settings shared by every dial and accept of one node. One SecureContext per node:
 * building it per dial cost ~25 % of the setup rate here (STACK.md).
 */
export interface TlsCredentials {
  certPem: string;
  keyPem: string;
}

export function createNodeSecureContext(
  credentials: TlsCredentials,
  groups: string,
): tls.SecureContext {
  return tls.createSecureContext({
    key: credentials.keyPem,
    cert: credentials.certPem,
    minVersion: 'TLSv1.3',
    maxVersion: 'TLSv1.3',
    // Resumption on the accepting side: a tls.Server sets these itself, a TLSSocket wrapped by
    // hand does not, and OpenSSL resumes no session that asked for a client certificate without
    // a session id context.
    sessionIdContext: 'meshkeeper',
    ticketKeys: randomBytes(48),
    // Empty keeps Node's default, the post-quantum hybrid X25519MLKEM768 first.
    ...(groups === '' ? {} : { ecdhCurve: groups }),
  });
}

/**
 * Peer certificates are self-signed: the CA chain means nothing here. Each side accepts any
 * certificate at the TLS layer and then derives and checks the peer id from its key.
 */
export const identityOnlyVerification = {
  rejectUnauthorized: false,
  checkServerIdentity: () => undefined,
} as const;

interface Ticket {
  session: Buffer;
  peerId: string;
}

/**
 * TLS session tickets per point, each with the peer id proven when it was issued. On a resumed
 * session Node gives the client no peer certificate, so the dialer takes the identity bound to
 * the ticket: the PSK proves the server holds that session's secret. Bounded, oldest out first.
 */
export class TicketCache {
  readonly #max: number;
  readonly #tickets = new Map<string, Ticket>();

  constructor(max = 1024) {
    this.#max = max;
  }

  get(point: string): Ticket | undefined {
    return this.#tickets.get(point);
  }

  set(point: string, ticket: Ticket): void {
    this.#tickets.delete(point);
    this.#tickets.set(point, ticket);
    if (this.#tickets.size > this.#max) {
      const oldest = this.#tickets.keys().next().value;
      if (oldest !== undefined) this.#tickets.delete(oldest);
    }
  }

  delete(point: string): void {
    this.#tickets.delete(point);
  }

  get size(): number {
    return this.#tickets.size;
  }
}
