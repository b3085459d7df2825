import { readFileSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import convict from 'convict';
import { parse as parseYaml } from 'yaml';
import { type ConfigError, errnoCode } from './errors.ts';
import { err, ok, type Result } from './result.ts';
import { CONFIG_KEYS, type ConfigKey, isConfigKey, isSection, specOf } from './schema.ts';

/** A config file, read and checked for shape; values are checked later, once merged. */
export interface ConfigFile {
  /** What convict loads: sections are objects, leaves are raw values, unknown keys kept for its strict check. */
  data: Record<string, unknown>;
  /** Keys the file sets, so that `--connections` does not override them silently. */
  keys: Set<ConfigKey>;
  errors: ConfigError[];
}

// A config file is a few kilobytes; a bigger one is a mistake (a log, a binary) and costs memory.
const MAX_CONFIG_FILE_BYTES = 1024 * 1024;

const PARSERS: Readonly<Record<string, (content: string) => unknown>> = {
  '.json': JSON.parse,
  '.yaml': parseYaml,
  '.yml': parseYaml,
};

// Registered so that convict's own loadFile reads the same YAML as loadConfig does.
convict.addParser({ extension: ['yaml', 'yml'], parse: parseYaml });

/** Reads and parses `filePath`; every failure is a ConfigError with key `config`. Never throws. */
export function readConfigFile(filePath: string): Result<ConfigFile, ConfigError> {
  const parse = PARSERS[extname(filePath).toLowerCase()];
  if (parse === undefined) {
    return fileError('config_file_unsupported', `${filePath}: use a .json, .yaml or .yml file`);
  }
  const content = readText(filePath);
  if (!content.ok) return content;
  let parsed: unknown;
  try {
    parsed = parse(content.value);
  } catch (cause) {
    return fileError('config_file_invalid', `${filePath}: cannot parse: ${firstLine(cause)}`);
  }
  // An empty YAML file is an empty config, as convict treats one.
  if (parsed === null || parsed === undefined) return ok({ data: {}, keys: new Set(), errors: [] });
  if (!isPlainObject(parsed)) {
    return fileError('config_file_invalid', `${filePath}: must hold a mapping of keys to values`);
  }
  const structure = structureProblem(parsed, 0, new Set(), new Set());
  if (structure !== undefined) return fileError('config_file_invalid', `${filePath}: ${structure}`);
  const file: ConfigFile = { data: {}, keys: new Set(), errors: [] };
  file.data = checkShape(parsed, '', file);
  return ok(file);
}

function readText(filePath: string): Result<string, ConfigError> {
  try {
    if (statSync(filePath).size > MAX_CONFIG_FILE_BYTES) {
      return fileError(
        'config_file_invalid',
        `${filePath}: larger than ${MAX_CONFIG_FILE_BYTES} bytes`,
      );
    }
    return ok(readFileSync(filePath, 'utf8'));
  } catch (cause) {
    return fileError('config_file_unreadable', `${filePath}: cannot read (${errnoCode(cause)})`);
  }
}

const FORBIDDEN_NAMES = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Keeps what convict can merge safely: a section must be an object, a leaf must not be one
 * (convict would recurse into it and then report the key as "missing"), and prototype-polluting
 * names never reach it.
 */
function checkShape(
  source: Record<string, unknown>,
  prefix: string,
  file: ConfigFile,
): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(source)) {
    const keyPath = prefix === '' ? name : `${prefix}.${name}`;
    if (FORBIDDEN_NAMES.has(name)) {
      file.errors.push({
        code: 'undeclared_key',
        key: keyPath,
        message: 'not a configuration key',
      });
    } else if (isConfigKey(keyPath)) {
      keepLeaf(kept, name, value, keyPath, file);
    } else if (isSection(keyPath)) {
      if (isPlainObject(value)) kept[name] = checkShape(value, keyPath, file);
      else file.errors.push(notASection(keyPath));
    } else {
      kept[name] = value;
    }
  }
  return kept;
}

function keepLeaf(
  kept: Record<string, unknown>,
  name: string,
  value: unknown,
  keyPath: ConfigKey,
  file: ConfigFile,
): void {
  if (isPlainObject(value)) {
    const parsed = specOf(keyPath).kind.parse(value);
    const message = parsed.ok ? 'must not be a section' : parsed.error;
    file.errors.push({
      code: 'invalid_value',
      key: keyPath,
      message: `${message} (in the config file)`,
    });
    return;
  }
  kept[name] = value;
  file.keys.add(keyPath);
}

function notASection(keyPath: string): ConfigError {
  const children = CONFIG_KEYS.filter((k) => k.startsWith(`${keyPath}.`)).map((k) =>
    k.slice(keyPath.length + 1),
  );
  return {
    code: 'not_a_section',
    key: keyPath,
    message: `must be a section with the keys ${children.join(', ')} (in the config file)`,
  };
}

// A config is four levels deep; far deeper is a mistake or an attack on the merge.
const MAX_DEPTH = 32;

/**
 * YAML anchors can make a value contain itself (`a: &a [*a]`); convict would walk it forever.
 * `done` skips values already checked, so shared (aliased) values cost nothing twice.
 */
function structureProblem(
  value: unknown,
  depth: number,
  ancestors: Set<object>,
  done: Set<object>,
): string | undefined {
  if (typeof value !== 'object' || value === null || done.has(value)) return undefined;
  if (ancestors.has(value)) return 'a value contains itself (recursive YAML alias)';
  if (depth >= MAX_DEPTH) return `nested deeper than ${MAX_DEPTH} levels`;
  ancestors.add(value);
  for (const child of Object.values(value)) {
    const problem = structureProblem(child, depth + 1, ancestors, done);
    if (problem !== undefined) return problem;
  }
  ancestors.delete(value);
  done.add(value);
  return undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fileError(code: ConfigError['code'], message: string): Result<never, ConfigError> {
  return err({ code, key: 'config', message });
}

function firstLine(cause: unknown): string {
  const message = cause instanceof Error ? cause.message : String(cause);
  const line = message.split('\n')[0] ?? '';
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}
