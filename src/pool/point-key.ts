import { isIPv4, isIPv6 } from 'node:net';
import { formatAddress, parseAddress, parsePoint } from '../config/address.ts';
import type { PointSpec } from '../config/types.ts';

/**
 * The pool's key for a point: its canonical `host:port` string (`[v6]:port` for IPv6), as
 * `formatAddress` writes it. Two spellings of the same address give the same key: hosts are
 * lower-cased, IPv6 is written in its shortest form and IPv4-mapped IPv6 (`::ffff:a.b.c.d`,
 * what a dual-stack socket reports) becomes plain IPv4, so that greylists and bans keyed by
 * IP match however the address came in.
 */
export type PointKey = string;

const mappedV4 = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/;

/** The canonical form of a host (IP or DNS name), or undefined when it is not a valid one. */
export function canonicalHost(host: string): string | undefined {
  let h = host.toLowerCase();
  // Most hosts: parsing below would only confirm it (the pool checks every point it views).
  if (isIPv4(h)) return h;
  if (isIPv6(h)) {
    const mapped = mappedV4.exec(h)?.[1];
    if (mapped !== undefined && isIPv4(mapped)) h = mapped;
    else if (URL.canParse(`http://[${h}]/`)) h = new URL(`http://[${h}]/`).hostname.slice(1, -1);
    else return undefined; // e.g. a zone id (fe80::1%eth0): only meaningful on this host
  }
  return parseAddress(formatAddress({ host: h, port: 1 })).ok ? h : undefined;
}

/** True for a TCP port a peer can listen on (1–65535). */
export function isValidPort(port: number): boolean {
  return Number.isInteger(port) && port >= 1 && port <= 65535;
}

/** The key of a point, or undefined when its host or port is not valid. */
export function pointKeyOf(spec: { host: string; port: number }): PointKey | undefined {
  const host = canonicalHost(spec.host);
  return host === undefined || !isValidPort(spec.port)
    ? undefined
    : formatAddress({ host, port: spec.port });
}

/** Parses `host:port`, `[v6]:port`, optionally `#peerId`, canonicalising the host. */
export function parsePointKey(text: string): PointSpec | undefined {
  const parsed = parsePoint(text);
  if (!parsed.ok) return undefined;
  const host = canonicalHost(parsed.value.host);
  if (host === undefined) return undefined;
  const { peerId } = parsed.value;
  return peerId === undefined
    ? { host, port: parsed.value.port }
    : { host, port: parsed.value.port, peerId };
}

/** The host part of a key made by `pointKeyOf` (without IPv6 brackets). */
export function hostOfKey(key: PointKey): string {
  return key.startsWith('[')
    ? key.slice(1, key.lastIndexOf(']'))
    : key.slice(0, key.lastIndexOf(':'));
}

/** The port part of a key made by `pointKeyOf`. */
export function portOfKey(key: PointKey): number {
  return Number(key.slice(key.lastIndexOf(':') + 1));
}
