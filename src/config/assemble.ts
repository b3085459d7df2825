import type { ParsedValues } from './checks.ts';
import type { ConfigKey, KeyValue } from './schema.ts';
import type { Config } from './types.ts';

/**
 * Builds the Config from parsed values. Only called when every key parsed, so each value is
 * present or legitimately undefined (an unset optional key, which is then left out).
 */
export function assemble(values: ParsedValues, token: string | undefined): Config {
  const v = <K extends ConfigKey>(configKey: K): KeyValue<K> => values[configKey] as KeyValue<K>;
  const advertisedAddress = v('advertisedAddress');
  return {
    network: v('network'),
    listen: v('listen'),
    ...(advertisedAddress === undefined ? {} : { advertisedAddress }),
    dataDir: v('dataDir'),
    bootstrap: v('bootstrap'),
    trusted: v('trusted'),
    privateMode: v('privateMode'),
    connections: {
      min: v('connections.min'),
      expected: v('connections.expected'),
      max: v('connections.max'),
    },
    maintenance: {
      idleTimeMs: v('maintenance.idleTime'),
      timeBetweenLookingForPeersMs: {
        initial: v('maintenance.timeBetweenLookingForPeers.initial'),
        cap: v('maintenance.timeBetweenLookingForPeers.cap'),
      },
      maxParallelDials: v('maintenance.maxParallelDials'),
      settleTimeMs: v('maintenance.settleTime'),
    },
    pool: {
      maxKnownPoints: v('pool.maxKnownPoints'),
      maxKnownPeerIds: v('pool.maxKnownPeerIds'),
      greylistTimeoutMs: v('pool.greylistTimeout'),
      reconnect: {
        initialMs: v('pool.reconnect.initial'),
        factor: v('pool.reconnect.factor'),
        capMs: v('pool.reconnect.cap'),
        afterDisconnectMs: v('pool.reconnect.afterDisconnect'),
      },
      persistDebounceMs: v('pool.persistDebounce'),
    },
    peers: {
      hotTarget: v('peers.hotTarget'),
      deactivateTimeoutMs: v('peers.deactivateTimeout'),
      closeTimeoutMs: v('peers.closeTimeout'),
      repromoteDelayMs: v('peers.repromoteDelay'),
      churnIntervalMs: v('peers.churnInterval'),
    },
    wire: {
      connectTimeoutMs: v('wire.connectTimeout'),
      handshakeTimeoutMs: v('wire.handshakeTimeout'),
      keepAliveIntervalMs: v('wire.keepAliveInterval'),
      keepAliveTimeoutMs: v('wire.keepAliveTimeout'),
      maxFramePayload: v('wire.maxFramePayload'),
      maxPendingInbound: v('wire.maxPendingInbound'),
      tlsGroups: v('wire.tlsGroups'),
    },
    gossip: {
      maxMessageBytes: v('gossip.maxMessageBytes'),
      maxIngressBytes: v('gossip.maxIngressBytes'),
      seenCacheSize: v('gossip.seenCacheSize'),
      seenTtlMs: v('gossip.seenTtl'),
    },
    admin: admin(
      v('admin.listen'),
      v('admin.tokenFile'),
      token,
      v('admin.tls.cert'),
      v('admin.tls.key'),
      v('admin.tls.clientCa'),
    ),
    http: { listen: v('http.listen'), readyGraceMs: v('http.readyGrace') },
    log: { level: v('log.level') },
  };
}

function admin(
  listen: Config['admin']['listen'],
  tokenFile: string | undefined,
  token: string | undefined,
  cert: string | undefined,
  key: string | undefined,
  clientCa: string | undefined,
): Config['admin'] {
  return {
    listen,
    ...(tokenFile === undefined ? {} : { tokenFile }),
    ...(token === undefined ? {} : { token }),
    ...(cert === undefined || key === undefined
      ? {}
      : { tls: { cert, key, ...(clientCa === undefined ? {} : { clientCa }) } }),
  };
}
