import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { defaultText } from '../../../src/cli/flags-help.ts';
import { CONFIG_KEYS, envName, flagName, specOf } from '../../../src/config/schema.ts';

// The real command line, as a child process: what an operator and a container see.
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const MAIN = join(ROOT, 'bin/meshkeeper.js');
const BIN = join(ROOT, 'bin/meshkeeper.js');

const dir = mkdtempSync(join(tmpdir(), 'meshkeeper-cli-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: readonly string[], env: Record<string, string> = {}, entry = MAIN): Run {
  // Only what is given: the tests never depend on the environment they run in.
  const result = spawnSync(process.execPath, [entry, ...args], {
    cwd: dir,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', ...env },
    timeout: 30_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Asserts that `help` documents every config flag, with its default and its variable. */
function assertDocumentsEveryFlag(help: string): void {
  const lines = help.split('\n');
  for (const configKey of CONFIG_KEYS) {
    const flag = `--${flagName(configKey)}`;
    const at = lines.findIndex(
      (line) =>
        line.trimStart().startsWith(`${flag} `) ||
        line.trim() === flag ||
        line.trimStart().startsWith(`${flag},`),
    );
    assert.notEqual(at, -1, `${flag} is missing from --help`);
    const doc = lines[at + 1] ?? '';
    assert.ok(
      doc.includes(`(default: ${defaultText(specOf(configKey).default)})`),
      `${flag}: no default in ${JSON.stringify(doc)}`,
    );
    assert.ok(
      doc.includes(envName(configKey)),
      `${flag}: no environment variable in ${JSON.stringify(doc)}`,
    );
  }
  for (const special of ['--config <path>', '--connections <n>', 'MESHKEEPER_ADMIN_TOKEN']) {
    assert.ok(help.includes(special), `${special} is missing from --help`);
  }
}

test('meshkeeper --help lists every config flag with its default', () => {
  const run = cli(['--help']);
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /Usage: meshkeeper/);
  assert.match(run.stdout, /run\s/);
  assert.match(run.stdout, /config\s/);
  assertDocumentsEveryFlag(run.stdout);
});

test('meshkeeper run --help lists every config flag with its default', () => {
  const run = cli(['run', '--help']);
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /Usage: meshkeeper run/);
  assertDocumentsEveryFlag(run.stdout);
});

test('a few defaults, as an operator reads them', () => {
  const help = cli(['run', '--help']).stdout;
  assert.match(
    help,
    /--connections-max <int>\n.*\(default: 100\) \[env MESHKEEPER_CONNECTIONS_MAX\]/,
  );
  assert.match(
    help,
    /--wire-connect-timeout <duration>\n.*\(default: 10s\) \[env MESHKEEPER_WIRE_CONNECT_TIMEOUT\]/,
  );
  assert.match(help, /--pool-max-known-points <high,low>\n.*\(default: 400,300\)/);
  assert.match(help, /--private-mode, --no-private-mode\n.*\(default: false\)/);
  assert.match(help, /--bootstrap <host:port\[#peerId\],…>\n.*\(default: none\)/);
});

test('run with an invalid config exits 2 and prints every error', () => {
  const configFile = join(dir, 'bad.yaml');
  writeFileSync(configFile, 'netwrok: typo\ngossip:\n  seenCacheSize: lots\n');
  const run = cli(
    ['run', '--config', configFile, '--connections-min', '0', '--listen', 'nowhere', '--bogus'],
    { MESHKEEPER_LOG_LEVEL: 'loud', MESHKEEPER_WIRE_CONNECT_TIMEOUT: '10 sec' },
  );
  assert.equal(run.status, 2);
  assert.equal(run.stdout, '');
  const expected = [
    /--bogus: unknown flag --bogus/,
    /netwrok: not a configuration key/,
    /gossip\.seenCacheSize: must be a whole number, got "lots" \(from the config file\)/,
    /connections\.min: must be at least 1/,
    /listen: address needs a port/,
    /log\.level: must be one of .*got "loud" \(from MESHKEEPER_LOG_LEVEL\)/,
    /wire\.connectTimeout: .*\(from MESHKEEPER_WIRE_CONNECT_TIMEOUT\)/,
  ];
  for (const line of expected) assert.match(run.stderr, line);
  assert.match(run.stderr, /meshkeeper: 7 configuration errors:/);
});

test('run with a missing config file exits 2', () => {
  const run = cli(['run', '--config', join(dir, 'absent.json')]);
  assert.equal(run.status, 2);
  assert.match(run.stderr, /config: .*absent\.json: cannot read \(ENOENT\)/);
});

test('run with a corrupt config file exits 2', () => {
  const configFile = join(dir, 'corrupt.json');
  writeFileSync(configFile, '{"network": ');
  const run = cli(['run'], { MESHKEEPER_CONFIG: configFile });
  assert.equal(run.status, 2);
  assert.match(run.stderr, /config: .*corrupt\.json: cannot parse/);
});

test('the admin token never reaches the output', () => {
  const secret = 'tok-Secret-0123456789';
  const errors = cli(['run', '--connections', '0'], { MESHKEEPER_ADMIN_TOKEN: `${secret} x` });
  assert.equal(errors.status, 2);
  assert.ok(!errors.stderr.includes(secret) && !errors.stdout.includes(secret));
  const printed = cli(['config', 'print'], { MESHKEEPER_ADMIN_TOKEN: secret });
  assert.equal(printed.status, 0, printed.stderr);
  assert.ok(!printed.stdout.includes(secret));
  assert.equal(JSON.parse(printed.stdout).admin.token, '[redacted]');
});

test('config print shows the resolved config as JSON (file < env < flag)', () => {
  const configFile = join(dir, 'node.yaml');
  writeFileSync(configFile, 'network: from-file\nconnections: { max: 70 }\nlog: { level: warn }\n');
  const run = cli(['config', 'print', '--config', configFile, '--connections-max', '90'], {
    MESHKEEPER_NETWORK: 'from-env',
    MESHKEEPER_CONNECTIONS_MAX: '80',
  });
  assert.equal(run.status, 0, run.stderr);
  const config = JSON.parse(run.stdout);
  assert.equal(config.network, 'from-env');
  assert.equal(config.connections.max, 90);
  assert.equal(config.log.level, 'warn');
  assert.equal(config.maintenance.idleTimeMs, 120_000);
});

test('bin/meshkeeper.js runs the same CLI', () => {
  const run = cli(['config', 'print', '--connections', '6'], {}, BIN);
  assert.equal(run.status, 0, run.stderr);
  assert.deepEqual(JSON.parse(run.stdout).connections, { min: 3, expected: 6, max: 9 });
});

test('an unknown command exits 2', () => {
  const run = cli(['frobnicate']);
  assert.equal(run.status, 2);
  assert.match(run.stderr, /unknown command 'frobnicate'/);
});

test('--version prints the package version', () => {
  const run = cli(['--version']);
  assert.equal(run.status, 0);
  assert.match(run.stdout, /^\d+\.\d+\.\d+\n$/);
});
