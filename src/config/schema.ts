import convict from 'convict';
import type { ValueKind } from './values.ts';
import {
  address,
  boolean,
  decimal,
  duration,
  integer,
  oneOf,
  optional,
  path,
  pointList,
  text,
  watermarks,
} from './values.ts';

/**
 * Every configuration key of DESIGN §10, in one table. The convict schema, the environment
 * variable names, the command-line flags and the --help text are all generated from it, so
 * they cannot drift apart. Defaults are written as an operator would write them in a file.
 */
export interface KeySpec<T> {
  doc: string;
  /** The raw default, as in a config file (`"120s"`, `[400, 300]`); null = unset. */
  default: unknown;
  kind: ValueKind<T>;
}

function key<T>(doc: string, defaultValue: unknown, kind: ValueKind<T>): KeySpec<T> {
  return { doc, default: defaultValue, kind };
}

const MiB = 1024 * 1024;
const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
const listenAddress = () => address({ allowPortZero: true });

export const KEYS = {
  network: key(
    'Network name; peers of another network are refused',
    'meshkeeper-local',
    text(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1 to 64 letters, digits, ".", "_" or "-"'),
  ),
  listen: key('P2P listen address (port 0: any free port)', '0.0.0.0:9740', listenAddress()),
  advertisedAddress: key(
    'Address peers should dial (pod IP, NodePort); unset = not advertised',
    null,
    optional(address({ allowPortZero: false })),
  ),
  dataDir: key('Directory of identity.json and peers.json', './data', path()),
  bootstrap: key(
    'Points to start from: host:port or name:port (re-resolved), optional #peerId; repeatable or comma-separated',
    [],
    pointList(),
  ),
  trusted: key(
    'Trusted points, always kept and re-dialed; same syntax as bootstrap',
    [],
    pointList(),
  ),
  privateMode: key('Dial and accept only trusted points; never shared by peers', false, boolean()),
  'connections.min': key(
    'Lower connection bound (established = warm + hot peers)',
    10,
    integer(0, 100_000),
  ),
  'connections.expected': key('Expected number of connections', 50, integer(0, 100_000)),
  'connections.max': key('Upper connection bound', 100, integer(0, 100_000)),
  'maintenance.idleTime': key(
    'A maintenance cycle runs after this long without any other motive',
    '120s',
    duration(1),
  ),
  'maintenance.timeBetweenLookingForPeers.initial': key(
    'First wait for new points when candidates run out',
    '5s',
    duration(1),
  ),
  'maintenance.timeBetweenLookingForPeers.cap': key(
    'Longest wait for new points (the wait doubles up to it)',
    '5m',
    duration(1),
  ),
  'maintenance.maxParallelDials': key('Dials in flight at once', 10, integer(1, 10_000)),
  'maintenance.settleTime': key(
    'A count left outside [minTarget, maxTarget] this long starts a cycle (the thresholds start one at once)',
    '5s',
    duration(1),
  ),
  'pool.maxKnownPoints': key(
    'Known-points cap: above high, forget points down to low',
    [400, 300],
    watermarks(),
  ),
  'pool.maxKnownPeerIds': key(
    'Known-peer-ids cap: above high, forget peer ids down to low',
    [400, 300],
    watermarks(),
  ),
  'pool.greylistTimeout': key(
    'How long a misbehaving IP or peer id stays greylisted',
    '24h',
    duration(0),
  ),
  'pool.reconnect.initial': key('First delay before re-dialing a failed point', '1s', duration(1)),
  'pool.reconnect.factor': key(
    'Growth of the re-dial delay per consecutive failure',
    1.2,
    decimal(1, 10),
  ),
  'pool.reconnect.cap': key('Longest re-dial delay', '2d', duration(1)),
  'pool.reconnect.afterDisconnect': key(
    'Delay before re-dialing a point whose connection ended',
    '60s',
    duration(0),
  ),
  'pool.persistDebounce': key('peers.json is written at most this often', '1s', duration(0)),
  'peers.hotTarget': key('Number of hot peers the governor keeps', 8, integer(0, 100_000)),
  'peers.deactivateTimeout': key('Time hot protocols get to stop on hot → warm', '5s', duration(1)),
  'peers.closeTimeout': key('Time all protocols get to stop on close', '5s', duration(1)),
  'peers.repromoteDelay': key(
    'No re-promotion of a peer this long after an error',
    '10s',
    duration(0),
  ),
  'peers.churnInterval': key('Governor churn period; 0 disables churn', '900s', duration(0)),
  'wire.connectTimeout': key('TCP connect timeout', '10s', duration(1)),
  'wire.handshakeTimeout': key('TLS + handshake timeout', '5s', duration(1)),
  'wire.keepAliveInterval': key('Keep-alive ping period', '10s', duration(1)),
  'wire.keepAliveTimeout': key('Keep-alive pong deadline', '30s', duration(1)),
  'wire.maxFramePayload': key('Largest mux frame payload, bytes', 65_536, integer(1024, 16 * MiB)),
  'wire.maxPendingInbound': key(
    'Inbound connections awaiting their handshake',
    128,
    integer(1, 100_000),
  ),
  'wire.tlsGroups': key(
    'TLS key-exchange groups, OpenSSL syntax (X25519MLKEM768:X25519); empty = Node default',
    '',
    text(/^(?:[A-Za-z0-9_-]+(?::[A-Za-z0-9_-]+)*)?$/, 'must be group names separated by ":"'),
  ),
  'gossip.maxMessageBytes': key('Largest gossip payload, bytes', MiB, integer(1, 1024 * MiB)),
  'gossip.maxIngressBytes': key(
    'Gossip ingress limit per connection, bytes',
    8 * MiB,
    integer(1, 1024 * MiB),
  ),
  'gossip.seenCacheSize': key('Entries of the gossip seen-cache', 100_000, integer(1, 100_000_000)),
  'gossip.seenTtl': key('Age limit of seen-cache entries', '10m', duration(1)),
  'admin.listen': key(
    'gRPC admin listen address; a non-loopback host needs a token',
    '127.0.0.1:9741',
    listenAddress(),
  ),
  'admin.tokenFile': key(
    'File holding the admin bearer token (or set MESHKEEPER_ADMIN_TOKEN)',
    null,
    optional(path()),
  ),
  'admin.tls.cert': key('Admin TLS certificate (PEM)', null, optional(path())),
  'admin.tls.key': key('Admin TLS private key (PEM)', null, optional(path())),
  'admin.tls.clientCa': key(
    'CA bundle (PEM) that admin clients must present a certificate from (mTLS)',
    null,
    optional(path()),
  ),
  'http.listen': key(
    'HTTP listen address: /metrics, /healthz, /readyz, /debug/status',
    '0.0.0.0:9742',
    listenAddress(),
  ),
  'http.readyGrace': key('/readyz waits this long for connections.min peers', '30s', duration(0)),
  'log.level': key('Log level', 'info', oneOf(LOG_LEVELS)),
} satisfies Record<string, KeySpec<unknown>>;

export type ConfigKey = keyof typeof KEYS;
/** The parsed type of a key's value. */
export type KeyValue<K extends ConfigKey> = (typeof KEYS)[K] extends KeySpec<infer T> ? T : never;

export const CONFIG_KEYS = Object.keys(KEYS) as ConfigKey[];

/** Read directly by the loader, not part of the schema: a secret is never a flag or a file key. */
export const ADMIN_TOKEN_ENV = 'MESHKEEPER_ADMIN_TOKEN';
export const CONFIG_FILE_ENV = 'MESHKEEPER_CONFIG';
export const CONNECTIONS_ENV = 'MESHKEEPER_CONNECTIONS';

const words = (segment: string): string[] => segment.split(/(?=[A-Z])/).map((w) => w.toLowerCase());

/** `connections.max` → `MESHKEEPER_CONNECTIONS_MAX`, `dataDir` → `MESHKEEPER_DATA_DIR`. */
export function envName(configKey: string): string {
  return `MESHKEEPER_${configKey.split('.').flatMap(words).join('_').toUpperCase()}`;
}

/** `connections.max` → `connections-max`, `dataDir` → `data-dir` (without the leading `--`). */
export function flagName(configKey: string): string {
  return configKey.split('.').flatMap(words).join('-');
}

export function specOf(configKey: ConfigKey): KeySpec<unknown> {
  return KEYS[configKey];
}

/** True when `path` names a section (a prefix of some key), e.g. `pool` or `pool.reconnect`. */
export function isSection(path: string): boolean {
  return CONFIG_KEYS.some((configKey) => configKey.startsWith(`${path}.`));
}

export function isConfigKey(path: string): path is ConfigKey {
  return Object.hasOwn(KEYS, path);
}

type SchemaNode = { [name: string]: SchemaNode | convict.SchemaObj };

function formatName(configKey: string): string {
  return `meshkeeper:${configKey}`;
}

// convict's formats are process-wide; one per key, registered once, lets each key validate
// with its own strict parser and keeps convict from coercing raw strings its own loose way.
for (const configKey of CONFIG_KEYS) {
  const kind = specOf(configKey).kind;
  convict.addFormat({
    name: formatName(configKey),
    validate(value: unknown) {
      const parsed = kind.parse(value);
      if (!parsed.ok) throw new Error(parsed.error);
    },
  });
}

/** The convict schema of DESIGN §10, nested by key path. */
export function buildSchema(): SchemaNode {
  const root: SchemaNode = {};
  for (const configKey of CONFIG_KEYS) {
    const spec = specOf(configKey);
    const segments = configKey.split('.');
    const leafName = segments.pop() ?? configKey;
    let node = root;
    for (const segment of segments) {
      node[segment] ??= {};
      node = node[segment] as SchemaNode;
    }
    node[leafName] = {
      doc: spec.doc,
      default: spec.default,
      format: formatName(configKey),
      env: envName(configKey),
      arg: flagName(configKey),
      nullable: spec.default === null,
    };
  }
  return root;
}
