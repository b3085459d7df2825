import type { ConfigError } from './errors.ts';
import { CONFIG_KEYS, type ConfigKey, flagName, specOf } from './schema.ts';

/**
 * The command-line flags of the config, read without a library so that every mistake is
 * collected (a parser that stops at the first one would hide the others) and nothing is
 * coerced: values stay strings for the key's own strict parser.
 */
export interface ParsedFlags {
  /** Raw value per key given on the command line; lists are already joined with commas. */
  values: Map<ConfigKey, string>;
  configPath?: string;
  connections?: string;
  errors: ConfigError[];
}

export const CONFIG_FLAG = 'config';
export const CONNECTIONS_FLAG = 'connections';

const FLAG_TO_KEY: ReadonlyMap<string, ConfigKey> = new Map(
  CONFIG_KEYS.map((configKey) => [flagName(configKey), configKey]),
);

interface Token {
  name: string;
  /** The `=value` part, when the flag was written `--name=value`. */
  inline?: string;
}

/**
 * Reads `--name value`, `--name=value`, boolean `--name` / `--no-name` / `--name=false`,
 * list flags repeated or comma-separated, `--config <path>` and `--connections <n>`.
 * A scalar flag given twice is an error rather than last-wins: a silently ignored value is
 * worse than a refused start.
 */
export function parseFlags(argv: readonly string[]): ParsedFlags {
  const state: ReaderState = {
    argv,
    next: 0,
    result: { values: new Map(), errors: [] },
    lists: new Map(),
    seen: new Set(),
  };
  while (state.next < argv.length) readOne(state);
  for (const [configKey, parts] of state.lists) state.result.values.set(configKey, parts.join(','));
  return state.result;
}

interface ReaderState {
  argv: readonly string[];
  /** Index of the next argument to read. */
  next: number;
  result: ParsedFlags;
  lists: Map<ConfigKey, string[]>;
  /** Flags already given once (by key, so `--x` and `--no-x` count as the same). */
  seen: Set<string>;
}

function readOne(state: ReaderState): void {
  const arg = state.argv[state.next++] ?? '';
  const token = readToken(arg);
  if (token === undefined) {
    state.result.errors.push(
      flagError('unexpected_argument', arg, `unexpected argument ${JSON.stringify(arg)}`),
    );
    return;
  }
  const negated = token.name.startsWith('no-') ? FLAG_TO_KEY.get(token.name.slice(3)) : undefined;
  if (negated !== undefined && isBoolean(negated) && token.inline === undefined) {
    setScalar(state, negated, token.name, 'false');
    return;
  }
  const configKey = FLAG_TO_KEY.get(token.name);
  if (configKey === undefined && token.name !== CONFIG_FLAG && token.name !== CONNECTIONS_FLAG) {
    state.result.errors.push(unknownFlag(token.name));
    // Its value, if it has one, is part of the same mistake, not a second one.
    if (token.inline === undefined) takeValue(state);
    return;
  }
  if (configKey !== undefined && isBoolean(configKey)) {
    setScalar(state, configKey, token.name, token.inline ?? 'true');
    return;
  }
  const value = token.inline ?? takeValue(state);
  if (value === undefined) {
    state.result.errors.push(
      flagError('missing_flag_value', `--${token.name}`, `--${token.name} needs a value`),
    );
  } else if (configKey === undefined) {
    setSpecial(state, token.name, value);
  } else if (specOf(configKey).kind.isList === true) {
    state.lists.set(configKey, [...(state.lists.get(configKey) ?? []), value]);
  } else {
    setScalar(state, configKey, token.name, value);
  }
}

/** The next argument as a value, unless it is missing or is itself a flag. */
function takeValue(state: ReaderState): string | undefined {
  const candidate = state.argv[state.next];
  if (candidate === undefined || candidate.startsWith('--')) return undefined;
  state.next++;
  return candidate;
}

function isBoolean(configKey: ConfigKey): boolean {
  return specOf(configKey).kind.isBoolean === true;
}

function readToken(arg: string): Token | undefined {
  if (!arg.startsWith('--') || arg.length === 2) return undefined;
  const eq = arg.indexOf('=');
  return eq === -1 ? { name: arg.slice(2) } : { name: arg.slice(2, eq), inline: arg.slice(eq + 1) };
}

function setScalar(state: ReaderState, configKey: ConfigKey, name: string, value: string): void {
  if (markOnce(state, configKey, name)) state.result.values.set(configKey, value);
}

function setSpecial(state: ReaderState, name: string, value: string): void {
  if (!markOnce(state, name, name)) return;
  if (name === CONFIG_FLAG) state.result.configPath = value;
  else state.result.connections = value;
}

function markOnce(state: ReaderState, id: string, name: string): boolean {
  if (state.seen.has(id)) {
    state.result.errors.push(
      flagError('duplicate_flag', `--${name}`, `--${name} is given more than once`),
    );
    return false;
  }
  state.seen.add(id);
  return true;
}

const KNOWN_FLAGS = [...FLAG_TO_KEY.keys(), CONFIG_FLAG, CONNECTIONS_FLAG];

function unknownFlag(name: string): ConfigError {
  const near = KNOWN_FLAGS.find((known) => editDistance(known, name) <= 2);
  const hint = near === undefined ? '' : ` (did you mean --${near}?)`;
  return flagError('unknown_flag', `--${name}`, `unknown flag --${name}${hint}`);
}

/** Levenshtein distance, bounded: long inputs are never near a flag and cost nothing. */
function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2 || a.length > 100) return Number.POSITIVE_INFINITY;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? Number.POSITIVE_INFINITY;
}

function flagError(code: ConfigError['code'], key: string, message: string): ConfigError {
  // A stray argument may be anything the operator pasted; keep the line short.
  return { code, key: shorten(key), message: shorten(message) };
}

function shorten(text: string): string {
  return text.length > 120 ? `${text.slice(0, 120)}…` : text;
}
