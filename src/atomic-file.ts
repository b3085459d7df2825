import { randomBytes } from 'node:crypto';
import { link, open, rename, rm } from 'node:fs/promises';
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
  const temp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
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

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
