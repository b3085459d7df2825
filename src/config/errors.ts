import type { BoundsProblemCode } from './band.ts';

/**
 * Why a configuration was refused. Every error names the key (a config key such as
 * `connections.max`, a flag such as `--foo`, or `config` for the file itself) so an operator
 * can find the line to fix; messages never contain a secret.
 */
export type ConfigErrorCode =
  // the command line
  | 'unknown_flag'
  | 'missing_flag_value'
  | 'duplicate_flag'
  | 'unexpected_argument'
  // the config file
  | 'config_file_unreadable'
  | 'config_file_invalid'
  | 'config_file_unsupported'
  | 'undeclared_key'
  | 'not_a_section'
  // a value
  | 'invalid_value'
  // relations between values
  | BoundsProblemCode
  | 'initial_above_cap'
  | 'message_above_ingress'
  | 'port_conflict'
  | 'tls_incomplete'
  | 'tls_file_unreadable'
  // the admin token
  | 'admin_token_required'
  | 'admin_token_conflict'
  | 'admin_token_unreadable'
  | 'admin_token_empty'
  | 'admin_token_invalid';

export interface ConfigError {
  code: ConfigErrorCode;
  key: string;
  message: string;
}

/** One line per error, as `meshkeeper run` prints them. */
export function formatConfigError(error: ConfigError): string {
  return `${error.key}: ${error.message}`;
}

/** The errno code of a failed file operation (ENOENT, EACCES …), never its message or the file's content. */
export function errnoCode(cause: unknown): string {
  if (
    typeof cause === 'object' &&
    cause !== null &&
    'code' in cause &&
    typeof cause.code === 'string'
  ) {
    return cause.code;
  }
  return 'unknown error';
}
