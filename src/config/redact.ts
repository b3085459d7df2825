import type { Config } from './types.ts';

export const REDACTED = '[redacted]';

/** A copy of `config` safe to print, log or serve on /debug/status: the admin token is masked. */
export function redactConfig(config: Config): Config {
  if (config.admin.token === undefined) return config;
  return { ...config, admin: { ...config.admin, token: REDACTED } };
}
