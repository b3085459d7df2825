import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import type { ConfigError } from '../../../src/config/errors.ts';
import { type LoadOptions, loadConfig } from '../../../src/config/load.ts';
import type { Config } from '../../../src/config/types.ts';

const dir = mkdtempSync(join(tmpdir(), 'meshkeeper-config-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let counter = 0;

/** Writes `content` to a fresh file named `*.<extension>` in a temporary directory. */
export function tempFile(extension: string, content: string): string {
  counter++;
  const filePath = join(dir, `file-${counter}.${extension}`);
  writeFileSync(filePath, content);
  return filePath;
}

/** Creates an empty directory named `name` in the temporary directory. */
export function tempDir(name: string): string {
  counter++;
  const dirPath = join(dir, `${counter}-${name}`);
  mkdirSync(dirPath);
  return dirPath;
}

export function load(
  argv: readonly string[] = [],
  env: LoadOptions['env'] = {},
): ReturnType<typeof loadConfig> {
  return loadConfig({ argv, env });
}

/** The config, failing the test with the errors when loading failed. */
export function loaded(argv: readonly string[] = [], env: LoadOptions['env'] = {}): Config {
  const result = load(argv, env);
  if (!result.ok)
    assert.fail(`expected a config, got errors:\n${JSON.stringify(result.errors, null, 2)}`);
  return result.config;
}

/** The errors, failing the test when loading succeeded. */
export function failed(argv: readonly string[] = [], env: LoadOptions['env'] = {}): ConfigError[] {
  const result = load(argv, env);
  if (result.ok) assert.fail('expected configuration errors, got a config');
  return result.errors;
}

/** Asserts that loading fails with exactly one error, of this code and key, whose message matches. */
export function onlyError(
  argv: readonly string[],
  env: LoadOptions['env'],
  expected: { code: ConfigError['code']; key: string; message: RegExp },
): ConfigError {
  const errors = failed(argv, env);
  assert.equal(errors.length, 1, `expected one error, got ${JSON.stringify(errors, null, 2)}`);
  const [error] = errors;
  assert.ok(error);
  assert.equal(error.code, expected.code);
  assert.equal(error.key, expected.key);
  assert.match(error.message, expected.message);
  return error;
}
