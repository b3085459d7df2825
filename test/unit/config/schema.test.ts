import assert from 'node:assert/strict';
import { test } from 'node:test';
import convict from 'convict';
import {
  buildSchema,
  CONFIG_KEYS,
  envName,
  flagName,
  KEYS,
  specOf,
} from '../../../src/config/schema.ts';

// Every key of DESIGN §10 (the two-valued rows split into their keys), plus wire.tlsGroups.
const DESIGN_KEYS = [
  'network',
  'listen',
  'advertisedAddress',
  'dataDir',
  'bootstrap',
  'trusted',
  'privateMode',
  'connections.min',
  'connections.expected',
  'connections.max',
  'maintenance.idleTime',
  'maintenance.timeBetweenLookingForPeers.initial',
  'maintenance.timeBetweenLookingForPeers.cap',
  'maintenance.maxParallelDials',
  'maintenance.settleTime',
  'pool.maxKnownPoints',
  'pool.maxKnownPeerIds',
  'pool.greylistTimeout',
  'pool.reconnect.initial',
  'pool.reconnect.factor',
  'pool.reconnect.cap',
  'pool.reconnect.afterDisconnect',
  'pool.persistDebounce',
  'peers.hotTarget',
  'peers.deactivateTimeout',
  'peers.closeTimeout',
  'peers.repromoteDelay',
  'peers.churnInterval',
  'wire.connectTimeout',
  'wire.handshakeTimeout',
  'wire.keepAliveInterval',
  'wire.keepAliveTimeout',
  'wire.maxFramePayload',
  'wire.maxPendingInbound',
  'wire.tlsGroups',
  'gossip.maxMessageBytes',
  'gossip.maxIngressBytes',
  'gossip.seenCacheSize',
  'gossip.seenTtl',
  'admin.listen',
  'admin.tokenFile',
  'admin.tls.cert',
  'admin.tls.key',
  'admin.tls.clientCa',
  'http.listen',
  'http.readyGrace',
  'log.level',
];

test('the schema has every key of DESIGN §10 and nothing else', () => {
  assert.deepEqual([...CONFIG_KEYS].sort(), [...DESIGN_KEYS].sort());
});

test('the defaults are those of DESIGN §10', () => {
  const defaults = Object.fromEntries(CONFIG_KEYS.map((k) => [k, KEYS[k].default]));
  assert.equal(defaults.network, 'meshkeeper-local');
  assert.equal(defaults.listen, '0.0.0.0:9740');
  assert.equal(defaults['connections.min'], 10);
  assert.equal(defaults['connections.expected'], 50);
  assert.equal(defaults['connections.max'], 100);
  assert.equal(defaults['maintenance.idleTime'], '120s');
  assert.equal(defaults['maintenance.timeBetweenLookingForPeers.initial'], '5s');
  assert.equal(defaults['maintenance.timeBetweenLookingForPeers.cap'], '5m');
  assert.deepEqual(defaults['pool.maxKnownPoints'], [400, 300]);
  assert.equal(defaults['pool.reconnect.cap'], '2d');
  assert.equal(defaults['peers.churnInterval'], '900s');
  assert.equal(defaults['wire.maxFramePayload'], 65536);
  assert.equal(defaults['gossip.maxIngressBytes'], 8 * 1024 * 1024);
  assert.equal(defaults['admin.listen'], '127.0.0.1:9741');
  assert.equal(defaults['http.listen'], '0.0.0.0:9742');
  assert.equal(defaults['log.level'], 'info');
  assert.equal(defaults['wire.tlsGroups'], '');
});

test('every default parses with its own key', () => {
  for (const configKey of CONFIG_KEYS) {
    const parsed = specOf(configKey).kind.parse(specOf(configKey).default);
    assert.ok(parsed.ok, `${configKey}: ${parsed.ok ? '' : parsed.error}`);
  }
});

test('environment and flag names derive from the key path', () => {
  assert.equal(envName('connections.max'), 'MESHKEEPER_CONNECTIONS_MAX');
  assert.equal(envName('wire.connectTimeout'), 'MESHKEEPER_WIRE_CONNECT_TIMEOUT');
  assert.equal(envName('dataDir'), 'MESHKEEPER_DATA_DIR');
  assert.equal(envName('admin.tokenFile'), 'MESHKEEPER_ADMIN_TOKEN_FILE');
  assert.equal(flagName('connections.max'), 'connections-max');
  assert.equal(flagName('wire.connectTimeout'), 'wire-connect-timeout');
  assert.equal(flagName('privateMode'), 'private-mode');
  assert.equal(flagName('dataDir'), 'data-dir');
  assert.equal(flagName('log.level'), 'log-level');
  assert.equal(flagName('admin.tls.clientCa'), 'admin-tls-client-ca');
});

test('environment and flag names are all distinct, and none is the admin token variable', () => {
  const envs = CONFIG_KEYS.map(envName);
  const flags = CONFIG_KEYS.map(flagName);
  assert.equal(new Set(envs).size, envs.length);
  assert.equal(new Set(flags).size, flags.length);
  assert.ok(!envs.includes('MESHKEEPER_ADMIN_TOKEN'));
  assert.ok(!flags.includes('config') && !flags.includes('connections'));
});

test('the convict schema carries doc, default, format, env and arg for every key', () => {
  const store = convict(buildSchema() as convict.Schema<object>, { env: {}, args: [] });
  const schema: unknown = store.getSchema();
  for (const configKey of CONFIG_KEYS) {
    let node: unknown = schema;
    for (const segment of configKey.split('.')) {
      node = (node as { _cvtProperties: Record<string, unknown> })._cvtProperties[segment];
    }
    const leaf = node as Record<string, unknown>;
    assert.equal(leaf.env, envName(configKey), configKey);
    assert.equal(leaf.arg, flagName(configKey), configKey);
    assert.equal(typeof leaf.doc, 'string', configKey);
    assert.equal(leaf.format, `meshkeeper:${configKey}`, configKey);
    assert.deepEqual(leaf.default, specOf(configKey).default, configKey);
  }
});
