import { CONFIG_KEYS, type ConfigKey, envName, flagName, specOf } from '../config/schema.ts';

/**
 * The --help text of the config flags, generated from the schema so it lists every flag with
 * its default and environment variable and cannot drift from what the loader accepts.
 */
const INDENT = '  ';
const DOC_INDENT = '      ';

const SECTION_TITLES: Readonly<Record<string, string>> = {
  '': 'Node',
  connections: 'Connections',
  maintenance: 'Maintenance',
  pool: 'Pool',
  peers: 'Peers',
  wire: 'Wire',
  gossip: 'Gossip',
  admin: 'Admin API',
  http: 'HTTP',
  log: 'Log',
};

/** How a default reads on the command line: `120s`, `400,300`, `none`. */
export function defaultText(value: unknown): string {
  if (value === null || (Array.isArray(value) && value.length === 0)) return 'none';
  if (value === '') return '""';
  if (Array.isArray(value)) return value.join(',');
  return String(value);
}

export function flagUsage(configKey: ConfigKey): string {
  const kind = specOf(configKey).kind;
  const flag = `--${flagName(configKey)}`;
  if (kind.isBoolean === true) return `${flag}, --no-${flagName(configKey)}`;
  return `${flag} ${kind.placeholder}`;
}

function entry(usage: string, doc: string): string {
  return `${INDENT}${usage}\n${DOC_INDENT}${doc}\n`;
}

function sectionOf(configKey: ConfigKey): string {
  return configKey.includes('.') ? (configKey.split('.')[0] ?? '') : '';
}

export function configFlagsHelp(): string {
  let text =
    '\nConfig flags (precedence: defaults < --config file < MESHKEEPER_* environment < flags):\n' +
    entry(
      '--config <path>',
      'Config file, JSON or YAML by extension (.json, .yaml, .yml) [env MESHKEEPER_CONFIG]',
    ) +
    entry(
      '--connections <n>',
      'Shorthand, 1..1000: connections min/expected/max = n/2 (at least 1), n, 3n/2 and, unless set, ' +
        'the pool caps (8n, 6n); explicit --connections-* flags win [env MESHKEEPER_CONNECTIONS]',
    );
  let section: string | undefined;
  for (const configKey of CONFIG_KEYS) {
    const current = sectionOf(configKey);
    if (current !== section) {
      section = current;
      text += `\n ${SECTION_TITLES[current] ?? current}:\n`;
    }
    const spec = specOf(configKey);
    text += entry(
      flagUsage(configKey),
      `${spec.doc} (default: ${defaultText(spec.default)}) [env ${envName(configKey)}]`,
    );
  }
  text +=
    '\nThe admin token is read from admin.tokenFile or from the environment variable ' +
    'MESHKEEPER_ADMIN_TOKEN, never from a flag (flags show in `ps`).\n' +
    'Durations: 500ms, 120s, 5m, 24h, 2d or a number of milliseconds. ' +
    'Lists: repeat the flag or separate with commas.\n';
  return text;
}
