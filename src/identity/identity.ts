import { constants } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../atomic-file.ts';
import type { Logger } from '../telemetry/logger.ts';
import {
  decodeIdentityFile,
  encodeIdentityFile,
  generateIdentity,
  type Identity,
  type IdentityErrorCode,
} from './identity-file.ts';

export const identityFileName = 'identity.json';

/** Why the node cannot start with the identity in `path`. The file is never modified. */
export class IdentityError extends Error {
  readonly code: IdentityErrorCode;
  readonly path: string;
  constructor(code: IdentityErrorCode, path: string, message: string, options?: ErrorOptions) {
    super(`${path}: ${message}`, options);
    this.name = 'IdentityError';
    this.code = code;
    this.path = path;
  }
}

export interface IdentityFileContent {
  bytes: Uint8Array;
  /** `st_mode` of the file. */
  mode: number;
}

export interface IdentityDeps {
  log?: Logger;
  /** Reads the identity file; rejects with a Node errno error (ENOENT when absent). */
  readFile?: (path: string) => Promise<IdentityFileContent>;
  generate?: () => Identity;
}

/**
 * The node's identity from `dataDir/identity.json`, created there on first start (directory
 * 0700, file 0600, written atomically). A file that exists but cannot be read or does not hold a
 * consistent identity is an IdentityError: it is never replaced, since a new key would silently
 * make this node a different peer to everyone who trusts or bans it.
 */
export async function loadOrCreateIdentity(
  dataDir: string,
  deps: IdentityDeps = {},
): Promise<Identity> {
  const path = join(dataDir, identityFileName);
  const existing = await load(path, deps);
  if (existing !== undefined) return existing;
  const created = await create(dataDir, path, deps);
  if (created !== undefined) return created;
  // Another process created it between our read and our write: use theirs, never overwrite it.
  const theirs = await load(path, deps);
  if (theirs !== undefined) return theirs;
  // Our link(2) found something at `path` that reading calls absent: a dangling symlink.
  throw new IdentityError(
    'identity_write_failed',
    path,
    'cannot create: something is in the way that cannot be read (a dangling symbolic link?)',
  );
}

async function load(path: string, deps: IdentityDeps): Promise<Identity | undefined> {
  let content: IdentityFileContent;
  try {
    content = await (deps.readFile ?? readIdentityFile)(path);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw new IdentityError('identity_unreadable', path, `cannot read: ${describe(err)}`, {
      cause: err,
    });
  }
  // Like ssh with its keys: a private key every local user can read is refused, not used.
  // Group bits are allowed: Kubernetes' fsGroup adds them to volume files.
  if ((content.mode & 0o007) !== 0) {
    throw new IdentityError(
      'identity_permissions',
      path,
      `mode ${(content.mode & 0o777).toString(8)} lets every user read the private key (chmod 600, or defaultMode 0400 for a mounted Secret)`,
    );
  }
  const decoded = decodeIdentityFile(Buffer.from(content.bytes).toString('utf8'));
  if (!decoded.ok) throw new IdentityError(decoded.error.code, path, decoded.error.message);
  deps.log?.info(
    { event: 'identity_loaded', peerId: decoded.value.peerId, path },
    'identity loaded',
  );
  return decoded.value;
}

/** The new identity, or undefined when the file appeared meanwhile. */
async function create(
  dataDir: string,
  path: string,
  deps: IdentityDeps,
): Promise<Identity | undefined> {
  const identity = (deps.generate ?? generateIdentity)();
  try {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(path, encodeIdentityFile(identity), { mode: 0o600, overwrite: false });
  } catch (err) {
    if (errnoCode(err) === 'EEXIST') return undefined;
    throw new IdentityError('identity_write_failed', path, `cannot create: ${describe(err)}`, {
      cause: err,
    });
  }
  deps.log?.info({ event: 'identity_created', peerId: identity.peerId, path }, 'identity created');
  return identity;
}

/**
 * Reads through one descriptor so the mode checked is the content read's. O_NONBLOCK: a FIFO in
 * the file's place must fail, not hang the start.
 */
async function readIdentityFile(path: string): Promise<IdentityFileContent> {
  const file = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const stat = await file.stat();
    if (!stat.isFile()) {
      throw Object.assign(new Error('not a regular file'), { code: 'ENOTFILE' });
    }
    return { bytes: await file.readFile(), mode: stat.mode };
  } finally {
    await file.close();
  }
}

function errnoCode(err: unknown): string | undefined {
  const code: unknown = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
