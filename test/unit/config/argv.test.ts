import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseFlags } from '../../../src/config/argv.ts';

test('--name value and --name=value', () => {
  const flags = parseFlags(['--connections-max', '80', '--network=test-net']);
  assert.deepEqual(flags.errors, []);
  assert.equal(flags.values.get('connections.max'), '80');
  assert.equal(flags.values.get('network'), 'test-net');
});

test('a value may start with a single dash (validated later) or contain "="', () => {
  const flags = parseFlags(['--connections-min', '-1', '--data-dir=/tmp/a=b']);
  assert.equal(flags.values.get('connections.min'), '-1');
  assert.equal(flags.values.get('dataDir'), '/tmp/a=b');
});

test('boolean flags: --private-mode, --no-private-mode, --private-mode=false', () => {
  assert.equal(parseFlags(['--private-mode']).values.get('privateMode'), 'true');
  assert.equal(parseFlags(['--no-private-mode']).values.get('privateMode'), 'false');
  assert.equal(parseFlags(['--private-mode=false']).values.get('privateMode'), 'false');
});

test('a boolean flag does not swallow the next argument', () => {
  const flags = parseFlags(['--private-mode', '--listen', '127.0.0.1:1']);
  assert.equal(flags.values.get('privateMode'), 'true');
  assert.equal(flags.values.get('listen'), '127.0.0.1:1');
});

test('list flags accumulate, repeated or comma-separated', () => {
  const flags = parseFlags(['--bootstrap', 'a:1,b:2', '--bootstrap', 'c:3', '--trusted=d:4']);
  assert.deepEqual(flags.errors, []);
  assert.equal(flags.values.get('bootstrap'), 'a:1,b:2,c:3');
  assert.equal(flags.values.get('trusted'), 'd:4');
});

test('--config and --connections are read apart from the keys', () => {
  const flags = parseFlags(['--config', 'node.yaml', '--connections', '6']);
  assert.equal(flags.configPath, 'node.yaml');
  assert.equal(flags.connections, '6');
  assert.equal(flags.values.size, 0);
});

test('every mistake is collected, not just the first', () => {
  const flags = parseFlags(['--nope', '--network', 'a', 'stray', '--network', 'b', '--listen']);
  assert.deepEqual(
    flags.errors.map((e) => [e.code, e.key]),
    [
      ['unknown_flag', '--nope'],
      ['unexpected_argument', 'stray'],
      ['duplicate_flag', '--network'],
      ['missing_flag_value', '--listen'],
    ],
  );
});

test('an unknown flag takes its value with it, so the value is not a second error', () => {
  assert.deepEqual(
    parseFlags(['--nope', 'value', '--nada=x', '--zip']).errors.map((e) => [e.code, e.key]),
    [
      ['unknown_flag', '--nope'],
      ['unknown_flag', '--nada'],
      ['unknown_flag', '--zip'],
    ],
  );
});

test('a single dash or "--" alone is an unexpected argument', () => {
  assert.deepEqual(
    parseFlags(['-x', '--']).errors.map((e) => e.code),
    ['unexpected_argument', 'unexpected_argument'],
  );
});

test('--no- on a non-boolean flag is unknown', () => {
  assert.deepEqual(
    parseFlags(['--no-network']).errors.map((e) => [e.code, e.key]),
    [['unknown_flag', '--no-network']],
  );
});

test('a huge stray argument gives a short message', () => {
  const [error] = parseFlags(['x'.repeat(100_000)]).errors;
  assert.ok(error !== undefined && error.message.length < 200 && error.key.length < 200);
});
