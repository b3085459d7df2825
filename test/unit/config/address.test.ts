import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import {
  formatAddress,
  formatPoint,
  isLoopbackHost,
  isPeerId,
  isWildcardHost,
  parseAddress,
  parsePoint,
} from '../../../src/config/address.ts';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

/** RFC 4648 base32, lowercase, no padding: how DESIGN §3 spells a peer id. */
function base32(bytes: Uint8Array): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

function peerIdOf(seed: string): string {
  return `mk${base32(createHash('sha256').update(seed).digest())}`;
}

const PEER = peerIdOf('node-a');

const VALID_ADDRESSES: ReadonlyArray<[string, string, number]> = [
  ['127.0.0.1:9740', '127.0.0.1', 9740],
  ['0.0.0.0:1', '0.0.0.0', 1],
  ['localhost:65535', 'localhost', 65535],
  [
    'meshkeeper-0.meshkeeper.default.svc.cluster.local:9740',
    'meshkeeper-0.meshkeeper.default.svc.cluster.local',
    9740,
  ],
  ['fqdn.example.:80', 'fqdn.example.', 80],
  ['Node_1:80', 'Node_1', 80],
  ['[::1]:9740', '::1', 9740],
  ['[::]:9740', '::', 9740],
  ['[2001:db8::1]:443', '2001:db8::1', 443],
  ['[::ffff:1.2.3.4]:80', '::ffff:1.2.3.4', 80],
  ['[fe80::1%eth0]:80', 'fe80::1%eth0', 80],
];

const INVALID_ADDRESSES: ReadonlyArray<[unknown, string]> = [
  ['', 'empty'],
  ['localhost', 'missing_port'],
  ['localhost:', 'missing_port'],
  [':9740', 'bad_host'],
  ['host:0', 'port_out_of_range'],
  ['host:65536', 'port_out_of_range'],
  ['host:99999', 'port_out_of_range'],
  ['host:123456', 'bad_port'],
  ['host:abc', 'bad_port'],
  ['host:-1', 'bad_port'],
  ['host:+80', 'bad_port'],
  ['host:080', 'bad_port'],
  ['host:8 0', 'whitespace'],
  [' host:80', 'whitespace'],
  ['host:80\n', 'whitespace'],
  ['ho st:80', 'whitespace'],
  ['[::1:9740', 'unbalanced_brackets'],
  ['::1]:9740', 'unbalanced_brackets'],
  ['[[::1]]:9740', 'unbalanced_brackets'],
  ['[::1]]:9740', 'unbalanced_brackets'],
  ['host[1]:80', 'unbalanced_brackets'],
  ['[::1]9740', 'missing_port'],
  ['[::1]', 'missing_port'],
  ['[::1]:', 'missing_port'],
  ['[]:80', 'bad_host'],
  ['[1.2.3.4]:80', 'bad_host'],
  ['[not-ipv6]:80', 'bad_host'],
  ['::1:9740', 'ipv6_without_brackets'],
  ['2001:db8::1:443', 'ipv6_without_brackets'],
  ['256.1.1.1:80', 'bad_host'],
  ['1.2.3:80', 'bad_host'],
  ['0x7f000001:80', 'bad_host'],
  ['-host:80', 'bad_host'],
  ['host-:80', 'bad_host'],
  ['a..b:80', 'bad_host'],
  ['.host:80', 'bad_host'],
  ['host/path:80', 'bad_host'],
  ['user@host:80', 'bad_host'],
  ['http://host:80', 'bad_host'],
  ['a:b:80', 'bad_host'],
  [`${'a'.repeat(64)}:80`, 'bad_host'],
  [`${Array.from({ length: 50 }, () => 'abcde').join('.')}:80`, 'bad_host'],
  ['x'.repeat(1_000_000), 'too_long'],
  [42, 'not_a_string'],
  [null, 'not_a_string'],
];

for (const [text, host, port] of VALID_ADDRESSES) {
  test(`parseAddress(${JSON.stringify(text)}) → ${host} ${port}, and formats back`, () => {
    const result = parseAddress(text);
    assert.deepEqual(result, { ok: true, value: { host, port } });
    if (result.ok) assert.equal(formatAddress(result.value), text);
  });
}

for (const [text, code] of INVALID_ADDRESSES) {
  const label =
    typeof text === 'string' && text.length > 40 ? `${text.slice(0, 40)}…` : String(text);
  test(`parseAddress(${JSON.stringify(label)}) fails with ${code}`, () => {
    const result = parseAddress(text);
    assert.equal(result.ok, false);
    if (!result.ok) {
      assert.equal(result.error.code, code);
      assert.ok(result.error.message.length < 200, 'the message never echoes the input');
    }
  });
}

test('parseAddress: port 0 only when allowed (a listen address)', () => {
  assert.deepEqual(parseAddress('0.0.0.0:0', { allowPortZero: true }), {
    ok: true,
    value: { host: '0.0.0.0', port: 0 },
  });
  assert.equal(parseAddress('0.0.0.0:0').ok, false);
  assert.equal(parseAddress('0.0.0.0:65536', { allowPortZero: true }).ok, false);
});

test('parsePoint: host:port#peerId keeps the pin and formats back', () => {
  const text = `10.0.0.7:9740#${PEER}`;
  const result = parsePoint(text);
  assert.deepEqual(result, { ok: true, value: { host: '10.0.0.7', port: 9740, peerId: PEER } });
  if (result.ok) assert.equal(formatPoint(result.value), text);
});

test('parsePoint: IPv6 point with a peer id', () => {
  const result = parsePoint(`[::1]:9740#${PEER}`);
  assert.deepEqual(result, { ok: true, value: { host: '::1', port: 9740, peerId: PEER } });
});

test('parsePoint: without a pin it is just an address', () => {
  assert.deepEqual(parsePoint('seed.example:9740'), {
    ok: true,
    value: { host: 'seed.example', port: 9740 },
  });
});

const BAD_POINTS: ReadonlyArray<[string, string]> = [
  ['host:80#', 'bad_peer_id'],
  ['host:80#mk', 'bad_peer_id'],
  [`host:80#${PEER.toUpperCase()}`, 'bad_peer_id'],
  [`host:80#${PEER}a`, 'bad_peer_id'],
  [`host:80#${PEER.slice(0, -1)}`, 'bad_peer_id'],
  [`host:80#xx${PEER.slice(2)}`, 'bad_peer_id'],
  [`host:80#${PEER.slice(0, -1)}b`, 'bad_peer_id'],
  [`host:80#${PEER.slice(0, 10)}1${PEER.slice(11)}`, 'bad_peer_id'],
  [`host:80#${PEER}#${PEER}`, 'bad_peer_id'],
  [`host:80#${PEER}=`, 'bad_peer_id'],
  [`host#${PEER}`, 'missing_port'],
  [`host:0#${PEER}`, 'port_out_of_range'],
  [`#${PEER}`, 'empty'],
];

for (const [text, code] of BAD_POINTS) {
  test(`parsePoint(${JSON.stringify(text.slice(0, 40))}…) fails with ${code}`, () => {
    const result = parsePoint(text);
    assert.equal(result.ok, false);
    if (!result.ok) assert.equal(result.error.code, code);
  });
}

test('isPeerId accepts ids derived as DESIGN §3 says, whatever the key', () => {
  for (let i = 0; i < 200; i++) assert.ok(isPeerId(peerIdOf(`key-${i}`)), peerIdOf(`key-${i}`));
  assert.equal(PEER.length, 54);
});

test('isPeerId refuses a non-canonical last character (padding bits set)', () => {
  assert.equal(isPeerId(`${PEER.slice(0, -1)}b`), false);
  assert.equal(isPeerId(`${PEER.slice(0, -1)}7`), false);
});

test('isLoopbackHost / isWildcardHost', () => {
  for (const host of [
    '127.0.0.1',
    '127.1.2.3',
    'localhost',
    '::1',
    '0:0:0:0:0:0:0:1',
    '::ffff:127.0.0.1',
  ]) {
    assert.ok(isLoopbackHost(host), host);
  }
  for (const host of ['0.0.0.0', '::', '10.0.0.1', 'example.com', '::2', '1::1', '128.0.0.1']) {
    assert.equal(isLoopbackHost(host), false, host);
  }
  assert.ok(isWildcardHost('0.0.0.0'));
  assert.ok(isWildcardHost('::'));
  assert.equal(isWildcardHost('127.0.0.1'), false);
});
