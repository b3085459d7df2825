import convict from 'convict';
import { CONNECTIONS_FLAG, parseFlags } from './argv.ts';
import { type ConnectionsDerivation, deriveConnections } from './connections.ts';
import type { ConfigError } from './errors.ts';
import { readConfigFile } from './file.ts';
import {
  buildSchema,
  CONFIG_FILE_ENV,
  CONFIG_KEYS,
  CONNECTIONS_ENV,
  type ConfigKey,
  envName,
  flagName,
} from './schema.ts';

export type Store = convict.Config<object>;
export type Env = Readonly<Record<string, string | undefined>>;

/** The raw values of every source merged into one convict store, before any check. */
export interface Merged {
  store: Store;
  /** Where each key's value came from, when not the default: said in its error. */
  origins: Map<ConfigKey, string>;
  errors: ConfigError[];
}

const BOUND_KEYS = [
  ['connections.min', 'min'],
  ['connections.expected', 'expected'],
  ['connections.max', 'max'],
] as const;

/**
 * Merges defaults < config file < environment < flags (DESIGN §10). `--connections N`
 * (or MESHKEEPER_CONNECTIONS) sets the three bounds at the level of its own source, so an
 * explicit `connections.*` of the same or a higher source wins; it sets the pool caps only
 * where no source sets them, because a cap the operator wrote is never overridden silently.
 */
export function mergeSources(argv: readonly string[], env: Env): Merged {
  const flags = parseFlags(argv);
  // convict reads the environment itself (at creation and again after a file load, which
  // is what keeps file < env); `args: []` keeps it from reading process.argv.
  const store: Store = convict(buildSchema() as convict.Schema<object>, {
    env: { ...env },
    args: [],
  });
  const merged: Merged = { store, origins: new Map(), errors: [...flags.errors] };

  const fileKeys = loadFile(merged, flags.configPath ?? nonEmpty(env[CONFIG_FILE_ENV]));
  const envKeys = new Set(CONFIG_KEYS.filter((configKey) => env[envName(configKey)] !== undefined));
  for (const configKey of envKeys) merged.origins.set(configKey, envName(configKey));
  const fromEnv = applyShorthand(merged, nonEmpty(env[CONNECTIONS_ENV]), CONNECTIONS_ENV, envKeys);

  const flagKeys = new Set(flags.values.keys());
  const fromFlag = applyShorthand(merged, flags.connections, `--${CONNECTIONS_FLAG}`, flagKeys);
  for (const [configKey, raw] of flags.values)
    set(merged, configKey, raw, `--${flagName(configKey)}`);

  applyCaps(merged, fromFlag ?? fromEnv, new Set([...fileKeys, ...envKeys, ...flagKeys]));
  return merged;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === '' ? undefined : value;
}

function set(merged: Merged, configKey: ConfigKey, raw: unknown, origin: string): void {
  merged.store.set(configKey, raw);
  merged.origins.set(configKey, origin);
}

function loadFile(merged: Merged, filePath: string | undefined): Set<ConfigKey> {
  if (filePath === undefined) return new Set();
  const file = readConfigFile(filePath);
  if (!file.ok) {
    merged.errors.push(file.error);
    return new Set();
  }
  merged.errors.push(...file.value.errors);
  merged.store.load(file.value.data);
  for (const configKey of file.value.keys) merged.origins.set(configKey, 'the config file');
  return file.value.keys;
}

function applyShorthand(
  merged: Merged,
  raw: string | undefined,
  source: string,
  explicitAtLevel: ReadonlySet<ConfigKey>,
): ConnectionsDerivation | undefined {
  if (raw === undefined) return undefined;
  const derived = deriveConnections(raw);
  if (!derived.ok) {
    const message = `${derived.error.message} (from ${source})`;
    merged.errors.push({ code: 'invalid_value', key: 'connections', message });
    return undefined;
  }
  for (const [boundKey, bound] of BOUND_KEYS) {
    if (!explicitAtLevel.has(boundKey)) set(merged, boundKey, derived.value.bounds[bound], source);
  }
  return derived.value;
}

function applyCaps(
  merged: Merged,
  derived: ConnectionsDerivation | undefined,
  explicit: ReadonlySet<ConfigKey>,
): void {
  if (derived === undefined) return;
  const caps = [
    ['pool.maxKnownPoints', derived.maxKnownPoints],
    ['pool.maxKnownPeerIds', derived.maxKnownPeerIds],
  ] as const;
  for (const [capKey, cap] of caps) {
    if (!explicit.has(capKey))
      set(merged, capKey, [cap.high, cap.low], 'the --connections shorthand');
  }
}
