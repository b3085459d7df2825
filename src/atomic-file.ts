import { randomBytes } from 'node:crypto';
import { link, open, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export interface WriteFileAtomicOptions {
  /** Permission bits of the file, applied exactly (the umask does not narrow them). Default 0o600. */
  mode?: number;
  /**
   * Replace an existing file (default). With `false`, fail with EEXIST instead, atomically: the
   * file is published with link(2), which never replaces, so two processes creating the same file
   * at once cannot overwrite each other's.
   */
  overwrite?: boolean;
}

/**
 * Writes `data` to `path` so that a reader, or the next start after a crash or power loss, sees
 * either the old content or the new, never a mix: temp file in the same directory (same file
 * system, so rename is atomic), fsync it, rename (or link) over `path`, fsync the directory so
 * the rename itself is durable. The temp file is removed when anything fails.
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  opts: WriteFileAtomicOptions = {},
): Promise<void> {
  const mode = opts.mode ?? 0o600;
  const dir = dirname(path);
  const temp = join(dir, `${tempPrefix(path)}${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const file = await open(temp, 'wx', mode);
    try {
      await file.chmod(mode);
      await file.writeFile(data);
      await file.sync();
    } finally {
      await file.close();
    }
    if (opts.overwrite === false) {
      await link(temp, path);
      // Published: losing the temp name now only leaves a stray file, never a wrong one.
      await rm(temp, { force: true }).catch(() => {});
    } else {
      await rename(temp, path);
    }
    await syncDir(dir);
  } catch (err) {
    await rm(temp, { force: true }).catch(() => {});
    throw err;
  }
}

/**
 * Removes the temp files of `path` that a process killed mid-write (SIGKILL, OOM kill) left
 * behind: without it each such death leaks a copy of the file. For the file's single writer,
 * before its first write; returns how many were removed and never throws.
 */
export async function removeStaleTemps(path: string): Promise<number> {
  const dir = dirname(path);
  const prefix = tempPrefix(path);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith('.tmp')) continue;
    await rm(join(dir, name), { force: true }).then(
      () => removed++,
      () => {},
    );
  }
  return removed;
}

function tempPrefix(path: string): string {
  return `.${basename(path)}.`;
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
