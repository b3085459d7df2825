import { type Address, formatAddress, isLoopbackHost, isWildcardHost } from './address.ts';
import { validateBounds } from './band.ts';
import type { ConfigError } from './errors.ts';
import type { ConfigKey, KeyValue } from './schema.ts';

/** The values that parsed, by key; a key whose value was refused is absent. */
export type ParsedValues = { [K in ConfigKey]?: KeyValue<K> };

/**
 * Rules that tie several keys together. Pure; each rule runs only when the keys it reads
 * parsed, so a bad value is reported once, by its own key, and not again as a relation.
 */
export function checkRelations(values: ParsedValues, hasAdminToken: boolean): ConfigError[] {
  return [
    ...checkBounds(values),
    ...checkOrder(
      values,
      'maintenance.timeBetweenLookingForPeers.initial',
      'maintenance.timeBetweenLookingForPeers.cap',
    ),
    ...checkOrder(values, 'pool.reconnect.initial', 'pool.reconnect.cap'),
    ...checkGossipSizes(values),
    ...checkPorts(values),
    ...checkAdminExposure(values, hasAdminToken),
    ...checkTlsPairs(values),
  ];
}

function checkBounds(values: ParsedValues): ConfigError[] {
  const {
    'connections.min': min,
    'connections.expected': expected,
    'connections.max': max,
  } = values;
  if (min === undefined || expected === undefined || max === undefined) return [];
  const limits = {
    maxKnownPoints: values['pool.maxKnownPoints'],
    maxKnownPeerIds: values['pool.maxKnownPeerIds'],
  };
  return validateBounds({ min, expected, max }, limits);
}

function checkOrder(values: ParsedValues, initialKey: ConfigKey, capKey: ConfigKey): ConfigError[] {
  const initial = values[initialKey];
  const cap = values[capKey];
  if (typeof initial !== 'number' || typeof cap !== 'number' || initial <= cap) return [];
  return [
    {
      code: 'initial_above_cap',
      key: initialKey,
      message: `initial delay (${initial} ms) must not exceed ${capKey} (${cap} ms)`,
    },
  ];
}

function checkGossipSizes(values: ParsedValues): ConfigError[] {
  const message = values['gossip.maxMessageBytes'];
  const ingress = values['gossip.maxIngressBytes'];
  if (message === undefined || ingress === undefined || message <= ingress) return [];
  return [
    {
      code: 'message_above_ingress',
      key: 'gossip.maxMessageBytes',
      message: `a message of ${message} bytes could never pass the ingress limit gossip.maxIngressBytes (${ingress})`,
    },
  ];
}

const LISTEN_KEYS = ['listen', 'admin.listen', 'http.listen'] as const;

function checkPorts(values: ParsedValues): ConfigError[] {
  const errors: ConfigError[] = [];
  const taken: Array<{ key: string; address: Address }> = [];
  for (const listenKey of LISTEN_KEYS) {
    const address = values[listenKey];
    if (address === undefined) continue;
    const clash = taken.find((other) => overlaps(other.address, address));
    if (clash !== undefined) {
      errors.push({
        code: 'port_conflict',
        key: listenKey,
        message: `${formatAddress(address)} overlaps ${clash.key} (${formatAddress(clash.address)})`,
      });
    }
    taken.push({ key: listenKey, address });
  }
  return errors;
}

// Port 0 picks a free port per socket, so it never clashes.
function overlaps(a: Address, b: Address): boolean {
  if (a.port === 0 || a.port !== b.port) return false;
  return a.host === b.host || isWildcardHost(a.host) || isWildcardHost(b.host);
}

// DESIGN §9: secure by default. Refusing at load says so before anything listens.
function checkAdminExposure(values: ParsedValues, hasAdminToken: boolean): ConfigError[] {
  const adminListen = values['admin.listen'];
  if (adminListen === undefined || hasAdminToken || isLoopbackHost(adminListen.host)) return [];
  return [
    {
      code: 'admin_token_required',
      key: 'admin.listen',
      message: `binding ${formatAddress(adminListen)} (not loopback) needs a token: set admin.tokenFile or MESHKEEPER_ADMIN_TOKEN`,
    },
  ];
}

function checkTlsPairs(values: ParsedValues): ConfigError[] {
  const cert = values['admin.tls.cert'];
  const key = values['admin.tls.key'];
  const clientCa = values['admin.tls.clientCa'];
  if ((cert === undefined) !== (key === undefined)) {
    const missing = cert === undefined ? 'admin.tls.cert' : 'admin.tls.key';
    return [
      {
        code: 'tls_incomplete',
        key: missing,
        message: 'TLS needs both admin.tls.cert and admin.tls.key',
      },
    ];
  }
  if (clientCa !== undefined && cert === undefined) {
    return [
      {
        code: 'tls_incomplete',
        key: 'admin.tls.clientCa',
        message: 'mTLS needs the server certificate too: set admin.tls.cert and admin.tls.key',
      },
    ];
  }
  return [];
}
