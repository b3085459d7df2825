import { assemble } from './assemble.ts';
import { checkRelations, type ParsedValues } from './checks.ts';
import type { ConfigError } from './errors.ts';
import { ADMIN_TOKEN_ENV, CONFIG_KEYS, specOf } from './schema.ts';
import { checkReadable, resolveAdminToken } from './secrets.ts';
import { type Env, type Merged, mergeSources, type Store } from './sources.ts';
import type { Config } from './types.ts';

export interface LoadOptions {
  /** The flags after the subcommand, e.g. `['--config', 'node.yaml', '--connections', '6']`. */
  argv: readonly string[];
  /** The environment; passed in so that loading never depends on the process it runs in. */
  env: Env;
}

export type LoadResult = { ok: true; config: Config } | { ok: false; errors: ConfigError[] };

const TLS_KEYS = ['admin.tls.cert', 'admin.tls.key', 'admin.tls.clientCa'] as const;

/**
 * Resolves the configuration from defaults < config file < environment < flags, checks every
 * value and every rule between values, and returns either the typed Config or all the errors
 * at once. Reads the config, token and TLS files; never throws for a bad input.
 */
export function loadConfig(options: LoadOptions): LoadResult {
  const merged = mergeSources(options.argv, options.env);
  const errors = [...merged.errors, ...undeclaredKeys(merged.store)];
  const values = parseValues(merged, errors);
  const token = resolveAdminToken({
    tokenFile: values['admin.tokenFile'],
    envToken: options.env[ADMIN_TOKEN_ENV],
  });
  if (!token.ok) errors.push(token.error);
  errors.push(...checkRelations(values, token.ok && token.value !== undefined));
  errors.push(...checkReadable(TLS_KEYS.map((key) => ({ key, path: values[key] }))));
  if (errors.length > 0 || !token.ok) return { ok: false, errors };
  return { ok: true, config: assemble(values, token.value) };
}

const UNDECLARED = /^configuration param '(.*)' not declared in the schema$/;

/**
 * convict's strict check finds the keys of the file that the schema does not declare, one
 * line each in a single message. Values are checked by parseValues, with the source named,
 * so only the undeclared lines are taken from it.
 */
function undeclaredKeys(store: Store): ConfigError[] {
  try {
    store.validate({ allowed: 'strict' });
    return [];
  } catch (cause) {
    const message = cause instanceof Error ? cause.message : String(cause);
    return message.split('\n').flatMap((line): ConfigError[] => {
      const match = UNDECLARED.exec(line);
      if (match === null) return [];
      return [{ code: 'undeclared_key', key: match[1] ?? '', message: 'not a configuration key' }];
    });
  }
}

function parseValues(merged: Merged, errors: ConfigError[]): ParsedValues {
  const values: Record<string, unknown> = {};
  const properties: unknown = merged.store.getProperties();
  for (const configKey of CONFIG_KEYS) {
    const parsed = specOf(configKey).kind.parse(readPath(properties, configKey));
    if (parsed.ok) {
      values[configKey] = parsed.value;
      continue;
    }
    const origin = merged.origins.get(configKey);
    const suffix = origin === undefined ? '' : ` (from ${origin})`;
    errors.push({ code: 'invalid_value', key: configKey, message: `${parsed.error}${suffix}` });
  }
  // Each value was produced by the parser of its own key, so the record has the keyed types.
  return values as ParsedValues;
}

function readPath(properties: unknown, keyPath: string): unknown {
  let node = properties;
  for (const segment of keyPath.split('.')) {
    if (typeof node !== 'object' || node === null || !Object.hasOwn(node, segment))
      return undefined;
    node = (node as Record<string, unknown>)[segment];
  }
  return node;
}
