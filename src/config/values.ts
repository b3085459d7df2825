import { type Address, parseAddress, parsePoint } from './address.ts';
import { parseDuration } from './duration.ts';
import { err, ok, type Result } from './result.ts';
import type { PointSpec, Watermarks } from './types.ts';

/**
 * How one config key reads its raw value. A raw value is what a source gives: a string from
 * the environment or a flag, or any JSON/YAML value from the config file. Parsing is strict
 * on purpose (convict's own coercion reads "12abc" as 12 and "no" as true).
 */
export interface ValueKind<T> {
  /** Shown in --help after the flag, e.g. `<duration>`. */
  placeholder: string;
  /** A boolean kind takes no value on the command line (`--private-mode`, `--no-private-mode`). */
  isBoolean?: boolean;
  /** A list kind may be repeated on the command line; its values accumulate. */
  isList?: boolean;
  parse(raw: unknown): Result<T, string>;
}

// Error messages quote what was given, cut short: a hostile value must not flood the output.
const QUOTE_LIMIT = 60;

export function quote(raw: unknown): string {
  const text = typeof raw === 'string' ? raw : display(raw);
  const cut = text.length > QUOTE_LIMIT ? `${text.slice(0, QUOTE_LIMIT)}…` : text;
  return JSON.stringify(cut);
}

function display(raw: unknown): string {
  try {
    return JSON.stringify(raw) ?? String(raw);
  } catch {
    // BigInt or a structure that contains itself: say what it is, not what it holds.
    return Object.prototype.toString.call(raw);
  }
}

export function integer(min: number, max: number): ValueKind<number> {
  return {
    placeholder: '<int>',
    parse(raw) {
      const n =
        typeof raw === 'string' && /^-?[0-9]{1,15}$/.test(raw.trim()) ? Number(raw.trim()) : raw;
      if (typeof n !== 'number' || !Number.isSafeInteger(n)) {
        return err(`must be a whole number, got ${quote(raw)}`);
      }
      if (n < min || n > max) return err(`must be from ${min} to ${max}, got ${n}`);
      return ok(n);
    },
  };
}

export function decimal(min: number, max: number): ValueKind<number> {
  return {
    placeholder: '<number>',
    parse(raw) {
      const n =
        typeof raw === 'string' && /^[0-9]{1,9}(?:\.[0-9]{1,9})?$/.test(raw.trim())
          ? Number(raw.trim())
          : raw;
      if (typeof n !== 'number' || !Number.isFinite(n))
        return err(`must be a number, got ${quote(raw)}`);
      if (n < min || n > max) return err(`must be from ${min} to ${max}, got ${n}`);
      return ok(n);
    },
  };
}

const TRUE_WORDS = new Set(['true', '1']);
const FALSE_WORDS = new Set(['false', '0']);

export function boolean(): ValueKind<boolean> {
  return {
    placeholder: '',
    isBoolean: true,
    parse(raw) {
      if (typeof raw === 'boolean') return ok(raw);
      const word = typeof raw === 'string' ? raw.trim().toLowerCase() : undefined;
      if (word !== undefined && TRUE_WORDS.has(word)) return ok(true);
      if (word !== undefined && FALSE_WORDS.has(word)) return ok(false);
      return err(`must be true or false, got ${quote(raw)}`);
    },
  };
}

export function duration(minMs: number): ValueKind<number> {
  return {
    placeholder: '<duration>',
    parse(raw) {
      const parsed = parseDuration(raw);
      if (!parsed.ok) return err(`${parsed.error.message}, got ${quote(raw)}`);
      if (parsed.value < minMs) return err(`must be at least ${minMs} ms, got ${quote(raw)}`);
      return ok(parsed.value);
    },
  };
}

export function text(pattern: RegExp, rule: string): ValueKind<string> {
  return {
    placeholder: '<string>',
    parse(raw) {
      if (typeof raw !== 'string' || !pattern.test(raw)) return err(`${rule}, got ${quote(raw)}`);
      return ok(raw);
    },
  };
}

export function path(): ValueKind<string> {
  return {
    placeholder: '<path>',
    parse(raw) {
      if (typeof raw !== 'string' || raw.trim() === '')
        return err(`must be a path, got ${quote(raw)}`);
      if (raw.includes('\0')) return err('must not contain a NUL character');
      return ok(raw);
    },
  };
}

export function oneOf<const T extends string>(choices: readonly T[]): ValueKind<T> {
  return {
    placeholder: `<${choices.join('|')}>`,
    parse(raw) {
      const found = choices.find((choice) => choice === raw);
      if (found === undefined)
        return err(`must be one of ${choices.join(', ')}, got ${quote(raw)}`);
      return ok(found);
    },
  };
}

export function address(options: { allowPortZero: boolean }): ValueKind<Address> {
  return {
    placeholder: '<host:port>',
    parse(raw) {
      const parsed = parseAddress(raw, options);
      return parsed.ok ? ok(parsed.value) : err(`${parsed.error.message}, got ${quote(raw)}`);
    },
  };
}

/**
 * A list of points: an array (config file) or one comma-separated string (environment,
 * repeated flags are joined by the flag parser). Every bad entry is reported, by position.
 */
export function pointList(): ValueKind<PointSpec[]> {
  return {
    placeholder: '<host:port[#peerId],…>',
    isList: true,
    parse(raw) {
      const entries = splitList(raw);
      if (entries === undefined)
        return err(`must be a list of host:port[#peerId], got ${quote(raw)}`);
      const points: PointSpec[] = [];
      const problems: string[] = [];
      entries.forEach((entry, index) => {
        const parsed = parsePoint(entry);
        if (parsed.ok) points.push(parsed.value);
        else problems.push(`entry ${index + 1} ${quote(entry)}: ${parsed.error.message}`);
      });
      return problems.length === 0 ? ok(points) : err(problems.join('; '));
    },
  };
}

function splitList(raw: unknown): unknown[] | undefined {
  if (Array.isArray(raw)) return raw;
  if (typeof raw !== 'string') return undefined;
  if (raw.trim() === '') return [];
  return raw.split(',').map((entry) => entry.trim());
}

/** `[high, low]` (config file) or "high,low" (environment, flag), high > low ≥ 0. */
export function watermarks(): ValueKind<Watermarks> {
  return {
    placeholder: '<high,low>',
    parse(raw) {
      const pair = typeof raw === 'string' ? raw.split(',').map((part) => part.trim()) : raw;
      const count = integer(0, Number.MAX_SAFE_INTEGER);
      if (!Array.isArray(pair) || pair.length !== 2) {
        return err(`must be a pair [high, low] (or "high,low"), got ${quote(raw)}`);
      }
      const high = count.parse(pair[0]);
      const low = count.parse(pair[1]);
      if (!high.ok || !low.ok)
        return err(`high and low must be whole numbers ≥ 0, got ${quote(raw)}`);
      if (high.value <= low.value) {
        return err(`high (${high.value}) must be greater than low (${low.value})`);
      }
      return ok({ high: high.value, low: low.value });
    },
  };
}

/**
 * An optional value: null, absent or "" (an empty environment variable, as Helm templates
 * often leave them) means unset.
 */
export function optional<T>(kind: ValueKind<T>): ValueKind<T | undefined> {
  return {
    ...kind,
    parse(raw) {
      if (raw === null || raw === undefined || raw === '') return ok(undefined);
      return kind.parse(raw);
    },
  };
}
