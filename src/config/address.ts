import { isIPv4, isIPv6 } from 'node:net';
import { err, ok, type Result } from './result.ts';
import type { PointSpec } from './types.ts';

/**
 * `host:port` addresses and `host:port#peerId` points, as written in config, admin requests
 * and the wire. Pure: nothing here resolves a name or opens a socket. IPv6 hosts are written
 * in brackets (`[::1]:9740`) and stored without them, as `net.connect` wants them.
 */
export interface Address {
  host: string;
  port: number;
}

export type AddressErrorCode =
  | 'not_a_string'
  | 'empty'
  | 'too_long'
  | 'whitespace'
  | 'unbalanced_brackets'
  | 'ipv6_without_brackets'
  | 'bad_host'
  | 'missing_port'
  | 'bad_port'
  | 'port_out_of_range'
  | 'bad_peer_id';

export interface AddressError {
  code: AddressErrorCode;
  message: string;
}

export interface AddressOptions {
  /** Port 0 asks the OS for a free port: right for a listen address, never for a dial target. */
  allowPortZero?: boolean;
}

/** 253 (longest DNS name) + brackets, port and `#` + peer id, with room to spare. */
export const MAX_ADDRESS_LENGTH = 512;

/** `mk` + 52 lowercase RFC 4648 base32 characters (no padding) = SHA-256 of the public key. */
export const PEER_ID_PATTERN = /^mk[a-z2-7]{51}[aq]$/;

const HOST_LABEL = /^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/;
const MAX_HOSTNAME_LENGTH = 253;
const PORT_SYNTAX = /^(?:0|[1-9][0-9]{0,4})$/;
const WHITESPACE = /\s/;

function fail<T>(code: AddressErrorCode, message: string): Result<T, AddressError> {
  return err({ code, message });
}

/**
 * True when `text` is a canonical peer id. 256 bits need 52 base32 characters whose last one
 * carries a single bit and four zero padding bits, so it can only be `a` or `q`: any other
 * last character is a non-canonical spelling of some id and is refused.
 */
export function isPeerId(text: string): boolean {
  return PEER_ID_PATTERN.test(text);
}

/** Parses `host:port`, `name:port` or `[ipv6]:port`. Never throws. */
export function parseAddress(
  text: unknown,
  options: AddressOptions = {},
): Result<Address, AddressError> {
  const checked = checkText(text);
  if (!checked.ok) return checked;
  const split = splitHostPort(checked.value);
  if (!split.ok) return split;
  const port = parsePort(split.value.port, options.allowPortZero === true);
  if (!port.ok) return port;
  return ok({ host: split.value.host, port: port.value });
}

/** Parses `host:port` with an optional `#peerId` pin. Never throws. */
export function parsePoint(text: unknown): Result<PointSpec, AddressError> {
  const checked = checkText(text);
  if (!checked.ok) return checked;
  const hash = checked.value.indexOf('#');
  if (hash === -1) return parseAddress(checked.value);
  const peerId = checked.value.slice(hash + 1);
  if (!isPeerId(peerId)) {
    return fail(
      'bad_peer_id',
      'peer id after "#" must be "mk" followed by 52 lowercase base32 characters (a-z, 2-7)',
    );
  }
  const address = parseAddress(checked.value.slice(0, hash));
  if (!address.ok) return address;
  return ok({ ...address.value, peerId });
}

/** `host:port`, bracketing IPv6 hosts; parseAddress reads it back. */
export function formatAddress(address: Address): string {
  const host = address.host.includes(':') ? `[${address.host}]` : address.host;
  return `${host}:${address.port}`;
}

/** `host:port` or `host:port#peerId`; parsePoint reads it back. */
export function formatPoint(point: PointSpec): string {
  const address = formatAddress(point);
  return point.peerId === undefined ? address : `${address}#${point.peerId}`;
}

/**
 * True for a host that only this machine can reach: `localhost`, 127.0.0.0/8, `::1` and
 * IPv4-mapped 127.x. Wildcards (`0.0.0.0`, `::`) are not loopback: they listen everywhere.
 */
export function isLoopbackHost(host: string): boolean {
  const lower = host.toLowerCase();
  if (lower === 'localhost' || lower === 'localhost.') return true;
  const v4 = lower.startsWith('::ffff:') ? lower.slice(7) : lower;
  if (isIPv4(v4)) return v4.startsWith('127.');
  return isIPv6(lower) && /^(?:0{0,4}:){2,7}0{0,3}1$/.test(lower);
}

/** True for an address that listens on every interface. */
export function isWildcardHost(host: string): boolean {
  return host === '0.0.0.0' || (isIPv6(host) && /^[0:]+$/.test(host));
}

function checkText(text: unknown): Result<string, AddressError> {
  if (typeof text !== 'string') return fail('not_a_string', 'address must be a string');
  if (text === '') return fail('empty', 'address is empty');
  // Checked before any pattern so hostile input costs nothing.
  if (text.length > MAX_ADDRESS_LENGTH) {
    return fail('too_long', `address is longer than ${MAX_ADDRESS_LENGTH} characters`);
  }
  if (WHITESPACE.test(text)) return fail('whitespace', 'address must not contain whitespace');
  return ok(text);
}

function splitHostPort(text: string): Result<{ host: string; port: string }, AddressError> {
  if (text.startsWith('[')) return splitBracketed(text);
  if (text.includes('[') || text.includes(']')) {
    return fail('unbalanced_brackets', 'brackets must enclose the whole IPv6 host: [::1]:9740');
  }
  const colon = text.lastIndexOf(':');
  if (colon === -1) return fail('missing_port', 'address needs a port: host:port');
  const host = text.slice(0, colon);
  if (host.includes(':')) {
    return isIPv6(host)
      ? fail('ipv6_without_brackets', 'write an IPv6 host in brackets: [::1]:9740')
      : fail('bad_host', 'host must be an IPv4 address, a DNS name or a bracketed IPv6 address');
  }
  const checkedHost = checkHostname(host);
  if (!checkedHost.ok) return checkedHost;
  return ok({ host, port: text.slice(colon + 1) });
}

function splitBracketed(text: string): Result<{ host: string; port: string }, AddressError> {
  const close = text.indexOf(']');
  if (close === -1 || text.indexOf('[', 1) !== -1 || text.indexOf(']', close + 1) !== -1) {
    return fail('unbalanced_brackets', 'brackets must enclose the whole IPv6 host: [::1]:9740');
  }
  const host = text.slice(1, close);
  if (!isIPv6(host)) return fail('bad_host', 'brackets must hold an IPv6 address');
  const rest = text.slice(close + 1);
  if (!rest.startsWith(':')) return fail('missing_port', 'address needs a port: [::1]:9740');
  return ok({ host, port: rest.slice(1) });
}

function checkHostname(host: string): Result<string, AddressError> {
  if (host === '') return fail('bad_host', 'host is empty');
  if (isIPv4(host)) return ok(host);
  const name = host.endsWith('.') ? host.slice(0, -1) : host;
  if (name.length > MAX_HOSTNAME_LENGTH) {
    return fail('bad_host', `host name is longer than ${MAX_HOSTNAME_LENGTH} characters`);
  }
  const labels = name.split('.');
  if (!labels.every((label) => HOST_LABEL.test(label))) {
    return fail('bad_host', 'host must be an IPv4 address, a DNS name or a bracketed IPv6 address');
  }
  // The resolver reads "1.2.3" or "0x7f000001" as an IPv4 address (inet_aton), so a name
  // whose last label looks numeric would dial somewhere other than what it seems to say.
  const last = labels.at(-1) ?? '';
  if (/^[0-9]+$/.test(last) || /^0x[0-9a-f]*$/i.test(last)) {
    return fail('bad_host', 'host is neither a valid IPv4 address nor a DNS name');
  }
  return ok(host);
}

function parsePort(text: string, allowZero: boolean): Result<number, AddressError> {
  if (text === '') return fail('missing_port', 'port is empty');
  if (!PORT_SYNTAX.test(text)) {
    return fail('bad_port', 'port must be a decimal number without sign or leading zeros');
  }
  const port = Number(text);
  const lowest = allowZero ? 0 : 1;
  if (port < lowest || port > 65535) {
    return fail('port_out_of_range', `port must be between ${lowest} and 65535`);
  }
  return ok(port);
}
