import assert from 'node:assert/strict';
import { test } from 'node:test';
import { redactConfig } from '../../../src/config/redact.ts';
import { loaded, tempFile } from './helpers.ts';

const PEER = `mk${'a'.repeat(51)}q`;

test('defaults alone give the DESIGN §10 config, durations in ms', () => {
  const config = loaded();
  assert.equal(config.network, 'meshkeeper-local');
  assert.deepEqual(config.listen, { host: '0.0.0.0', port: 9740 });
  assert.equal(config.advertisedAddress, undefined);
  assert.deepEqual(config.connections, { min: 10, expected: 50, max: 100 });
  assert.deepEqual(config.maintenance, {
    idleTimeMs: 120_000,
    timeBetweenLookingForPeersMs: { initial: 5_000, cap: 300_000 },
    maxParallelDials: 10,
    settleTimeMs: 5000,
  });
  assert.deepEqual(config.pool.reconnect, {
    initialMs: 1_000,
    factor: 1.2,
    capMs: 172_800_000,
    afterDisconnectMs: 60_000,
  });
  assert.deepEqual(config.pool.maxKnownPoints, { high: 400, low: 300 });
  assert.equal(config.peers.churnIntervalMs, 900_000);
  assert.equal(config.wire.tlsGroups, '');
  assert.deepEqual(config.admin, { listen: { host: '127.0.0.1', port: 9741 } });
  assert.equal(config.log.level, 'info');
});

// One key, three sources: each step up the precedence wins.
for (const [extension, content] of [
  ['json', JSON.stringify({ connections: { max: 70 } })],
  ['yaml', 'connections:\n  max: 70\n'],
  ['yml', 'connections: { max: 70 }\n'],
] as const) {
  test(`precedence (${extension}): the config file overrides the default`, () => {
    const file = tempFile(extension, content);
    assert.equal(loaded(['--config', file]).connections.max, 70);
  });

  test(`precedence (${extension}): the environment overrides the config file`, () => {
    const file = tempFile(extension, content);
    assert.equal(
      loaded(['--config', file], { MESHKEEPER_CONNECTIONS_MAX: '80' }).connections.max,
      80,
    );
  });

  test(`precedence (${extension}): a flag overrides the environment and the file`, () => {
    const file = tempFile(extension, content);
    const config = loaded(['--config', file, '--connections-max', '90'], {
      MESHKEEPER_CONNECTIONS_MAX: '80',
    });
    assert.equal(config.connections.max, 90);
  });
}

test('MESHKEEPER_CONFIG names the config file; --config wins over it', () => {
  const a = tempFile('yaml', 'network: from-env-file\n');
  const b = tempFile('yaml', 'network: from-flag-file\n');
  assert.equal(loaded([], { MESHKEEPER_CONFIG: a }).network, 'from-env-file');
  assert.equal(loaded(['--config', b], { MESHKEEPER_CONFIG: a }).network, 'from-flag-file');
});

test('a YAML file with every kind of value', () => {
  const file = tempFile(
    'yaml',
    [
      'network: prod',
      'listen: "[::]:9000"',
      'advertisedAddress: 10.1.2.3:9000',
      'bootstrap:',
      '  - seed-0.example:9740',
      `  - 10.0.0.1:9740#${PEER}`,
      'privateMode: true',
      'maintenance:',
      '  idleTime: 2m',
      '  timeBetweenLookingForPeers: { initial: 1s, cap: 1m }',
      'pool:',
      '  maxKnownPoints: [1000, 800]',
      '  reconnect: { factor: 1.5, initial: 500 }',
      'peers: { churnInterval: 0 }',
      'log: { level: debug }',
      '',
    ].join('\n'),
  );
  const config = loaded(['--config', file]);
  assert.equal(config.network, 'prod');
  assert.deepEqual(config.listen, { host: '::', port: 9000 });
  assert.deepEqual(config.advertisedAddress, { host: '10.1.2.3', port: 9000 });
  assert.deepEqual(config.bootstrap, [
    { host: 'seed-0.example', port: 9740 },
    { host: '10.0.0.1', port: 9740, peerId: PEER },
  ]);
  assert.equal(config.privateMode, true);
  assert.equal(config.maintenance.idleTimeMs, 120_000);
  assert.deepEqual(config.maintenance.timeBetweenLookingForPeersMs, {
    initial: 1_000,
    cap: 60_000,
  });
  assert.deepEqual(config.pool.maxKnownPoints, { high: 1000, low: 800 });
  assert.equal(config.pool.reconnect.factor, 1.5);
  assert.equal(config.pool.reconnect.initialMs, 500);
  assert.equal(config.peers.churnIntervalMs, 0);
  assert.equal(config.log.level, 'debug');
});

test('an empty YAML file is an empty config', () => {
  assert.equal(loaded(['--config', tempFile('yaml', '')]).network, 'meshkeeper-local');
});

test('lists from flags (repeated, comma-separated) and from the environment', () => {
  const fromFlags = loaded([
    '--bootstrap',
    'a.example:1,b.example:2',
    '--bootstrap',
    `c.example:3#${PEER}`,
  ]);
  assert.deepEqual(fromFlags.bootstrap, [
    { host: 'a.example', port: 1 },
    { host: 'b.example', port: 2 },
    { host: 'c.example', port: 3, peerId: PEER },
  ]);
  const fromEnv = loaded([], { MESHKEEPER_TRUSTED: 'a.example:1, [::1]:2' });
  assert.deepEqual(fromEnv.trusted, [
    { host: 'a.example', port: 1 },
    { host: '::1', port: 2 },
  ]);
});

test('a flag list replaces the environment list, it does not append', () => {
  const config = loaded(['--bootstrap', 'b.example:2'], { MESHKEEPER_BOOTSTRAP: 'a.example:1' });
  assert.deepEqual(config.bootstrap, [{ host: 'b.example', port: 2 }]);
});

test('booleans from flags and the environment', () => {
  assert.equal(loaded(['--private-mode']).privateMode, true);
  assert.equal(loaded([], { MESHKEEPER_PRIVATE_MODE: 'true' }).privateMode, true);
  assert.equal(
    loaded(['--no-private-mode'], { MESHKEEPER_PRIVATE_MODE: 'true' }).privateMode,
    false,
  );
  assert.equal(loaded([], { MESHKEEPER_PRIVATE_MODE: '0' }).privateMode, false);
});

test('durations from flags and the environment: units or milliseconds', () => {
  const config = loaded(['--wire-connect-timeout', '2500'], {
    MESHKEEPER_WIRE_HANDSHAKE_TIMEOUT: '1.5s',
  });
  assert.equal(config.wire.connectTimeoutMs, 2_500);
  assert.equal(config.wire.handshakeTimeoutMs, 1_500);
});

test('an empty environment variable leaves an optional key unset', () => {
  const config = loaded([], {
    MESHKEEPER_ADVERTISED_ADDRESS: '',
    MESHKEEPER_ADMIN_TOKEN_FILE: '',
    MESHKEEPER_ADMIN_TOKEN: '',
  });
  assert.equal(config.advertisedAddress, undefined);
  assert.deepEqual(config.admin, { listen: { host: '127.0.0.1', port: 9741 } });
});

test('listen addresses accept port 0 (any free port)', () => {
  const config = loaded([
    '--listen',
    '127.0.0.1:0',
    '--admin-listen',
    '127.0.0.1:0',
    '--http-listen',
    '127.0.0.1:0',
  ]);
  assert.equal(config.listen.port, 0);
  assert.equal(config.admin.listen.port, 0);
});

test('--connections N derives the bounds and the caps', () => {
  const config = loaded(['--connections', '6']);
  assert.deepEqual(config.connections, { min: 3, expected: 6, max: 9 });
  assert.deepEqual(config.pool.maxKnownPoints, { high: 48, low: 36 });
  assert.deepEqual(config.pool.maxKnownPeerIds, { high: 48, low: 36 });
});

test('--connections: an explicit --connections-* flag wins for the key it sets', () => {
  const config = loaded(['--connections', '50', '--connections-min', '10']);
  assert.deepEqual(config.connections, { min: 10, expected: 50, max: 75 });
});

test('--connections overrides bounds from the config file and the environment', () => {
  const file = tempFile('json', JSON.stringify({ connections: { min: 1, expected: 2, max: 3 } }));
  const config = loaded(['--config', file, '--connections', '6'], {
    MESHKEEPER_CONNECTIONS_MAX: '4',
  });
  assert.deepEqual(config.connections, { min: 3, expected: 6, max: 9 });
});

test('--connections never overrides caps set explicitly, in any source', () => {
  const file = tempFile('yaml', 'pool:\n  maxKnownPoints: [2000, 1500]\n');
  const config = loaded(['--config', file, '--connections', '100'], {
    MESHKEEPER_POOL_MAX_KNOWN_PEER_IDS: '3000,2000',
  });
  assert.deepEqual(config.pool.maxKnownPoints, { high: 2000, low: 1500 });
  assert.deepEqual(config.pool.maxKnownPeerIds, { high: 3000, low: 2000 });
  assert.deepEqual(config.connections, { min: 50, expected: 100, max: 150 });
});

test('MESHKEEPER_CONNECTIONS works like --connections, at the environment level', () => {
  assert.deepEqual(loaded([], { MESHKEEPER_CONNECTIONS: '2' }).connections, {
    min: 1,
    expected: 2,
    max: 3,
  });
  // an explicit variable of the same level wins
  assert.deepEqual(
    loaded([], { MESHKEEPER_CONNECTIONS: '6', MESHKEEPER_CONNECTIONS_MIN: '1' }).connections,
    {
      min: 1,
      expected: 6,
      max: 9,
    },
  );
  // a flag (higher level) wins over it
  assert.deepEqual(loaded(['--connections', '50'], { MESHKEEPER_CONNECTIONS: '6' }).connections, {
    min: 25,
    expected: 50,
    max: 75,
  });
});

test('the admin token comes from MESHKEEPER_ADMIN_TOKEN', () => {
  const config = loaded([], { MESHKEEPER_ADMIN_TOKEN: 's3cret-token' });
  assert.equal(config.admin.token, 's3cret-token');
});

test('the admin token comes from admin.tokenFile, its trailing newline dropped', () => {
  const tokenFile = tempFile('token', 'file-token-123\n');
  const config = loaded(['--admin-token-file', tokenFile, '--admin-listen', '0.0.0.0:9741']);
  assert.equal(config.admin.token, 'file-token-123');
  assert.equal(config.admin.tokenFile, tokenFile);
});

test('admin TLS files are passed through when readable', () => {
  const cert = tempFile('pem', 'cert');
  const key = tempFile('pem', 'key');
  const ca = tempFile('pem', 'ca');
  const config = loaded([
    '--admin-tls-cert',
    cert,
    '--admin-tls-key',
    key,
    '--admin-tls-client-ca',
    ca,
  ]);
  assert.deepEqual(config.admin.tls, { cert, key, clientCa: ca });
});

test('redactConfig masks the token and nothing else', () => {
  const config = loaded([], { MESHKEEPER_ADMIN_TOKEN: 's3cret-token' });
  const redacted = redactConfig(config);
  assert.equal(redacted.admin.token, '[redacted]');
  assert.ok(!JSON.stringify(redacted).includes('s3cret-token'));
  assert.equal(config.admin.token, 's3cret-token', 'the original is untouched');
  assert.deepEqual({ ...redacted, admin: config.admin }, config);
});

test('unknown MESHKEEPER_* variables are ignored (Kubernetes service links set some)', () => {
  const config = loaded([], {
    MESHKEEPER_PORT: 'tcp://10.0.0.1:9740',
    MESHKEEPER_SERVICE_HOST: '10.0.0.1',
    MESHKEEPER_PORT_9740_TCP_ADDR: '10.0.0.1',
  });
  assert.equal(config.listen.port, 9740);
});

test('loading reads nothing from process.env or process.argv', () => {
  process.env.MESHKEEPER_NETWORK = 'leaked';
  try {
    assert.equal(loaded().network, 'meshkeeper-local');
  } finally {
    delete process.env.MESHKEEPER_NETWORK;
  }
});
