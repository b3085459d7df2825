import assert from 'node:assert/strict';
import { chmodSync } from 'node:fs';
import { test } from 'node:test';
import { failed, onlyError, tempDir, tempFile } from './helpers.ts';

// Each configuration error, alone: its code, its key and what its message says.

// --- the command line ---

test('unknown_flag, with the nearest known flag as a hint; its value is not a second error', () => {
  onlyError(
    ['--conections-max', '5'],
    {},
    {
      code: 'unknown_flag',
      key: '--conections-max',
      message: /unknown flag --conections-max \(did you mean --connections-max\?\)/,
    },
  );
});

test('missing_flag_value', () => {
  onlyError(
    ['--listen'],
    {},
    { code: 'missing_flag_value', key: '--listen', message: /needs a value/ },
  );
});

test('duplicate_flag', () => {
  onlyError(
    ['--log-level', 'info', '--log-level', 'debug'],
    {},
    {
      code: 'duplicate_flag',
      key: '--log-level',
      message: /more than once/,
    },
  );
});

test('unexpected_argument', () => {
  onlyError(
    ['run'],
    {},
    { code: 'unexpected_argument', key: 'run', message: /unexpected argument "run"/ },
  );
});

// --- the config file ---

test('config_file_unreadable: missing file', () => {
  onlyError(
    ['--config', '/nonexistent/meshkeeper.yaml'],
    {},
    {
      code: 'config_file_unreadable',
      key: 'config',
      message: /\/nonexistent\/meshkeeper\.yaml: cannot read \(ENOENT\)/,
    },
  );
});

test('config_file_unreadable: a directory', () => {
  onlyError(
    ['--config', tempDir('conf.d.json')],
    {},
    { code: 'config_file_unreadable', key: 'config', message: /EISDIR/ },
  );
});

test('config_file_unreadable: no permission', {
  skip: process.getuid?.() === 0 && 'root reads any file',
}, () => {
  const file = tempFile('json', '{}');
  chmodSync(file, 0o000);
  onlyError(
    ['--config', file],
    {},
    { code: 'config_file_unreadable', key: 'config', message: /EACCES/ },
  );
});

test('config_file_invalid: corrupt JSON', () => {
  const file = tempFile('json', '{"connections": {"max": 5,}');
  onlyError(
    ['--config', file],
    {},
    { code: 'config_file_invalid', key: 'config', message: /cannot parse/ },
  );
});

test('config_file_invalid: corrupt YAML', () => {
  const file = tempFile('yaml', 'connections:\n  max: 5\n   min: [1\n');
  onlyError(
    ['--config', file],
    {},
    { code: 'config_file_invalid', key: 'config', message: /cannot parse/ },
  );
});

test('config_file_invalid: duplicate YAML key', () => {
  const file = tempFile('yaml', 'network: a\nnetwork: b\n');
  onlyError(
    ['--config', file],
    {},
    { code: 'config_file_invalid', key: 'config', message: /cannot parse/ },
  );
});

test('config_file_invalid: not a mapping', () => {
  const file = tempFile('yaml', '- a\n- b\n');
  onlyError(
    ['--config', file],
    {},
    { code: 'config_file_invalid', key: 'config', message: /mapping/ },
  );
});

test('config_file_invalid: empty JSON file', () => {
  const file = tempFile('json', '');
  onlyError(
    ['--config', file],
    {},
    { code: 'config_file_invalid', key: 'config', message: /cannot parse/ },
  );
});

test('config_file_invalid: a YAML value that contains itself', () => {
  const file = tempFile('yaml', 'pool: &p\n  x: *p\n');
  onlyError(
    ['--config', file],
    {},
    { code: 'config_file_invalid', key: 'config', message: /contains itself/ },
  );
});

test('config_file_invalid: nested far too deep', () => {
  const file = tempFile('json', `${'{"a":'.repeat(40)}1${'}'.repeat(40)}`);
  onlyError(
    ['--config', file],
    {},
    { code: 'config_file_invalid', key: 'config', message: /deeper than 32/ },
  );
});

test('config_file_unsupported: unknown extension', () => {
  const file = tempFile('toml', 'network = "a"');
  onlyError(
    ['--config', file],
    {},
    { code: 'config_file_unsupported', key: 'config', message: /\.json, \.yaml or \.yml/ },
  );
});

test('undeclared_key: top level', () => {
  const file = tempFile('yaml', 'netwrok: a\n');
  onlyError(
    ['--config', file],
    {},
    { code: 'undeclared_key', key: 'netwrok', message: /not a configuration key/ },
  );
});

test('undeclared_key: inside a section', () => {
  const file = tempFile('json', JSON.stringify({ connections: { maximum: 5 } }));
  onlyError(
    ['--config', file],
    {},
    { code: 'undeclared_key', key: 'connections.maximum', message: /not a configuration key/ },
  );
});

test('undeclared_key: __proto__ never reaches the merge', () => {
  const file = tempFile('json', '{"__proto__": {"polluted": true}}');
  onlyError(
    ['--config', file],
    {},
    { code: 'undeclared_key', key: '__proto__', message: /not a configuration key/ },
  );
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

test('undeclared_key: the token is not a file key', () => {
  const file = tempFile('yaml', 'admin:\n  token: do-not-put-it-here\n');
  const error = onlyError(
    ['--config', file],
    {},
    { code: 'undeclared_key', key: 'admin.token', message: /not a configuration key/ },
  );
  assert.ok(!JSON.stringify(error).includes('do-not-put-it-here'));
});

test('not_a_section', () => {
  const file = tempFile('yaml', 'connections: 50\n');
  onlyError(
    ['--config', file],
    {},
    {
      code: 'not_a_section',
      key: 'connections',
      message: /section with the keys min, expected, max/,
    },
  );
});

test('invalid_value: a section where a value belongs (config file)', () => {
  const file = tempFile('yaml', 'connections:\n  max: { value: 5 }\n');
  onlyError(
    ['--config', file],
    {},
    { code: 'invalid_value', key: 'connections.max', message: /whole number.*config file/ },
  );
});

// --- values ---

const INVALID_VALUES: ReadonlyArray<{
  name: string;
  env: Record<string, string>;
  key: string;
  message: RegExp;
}> = [
  {
    name: 'integer not a number',
    env: { MESHKEEPER_CONNECTIONS_MAX: '12abc' },
    key: 'connections.max',
    message: /whole number, got "12abc" \(from MESHKEEPER_CONNECTIONS_MAX\)/,
  },
  {
    name: 'integer out of range',
    env: { MESHKEEPER_MAINTENANCE_MAX_PARALLEL_DIALS: '0' },
    key: 'maintenance.maxParallelDials',
    message: /from 1 to 10000, got 0/,
  },
  {
    name: 'integer negative',
    env: { MESHKEEPER_PEERS_HOT_TARGET: '-1' },
    key: 'peers.hotTarget',
    message: /from 0 to/,
  },
  {
    name: 'frame payload too small',
    env: { MESHKEEPER_WIRE_MAX_FRAME_PAYLOAD: '100' },
    key: 'wire.maxFramePayload',
    message: /from 1024/,
  },
  {
    name: 'duration unknown unit',
    env: { MESHKEEPER_WIRE_CONNECT_TIMEOUT: '10sec' },
    key: 'wire.connectTimeout',
    message: /unknown unit "sec"/,
  },
  {
    name: 'duration negative',
    env: { MESHKEEPER_MAINTENANCE_IDLE_TIME: '-2m' },
    key: 'maintenance.idleTime',
    message: /negative/,
  },
  {
    name: 'duration zero where a period is needed',
    env: { MESHKEEPER_WIRE_KEEP_ALIVE_INTERVAL: '0s' },
    key: 'wire.keepAliveInterval',
    message: /at least 1 ms/,
  },
  {
    name: 'duration beyond a Node timer',
    env: { MESHKEEPER_POOL_GREYLIST_TIMEOUT: '30d' },
    key: 'pool.greylistTimeout',
    message: /at most 2147483647 ms/,
  },
  {
    name: 'address without port',
    env: { MESHKEEPER_LISTEN: '0.0.0.0' },
    key: 'listen',
    message: /needs a port/,
  },
  {
    name: 'advertised address with port 0',
    env: { MESHKEEPER_ADVERTISED_ADDRESS: '10.0.0.1:0' },
    key: 'advertisedAddress',
    message: /between 1 and 65535/,
  },
  {
    name: 'IPv6 without brackets',
    env: { MESHKEEPER_HTTP_LISTEN: '::1:9742' },
    key: 'http.listen',
    message: /brackets/,
  },
  {
    name: 'point list entry',
    env: { MESHKEEPER_BOOTSTRAP: 'ok.example:1,bad' },
    key: 'bootstrap',
    message: /entry 2 "bad": address needs a port/,
  },
  {
    name: 'point with a bad peer id',
    env: { MESHKEEPER_TRUSTED: 'a.example:1#mkXYZ' },
    key: 'trusted',
    message: /peer id/,
  },
  {
    name: 'boolean',
    env: { MESHKEEPER_PRIVATE_MODE: 'yes' },
    key: 'privateMode',
    message: /true or false, got "yes"/,
  },
  {
    name: 'watermarks high ≤ low',
    env: { MESHKEEPER_POOL_MAX_KNOWN_POINTS: '300,400' },
    key: 'pool.maxKnownPoints',
    message: /high \(300\) must be greater than low \(400\)/,
  },
  {
    name: 'watermarks not a pair',
    env: { MESHKEEPER_POOL_MAX_KNOWN_PEER_IDS: '400' },
    key: 'pool.maxKnownPeerIds',
    message: /pair/,
  },
  {
    name: 'log level',
    env: { MESHKEEPER_LOG_LEVEL: 'verbose' },
    key: 'log.level',
    message: /one of trace, debug, info, warn, error, fatal, silent/,
  },
  {
    name: 'network name',
    env: { MESHKEEPER_NETWORK: 'my net' },
    key: 'network',
    message: /letters, digits/,
  },
  {
    name: 'reconnect factor',
    env: { MESHKEEPER_POOL_RECONNECT_FACTOR: '0.5' },
    key: 'pool.reconnect.factor',
    message: /from 1 to 10/,
  },
  {
    name: 'TLS groups',
    env: { MESHKEEPER_WIRE_TLS_GROUPS: 'X25519;P-256' },
    key: 'wire.tlsGroups',
    message: /separated by ":"/,
  },
  {
    name: 'empty data dir',
    env: { MESHKEEPER_DATA_DIR: '' },
    key: 'dataDir',
    message: /must be a path/,
  },
];

for (const { name, env, key, message } of INVALID_VALUES) {
  test(`invalid_value: ${name}`, () => {
    onlyError([], env, { code: 'invalid_value', key, message });
  });
}

test('invalid_value: a flag value says it came from the flag', () => {
  onlyError(
    ['--connections-max', 'many'],
    {},
    { code: 'invalid_value', key: 'connections.max', message: /\(from --connections-max\)/ },
  );
});

test('invalid_value: a file value says it came from the config file', () => {
  const file = tempFile('yaml', 'wire:\n  connectTimeout: soon\n');
  onlyError(
    ['--config', file],
    {},
    { code: 'invalid_value', key: 'wire.connectTimeout', message: /\(from the config file\)/ },
  );
});

test('invalid_value: a bad value overridden by a higher source is no error', () => {
  const file = tempFile('yaml', 'wire:\n  connectTimeout: soon\n');
  assert.equal(failed(['--config', file, '--wire-connect-timeout', '1s', '--nope']).length, 1);
});

for (const [value, message] of [
  ['0', /from 1 to 1000, got 0/],
  ['1001', /from 1 to 1000, got 1001/],
  ['2.5', /whole number/],
  ['many', /whole number/],
] as const) {
  test(`invalid_value: --connections ${value}`, () => {
    onlyError(['--connections', value], {}, { code: 'invalid_value', key: 'connections', message });
  });
}

test('invalid_value: MESHKEEPER_CONNECTIONS says it came from the environment', () => {
  onlyError(
    [],
    { MESHKEEPER_CONNECTIONS: '0' },
    { code: 'invalid_value', key: 'connections', message: /MESHKEEPER_CONNECTIONS/ },
  );
});

// --- relations between values ---

test('min_below_one', () => {
  onlyError(
    ['--connections-min', '0'],
    {},
    { code: 'min_below_one', key: 'connections.min', message: /at least 1/ },
  );
});

test('min_above_expected', () => {
  onlyError(
    ['--connections-min', '60'],
    {},
    {
      code: 'min_above_expected',
      key: 'connections.min',
      message: /min \(60\) must not exceed expected \(50\)/,
    },
  );
});

test('expected_above_max', () => {
  onlyError(
    ['--connections-expected', '120'],
    {},
    {
      code: 'expected_above_max',
      key: 'connections.expected',
      message: /expected \(120\) must not exceed max \(100\)/,
    },
  );
});

test('max_above_known_points', () => {
  onlyError(
    ['--pool-max-known-points', '100,50'],
    {},
    {
      code: 'max_above_known_points',
      key: 'connections.max',
      message: /low watermark of pool\.maxKnownPoints \(50\)/,
    },
  );
});

test('max_above_known_peer_ids', () => {
  onlyError(
    ['--pool-max-known-peer-ids', '100,50'],
    {},
    {
      code: 'max_above_known_peer_ids',
      key: 'connections.max',
      message: /low watermark of pool\.maxKnownPeerIds \(50\)/,
    },
  );
});

test('initial_above_cap: time between looking for peers', () => {
  onlyError(
    ['--maintenance-time-between-looking-for-peers-initial', '10m'],
    {},
    {
      code: 'initial_above_cap',
      key: 'maintenance.timeBetweenLookingForPeers.initial',
      message: /must not exceed maintenance\.timeBetweenLookingForPeers\.cap/,
    },
  );
});

test('initial_above_cap: reconnect', () => {
  onlyError(
    ['--pool-reconnect-initial', '1d', '--pool-reconnect-cap', '1h'],
    {},
    {
      code: 'initial_above_cap',
      key: 'pool.reconnect.initial',
      message: /must not exceed pool\.reconnect\.cap/,
    },
  );
});

test('message_above_ingress', () => {
  onlyError(
    ['--gossip-max-message-bytes', '9000000'],
    {},
    {
      code: 'message_above_ingress',
      key: 'gossip.maxMessageBytes',
      message: /gossip\.maxIngressBytes \(8388608\)/,
    },
  );
});

test('port_conflict: same port on a wildcard', () => {
  onlyError(
    ['--http-listen', '127.0.0.1:9740'],
    {},
    {
      code: 'port_conflict',
      key: 'http.listen',
      message: /127\.0\.0\.1:9740 overlaps listen \(0\.0\.0\.0:9740\)/,
    },
  );
});

test('port_conflict: none on different hosts or on port 0', () => {
  assert.equal(
    failed([
      '--listen',
      '127.0.0.1:0',
      '--http-listen',
      '127.0.0.2:9741',
      '--admin-listen',
      '127.0.0.1:9741',
      '--nope',
    ]).length,
    1,
  );
});

test('tls_incomplete: a certificate without its key', () => {
  onlyError(
    ['--admin-tls-cert', tempFile('pem', 'c')],
    {},
    { code: 'tls_incomplete', key: 'admin.tls.key', message: /both/ },
  );
});

test('tls_incomplete: a client CA without a server certificate', () => {
  onlyError(
    ['--admin-tls-client-ca', tempFile('pem', 'ca')],
    {},
    {
      code: 'tls_incomplete',
      key: 'admin.tls.clientCa',
      message: /admin\.tls\.cert and admin\.tls\.key/,
    },
  );
});

test('tls_file_unreadable', () => {
  onlyError(
    ['--admin-tls-cert', '/nonexistent/cert.pem', '--admin-tls-key', tempFile('pem', 'k')],
    {},
    {
      code: 'tls_file_unreadable',
      key: 'admin.tls.cert',
      message: /ENOENT/,
    },
  );
});

// --- the admin token ---

const SECRET = 'Sup3r-Secret-Token-Value';

test('admin_token_required: a non-loopback admin bind without a token', () => {
  onlyError(
    ['--admin-listen', '0.0.0.0:9741'],
    {},
    {
      code: 'admin_token_required',
      key: 'admin.listen',
      message: /needs a token/,
    },
  );
});

test('admin_token_required: not raised on loopback or with a token', () => {
  assert.equal(failed(['--admin-listen', '[::1]:9741', '--nope']).length, 1);
  assert.equal(
    failed(['--admin-listen', '0.0.0.0:9741', '--nope'], { MESHKEEPER_ADMIN_TOKEN: SECRET }).length,
    1,
  );
});

test('admin_token_conflict: both a token file and the variable', () => {
  const error = onlyError(
    ['--admin-token-file', tempFile('token', SECRET)],
    { MESHKEEPER_ADMIN_TOKEN: SECRET },
    {
      code: 'admin_token_conflict',
      key: 'admin.tokenFile',
      message: /not both/,
    },
  );
  assert.ok(!error.message.includes(SECRET));
});

test('admin_token_unreadable', () => {
  onlyError(
    ['--admin-token-file', '/nonexistent/token'],
    {},
    {
      code: 'admin_token_unreadable',
      key: 'admin.tokenFile',
      message: /\/nonexistent\/token: cannot read \(ENOENT\)/,
    },
  );
});

test('admin_token_empty: a file holding only a newline', () => {
  onlyError(
    ['--admin-token-file', tempFile('token', '\n')],
    {},
    {
      code: 'admin_token_empty',
      key: 'admin.tokenFile',
      message: /empty/,
    },
  );
});

test('admin_token_empty: a variable holding only spaces', () => {
  onlyError(
    [],
    { MESHKEEPER_ADMIN_TOKEN: '   ' },
    { code: 'admin_token_empty', key: 'MESHKEEPER_ADMIN_TOKEN', message: /empty/ },
  );
});

test('admin_token_invalid: a token with a space, never quoted', () => {
  const bad = `${SECRET} ${SECRET}`;
  const error = onlyError(
    ['--admin-token-file', tempFile('token', bad)],
    {},
    {
      code: 'admin_token_invalid',
      key: 'admin.tokenFile',
      message: /printable ASCII without spaces/,
    },
  );
  assert.ok(!error.message.includes(SECRET));
});

test('the token never appears in any error, whatever else is wrong', () => {
  const badToken = `${SECRET}\u0007`;
  const errors = failed(['--admin-listen', '0.0.0.0:9741', '--connections', '0', '--nope'], {
    MESHKEEPER_ADMIN_TOKEN: badToken,
    MESHKEEPER_LOG_LEVEL: 'loud',
  });
  assert.ok(errors.some((e) => e.code === 'admin_token_invalid'));
  assert.ok(!JSON.stringify(errors).includes(SECRET));
});

// --- all at once ---

test('several errors from every source are reported together', () => {
  const file = tempFile('yaml', 'netwrok: typo\nwire:\n  connectTimeout: soon\n');
  const errors = failed(
    ['--config', file, '--connections-min', '200', '--bogus', '--listen', 'nohost'],
    {
      MESHKEEPER_LOG_LEVEL: 'loud',
      MESHKEEPER_BOOTSTRAP: 'a:1,:2',
      MESHKEEPER_ADMIN_TOKEN_FILE: '/nonexistent/token',
    },
  );
  const found = errors.map((e) => `${e.code} ${e.key}`).sort();
  assert.deepEqual(
    found,
    [
      'admin_token_unreadable admin.tokenFile',
      'invalid_value bootstrap',
      'invalid_value listen',
      'invalid_value log.level',
      'invalid_value wire.connectTimeout',
      'min_above_expected connections.min',
      'undeclared_key netwrok',
      'unknown_flag --bogus',
    ].sort(),
  );
});
