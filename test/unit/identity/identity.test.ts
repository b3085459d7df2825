import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  chmod,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import {
  encodeIdentityFile,
  generateIdentity,
  IdentityError,
  type IdentityErrorCode,
  identityFileName,
  isPeerId,
  loadOrCreateIdentity,
} from '../../../src/identity/index.ts';
import { recordingLogger } from '../../../src/telemetry/logger.ts';

let dataDir = '';
let path = '';
beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'mk-identity-'));
  path = join(dataDir, identityFileName);
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

const valid = generateIdentity();
const other = generateIdentity();
const validFile = JSON.parse(encodeIdentityFile(valid)) as Record<string, unknown>;
const otherFile = JSON.parse(encodeIdentityFile(other)) as Record<string, unknown>;
const json = (o: Record<string, unknown>) => JSON.stringify({ ...validFile, ...o });
const b64 = (n: number) => Buffer.alloc(n, 1).toString('base64');

/** Files that must each stop the start with a specific code, the file left as it was. */
const corrupt: [string, string, IdentityErrorCode][] = [
  ['garbage', 'not json at all \u0000\u00ff', 'identity_corrupt'],
  ['an empty file', '', 'identity_corrupt'],
  ['truncated JSON', encodeIdentityFile(valid).slice(0, 60), 'identity_corrupt'],
  ['a JSON array', '[]', 'identity_corrupt'],
  ['JSON null', 'null', 'identity_corrupt'],
  ['no version', JSON.stringify({ ...validFile, version: undefined }), 'identity_corrupt'],
  ['a missing key', json({ privateKey: undefined }), 'identity_corrupt'],
  ['a key that is not a string', json({ publicKey: 42 }), 'identity_corrupt'],
  ['version 2', json({ version: 2 }), 'identity_unsupported_version'],
  ['version "1" as a string', json({ version: '1' }), 'identity_corrupt'],
  ['a 31-byte public key', json({ publicKey: b64(31) }), 'identity_invalid_key'],
  ['a 33-byte private key', json({ privateKey: b64(33) }), 'identity_invalid_key'],
  [
    'a key in non-canonical base64',
    json({ privateKey: `!${validFile.privateKey}` }),
    'identity_invalid_key',
  ],
  [
    'the private key of another key',
    json({ privateKey: otherFile.privateKey }),
    'identity_key_mismatch',
  ],
  [
    'the public key of another key',
    json({ publicKey: otherFile.publicKey }),
    'identity_key_mismatch',
  ],
  ['the peer id of another key', json({ peerId: other.peerId }), 'identity_peer_id_mismatch'],
  ['a malformed peer id', json({ peerId: 'mkXYZ' }), 'identity_peer_id_mismatch'],
];

for (const [name, content, code] of corrupt) {
  test(`identity: ${name} → ${code}, file untouched`, async () => {
    await writeFile(path, content, { mode: 0o600 });
    const before = await readFile(path);
    await assert.rejects(loadOrCreateIdentity(dataDir), (err: unknown) => {
      assert.ok(err instanceof IdentityError, String(err));
      assert.equal(err.code, code, err.message);
      assert.equal(err.path, path);
      assert.ok(err.message.startsWith(path));
      return true;
    });
    assert.deepEqual(await readFile(path), before);
    assert.deepEqual(await readdir(dataDir), [identityFileName]);
  });
}

test('identity: first start creates it (dir 0700, file 0600), the next start loads the same', async () => {
  const nested = join(dataDir, 'a', 'b');
  const created = await loadOrCreateIdentity(nested);
  assert.ok(isPeerId(created.peerId));
  assert.equal((await stat(nested)).mode & 0o777, 0o700);
  assert.equal((await stat(join(nested, identityFileName))).mode & 0o777, 0o600);
  const loaded = await loadOrCreateIdentity(nested);
  assert.equal(loaded.peerId, created.peerId);
  assert.deepEqual(loaded.publicKeyRaw, created.publicKeyRaw);
  assert.ok(loaded.publicKey.equals(created.publicKey));
  assert.ok(loaded.privateKey.equals(created.privateKey));
});

test('identity: the file is versioned JSON whose peer id matches the key', async () => {
  const identity = await loadOrCreateIdentity(dataDir);
  const file = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  assert.equal(file.version, 1);
  assert.equal(file.peerId, identity.peerId);
  assert.equal(Buffer.from(String(file.publicKey), 'base64').length, 32);
  assert.equal(Buffer.from(String(file.privateKey), 'base64').length, 32);
});

test('identity: two starts racing on an empty data dir end with one identity', async () => {
  const [a, b] = await Promise.all([loadOrCreateIdentity(dataDir), loadOrCreateIdentity(dataDir)]);
  assert.equal(a.peerId, b.peerId);
  assert.equal((await loadOrCreateIdentity(dataDir)).peerId, a.peerId);
  assert.deepEqual(await readdir(dataDir), [identityFileName]);
});

test('identity: logs creation and loading with the peer id, never a key', async () => {
  const { log, lines } = recordingLogger();
  const identity = await loadOrCreateIdentity(dataDir, { log });
  await loadOrCreateIdentity(dataDir, { log });
  assert.deepEqual(
    lines.map((l) => [l.event, l.peerId]),
    [
      ['identity_created', identity.peerId],
      ['identity_loaded', identity.peerId],
    ],
  );
  const file = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  assert.equal(JSON.stringify(lines).includes(String(file.privateKey)), false);
});

test('identity: a file every user can read → identity_permissions, file untouched', async () => {
  await writeFile(path, encodeIdentityFile(valid));
  await chmod(path, 0o644);
  await assert.rejects(loadOrCreateIdentity(dataDir), { code: 'identity_permissions' });
  assert.equal((await stat(path)).mode & 0o777, 0o644);
});

test('identity: a group-readable file is accepted (Kubernetes fsGroup adds group bits)', async () => {
  await writeFile(path, encodeIdentityFile(valid));
  await chmod(path, 0o660);
  assert.equal((await loadOrCreateIdentity(dataDir)).peerId, valid.peerId);
});

test('identity: a directory in its place → identity_unreadable, left in place', async () => {
  await mkdir(path);
  await assert.rejects(loadOrCreateIdentity(dataDir), { code: 'identity_unreadable' });
  assert.ok((await stat(path)).isDirectory());
});

test('identity: a FIFO in its place → identity_unreadable at once (no hang)', async () => {
  execFileSync('mkfifo', [path]);
  await assert.rejects(loadOrCreateIdentity(dataDir), { code: 'identity_unreadable' });
});

test('identity: a read refused by the OS (EACCES) → identity_unreadable', async () => {
  const readFile = async () => {
    throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
  };
  await assert.rejects(loadOrCreateIdentity(dataDir, { readFile }), (err: unknown) => {
    assert.ok(err instanceof IdentityError);
    assert.equal(err.code, 'identity_unreadable');
    assert.match(err.message, /EACCES/);
    return true;
  });
});

test('identity: a file without read permission → identity_unreadable', {
  skip: process.getuid?.() === 0 ? 'root reads any file; the EACCES case is injected above' : false,
}, async () => {
  await writeFile(path, encodeIdentityFile(valid), { mode: 0o600 });
  await chmod(path, 0o000);
  await assert.rejects(loadOrCreateIdentity(dataDir), { code: 'identity_unreadable' });
});

test('identity: a data dir path through a file → identity_unreadable', async () => {
  await writeFile(join(dataDir, 'file'), '');
  await assert.rejects(loadOrCreateIdentity(join(dataDir, 'file', 'sub')), {
    code: 'identity_unreadable',
  });
});

// sysfs refuses mkdir even to root (EPERM). Not /proc: Node's recursive mkdir loops forever
// there, as mkdir answers ENOENT under an existing parent.
const sysfs =
  process.platform === 'linux' ? false : 'uses sysfs, where nobody can create a directory';

test('identity: a data dir that cannot be created → identity_write_failed', {
  skip: sysfs,
}, async () => {
  await assert.rejects(loadOrCreateIdentity('/sys/meshkeeper-test/data'), {
    code: 'identity_write_failed',
  });
});

test('identity: a dangling symlink in its place is never replaced → identity_write_failed', async () => {
  await symlink(join(dataDir, 'missing-target'), path);
  await assert.rejects(loadOrCreateIdentity(dataDir), { code: 'identity_write_failed' });
  assert.equal(await readlink(path), join(dataDir, 'missing-target'));
  assert.deepEqual(await readdir(dataDir), [identityFileName]);
});
