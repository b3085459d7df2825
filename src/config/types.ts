/**
 * The validated configuration of one node (DESIGN §10). Durations are milliseconds,
 * parsed once at the edge; sizes are bytes.
 */
export interface ConnectionBounds {
  min: number;
  expected: number;
  max: number;
}

/** A `host:port` address, optionally pinned to the peer id expected there (`host:port#peerId`). */
export interface PointSpec {
  host: string;
  port: number;
  peerId?: string;
}

export interface Watermarks {
  high: number;
  low: number;
}

export interface Config {
  network: string;
  listen: { host: string; port: number };
  advertisedAddress?: { host: string; port: number };
  dataDir: string;
  bootstrap: PointSpec[];
  trusted: PointSpec[];
  privateMode: boolean;
  connections: ConnectionBounds;
  maintenance: {
    idleTimeMs: number;
    timeBetweenLookingForPeersMs: { initial: number; cap: number };
    maxParallelDials: number;
    settleTimeMs: number;
  };
  pool: {
    maxKnownPoints: Watermarks;
    maxKnownPeerIds: Watermarks;
    greylistTimeoutMs: number;
    reconnect: { initialMs: number; factor: number; capMs: number; afterDisconnectMs: number };
    persistDebounceMs: number;
  };
  peers: {
    hotTarget: number;
    deactivateTimeoutMs: number;
    closeTimeoutMs: number;
    repromoteDelayMs: number;
    /** 0 disables churn. */
    churnIntervalMs: number;
  };
  wire: {
    connectTimeoutMs: number;
    handshakeTimeoutMs: number;
    keepAliveIntervalMs: number;
    keepAliveTimeoutMs: number;
    maxFramePayload: number;
    maxPendingInbound: number;
    /** TLS key-exchange groups, OpenSSL syntax; empty = Node's default (post-quantum hybrid first). */
    tlsGroups: string;
  };
  gossip: {
    maxMessageBytes: number;
    maxIngressBytes: number;
    seenCacheSize: number;
    seenTtlMs: number;
  };
  admin: {
    listen: { host: string; port: number };
    tokenFile?: string;
    /** From MESHKEEPER_ADMIN_TOKEN; never logged. */
    token?: string;
    tls?: { cert: string; key: string; clientCa?: string };
  };
  http: { listen: { host: string; port: number }; readyGraceMs: number };
  log: { level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent' };
}
