import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { type ConfigError, errnoCode } from './errors.ts';
import { err, ok, type Result } from './result.ts';

/**
 * The admin token and TLS files, read at load so that a node never starts half-configured.
 * No message here ever contains the token or a file's content, only paths and errno codes.
 */
export interface TokenSources {
  tokenFile: string | undefined;
  /** MESHKEEPER_ADMIN_TOKEN; "" counts as unset, as Helm leaves optional variables empty. */
  envToken: string | undefined;
}

// A bearer token is tens of bytes; a big file is the wrong file.
const MAX_TOKEN_FILE_BYTES = 4096;
// It travels in a gRPC metadata header: printable ASCII, no spaces.
const TOKEN_SYNTAX = /^[\x21-\x7e]+$/;

/** The token to require, undefined when none is configured. */
export function resolveAdminToken(sources: TokenSources): Result<string | undefined, ConfigError> {
  const envToken = sources.envToken === '' ? undefined : sources.envToken;
  if (sources.tokenFile !== undefined && envToken !== undefined) {
    return tokenError(
      'admin_token_conflict',
      'admin.tokenFile',
      'set either admin.tokenFile or MESHKEEPER_ADMIN_TOKEN, not both',
    );
  }
  if (envToken !== undefined) return checkToken(envToken, 'MESHKEEPER_ADMIN_TOKEN');
  if (sources.tokenFile === undefined) return ok(undefined);
  const content = readTokenFile(sources.tokenFile);
  return content.ok ? checkToken(content.value, 'admin.tokenFile') : content;
}

function readTokenFile(tokenFile: string): Result<string, ConfigError> {
  try {
    if (statSync(tokenFile).size > MAX_TOKEN_FILE_BYTES) {
      return tokenError(
        'admin_token_invalid',
        'admin.tokenFile',
        `${tokenFile}: larger than ${MAX_TOKEN_FILE_BYTES} bytes`,
      );
    }
    return ok(readFileSync(tokenFile, 'utf8'));
  } catch (cause) {
    return tokenError(
      'admin_token_unreadable',
      'admin.tokenFile',
      `${tokenFile}: cannot read (${errnoCode(cause)})`,
    );
  }
}

function checkToken(raw: string, key: string): Result<string, ConfigError> {
  // Files and Secrets usually end with a newline that is not part of the token.
  const token = raw.trim();
  if (token === '') return tokenError('admin_token_empty', key, 'the admin token is empty');
  if (!TOKEN_SYNTAX.test(token)) {
    return tokenError(
      'admin_token_invalid',
      key,
      'the admin token must be printable ASCII without spaces',
    );
  }
  return ok(token);
}

/** Every TLS file that is set but cannot be read, each as its own error. */
export function checkReadable(
  files: ReadonlyArray<{ key: string; path: string | undefined }>,
): ConfigError[] {
  const errors: ConfigError[] = [];
  for (const { key, path } of files) {
    if (path === undefined) continue;
    try {
      accessSync(path, constants.R_OK);
    } catch (cause) {
      errors.push({
        code: 'tls_file_unreadable',
        key,
        message: `${path}: cannot read (${errnoCode(cause)})`,
      });
    }
  }
  return errors;
}

function tokenError(
  code: ConfigError['code'],
  key: string,
  message: string,
): Result<never, ConfigError> {
  return err({ code, key, message });
}
