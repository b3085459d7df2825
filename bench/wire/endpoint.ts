/**
 * What each implementation under test (meshkeeper, js-libp2p, a raw TLS pair) provides to the
 * benchmark's server and client processes, so that both run the same work against any of them.
 */

export type ImplName = 'meshkeeper' | 'libp2p' | 'tls';
export const IMPLS: readonly ImplName[] = ['meshkeeper', 'libp2p', 'tls'];

/** What a client needs to reach and authenticate a server; printed by the server process. */
export interface ServerInfo {
  host: string;
  port: number;
  /** The server's identity the client pins: a meshkeeper peer id or a libp2p peer id. */
  id: string;
}

export interface ServerOptions {
  host: string;
  /** The server answers one byte each time a throughput stream has brought this many more. */
  sinkBytes: number;
}

export interface BenchServer {
  readonly info: ServerInfo;
  /** Connections open (authenticated) right now. */
  connections(): number;
  /**
   * Connections whose client identity this server has proven since it started. The bench checks
   * it against the dials made: a client that hangs up before the server has checked its
   * certificate has not set up a mutually authenticated connection.
   */
  authenticated(): number;
  close(): Promise<void>;
}

export interface ClientOptions {
  server: ServerInfo;
  /** Source address of this client's connections (one per client, as distinct peers have). */
  localHost: string;
  /** TLS key-exchange groups, OpenSSL syntax; empty = Node's default (post-quantum hybrid). */
  groups: string;
  /** Resume the TLS session of the previous connection; false = every dial a first contact. */
  resume: boolean;
}

/** One identity that dials; each dial runs the implementation's full setup. */
export interface BenchClient {
  connect(): Promise<BenchConnection>;
  close(): Promise<void>;
}

export interface BenchConnection {
  /** The TLS session was resumed (always false where there is no TLS). */
  readonly resumed: boolean;
  /**
   * Sends `total` bytes (the server's `sinkBytes`) as writes of `chunk` on one stream, waiting for
   * backpressure, and resolves when the server has acknowledged receiving all of them.
   */
  push(total: number, chunk: Uint8Array): Promise<void>;
  /** Closes the connection and resolves once it is gone. */
  close(): Promise<void>;
}

export interface Implementation {
  startServer(opts: ServerOptions): Promise<BenchServer>;
  createClient(opts: ClientOptions): Promise<BenchClient>;
}

/** The server's one-byte answer to each complete block of a throughput stream. */
export const ACK = new Uint8Array([1]);

/**
 * Counts bytes of one throughput stream and calls `done` each time another `total` have arrived.
 * Returns the function to feed each received chunk's length.
 */
export function sinkCounter(total: number, done: () => void): (bytes: number) => void {
  if (!Number.isSafeInteger(total) || total < 1) {
    throw new RangeError(`block size must be a positive integer, got ${total}`);
  }
  let received = 0;
  return (bytes) => {
    received += bytes;
    for (; received >= total; received -= total) done();
  };
}

export async function loadImplementation(name: ImplName): Promise<Implementation> {
  switch (name) {
    case 'meshkeeper':
      return (await import('./impl-meshkeeper.ts')).meshkeeper;
    case 'libp2p':
      return (await import('./impl-libp2p.ts')).libp2p;
    case 'tls':
      return (await import('./impl-tls.ts')).rawTls;
    default: {
      const never: never = name;
      throw new Error(`unknown implementation ${String(never)}`);
    }
  }
}

export function isImplName(value: string): value is ImplName {
  return (IMPLS as readonly string[]).includes(value);
}
