import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import { removeStaleTemps, writeFileAtomic } from '../../../src/atomic-file.ts';

let dir = '';
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mk-atomic-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('writeFileAtomic: writes the content with the exact mode, leaving no temp file', async () => {
  const path = join(dir, 'peers.json');
  const umask = process.umask(0o077);
  try {
    await writeFileAtomic(path, '{"a":1}', { mode: 0o640 });
  } finally {
    process.umask(umask);
  }
  assert.equal(await readFile(path, 'utf8'), '{"a":1}');
  assert.equal((await stat(path)).mode & 0o777, 0o640);
  assert.deepEqual(await readdir(dir), ['peers.json']);
});

test('writeFileAtomic: replaces an existing file by default; the default mode is 0600', async () => {
  const path = join(dir, 'peers.json');
  await writeFile(path, 'old');
  await writeFileAtomic(path, new Uint8Array([110, 101, 119]));
  assert.equal(await readFile(path, 'utf8'), 'new');
  assert.equal((await stat(path)).mode & 0o777, 0o600);
});

test('writeFileAtomic: overwrite false fails with EEXIST, keeps the file and removes the temp', async () => {
  const path = join(dir, 'identity.json');
  await writeFile(path, 'theirs');
  await assert.rejects(writeFileAtomic(path, 'ours', { overwrite: false }), { code: 'EEXIST' });
  assert.equal(await readFile(path, 'utf8'), 'theirs');
  assert.deepEqual(await readdir(dir), ['identity.json']);
});

test('writeFileAtomic: overwrite false creates a missing file', async () => {
  const path = join(dir, 'identity.json');
  await writeFileAtomic(path, 'ours', { overwrite: false });
  assert.equal(await readFile(path, 'utf8'), 'ours');
  assert.deepEqual(await readdir(dir), ['identity.json']);
});

test('writeFileAtomic: a failed rename (a directory in the way) leaves no temp file', async () => {
  const path = join(dir, 'peers.json');
  await writeFile(join(dir, 'keep'), '');
  await mkdir(join(path, 'child'), { recursive: true });
  await assert.rejects(writeFileAtomic(path, 'x'));
  assert.deepEqual((await readdir(dir)).sort(), ['keep', 'peers.json']);
});

test('writeFileAtomic: a missing directory is an error, not a created directory', async () => {
  await assert.rejects(writeFileAtomic(join(dir, 'nope', 'f'), 'x'), { code: 'ENOENT' });
  assert.deepEqual(await readdir(dir), []);
});

test('removeStaleTemps: removes the temp files a killed writer of this file left, nothing else', async () => {
  const path = join(dir, 'peers.json');
  await writeFile(path, 'whole');
  const left = ['.peers.json.4242.0123456789ab.tmp', '.peers.json.77.ba9876543210.tmp'];
  const kept = ['peers.json', 'identity.json', '.identity.json.4242.0123456789ab.tmp'];
  for (const name of [...left, ...kept.slice(1)]) await writeFile(join(dir, name), 'x');
  assert.equal(await removeStaleTemps(path), 2);
  assert.deepEqual((await readdir(dir)).sort(), kept.sort());
  assert.equal(await removeStaleTemps(join(dir, 'missing-dir', 'peers.json')), 0);
});
