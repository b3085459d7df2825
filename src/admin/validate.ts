import { isIP } from 'node:net';
import { isPeerId, parsePoint, validateBounds } from '../config/index.ts';
import type { ConnectionBounds, PointSpec, Watermarks } from '../config/types.ts';
import type { BanTarget } from '../pool/index.ts';
import { canonicalHost, type PointKey, pointKeyOf } from '../pool/point-key.ts';
import { badField, invalidArgument } from './errors.ts';
import type { NodeTargets, TrustTarget } from './events.ts';
import type {
  BanTargetMsg,
  SetBoundsRequest,
  SetTargetsRequest,
  TrustTargetMsg,
  WatermarksMsg,
} from './messages.ts';
import type { FieldViolation } from './status-details.ts';

/**
 * Request validation: every refusal is INVALID_ARGUMENT naming the offending field by its proto
 * name, with an UPPER_SNAKE reason for scripts. Pure; throws AdminError.
 */

/** `hot_target` bounds, as the config schema's `peers.hotTarget`. */
export const maxHotTarget = 100_000;

const boundFields = ['min', 'expected', 'max'] as const;

/**
 * The bounds of a SetBounds request, checked as the config checks them (`validateBounds`,
 * against the pool caps in force) after each bound's own checks: present, an integer, not
 * negative. Every problem is reported at once.
 */
export function boundsOf(req: SetBoundsRequest, targets: NodeTargets): ConnectionBounds {
  const own: FieldViolation[] = [];
  for (const field of boundFields) {
    const value = req[field];
    if (value === undefined) {
      own.push({ field, reason: 'REQUIRED', description: 'is required' });
    } else if (!Number.isSafeInteger(value)) {
      own.push({
        field,
        reason: 'NOT_AN_INTEGER',
        description: `must be an integer, got ${value}`,
      });
    } else if (value < 0) {
      own.push({ field, reason: 'NEGATIVE', description: `must not be negative, got ${value}` });
    }
  }
  if (own.length > 0) throw invalidArgument(own);
  const bounds = { min: req.min ?? 0, expected: req.expected ?? 0, max: req.max ?? 0 };
  const problems = validateBounds(bounds, {
    maxKnownPoints: targets.maxKnownPoints,
    maxKnownPeerIds: targets.maxKnownPeerIds,
  });
  if (problems.length > 0) {
    throw invalidArgument(
      problems.map((p) => ({
        field: p.key.replace(/^connections\./, ''),
        reason: p.code.toUpperCase(),
        description: p.message,
      })),
    );
  }
  return bounds;
}

/** The targets a SetTargets request changes; caps must keep `max ≤ low` for the bounds in force. */
export function targetsOf(req: SetTargetsRequest, bounds: ConnectionBounds): Partial<NodeTargets> {
  const violations: FieldViolation[] = [];
  const out: Partial<NodeTargets> = {};
  if (req.hot_target !== undefined) {
    const hot = req.hot_target;
    if (!Number.isSafeInteger(hot) || hot < 0 || hot > maxHotTarget) {
      violations.push({
        field: 'hot_target',
        reason: 'OUT_OF_RANGE',
        description: `must be an integer in 0 … ${maxHotTarget}, got ${hot}`,
      });
    } else out.hotTarget = hot;
  }
  const caps = [
    ['max_known_points', req.max_known_points, 'maxKnownPoints'],
    ['max_known_peer_ids', req.max_known_peer_ids, 'maxKnownPeerIds'],
  ] as const;
  for (const [field, value, key] of caps) {
    if (value === undefined) continue;
    const checked = watermarksOf(field, value, bounds.max, violations);
    if (checked !== undefined) out[key] = checked;
  }
  if (violations.length > 0) throw invalidArgument(violations);
  if (Object.keys(out).length === 0) {
    throw badField(
      'hot_target',
      'NOTHING_TO_SET',
      'set at least one of hot_target, max_known_points, max_known_peer_ids',
    );
  }
  return out;
}

function watermarksOf(
  field: string,
  value: WatermarksMsg,
  max: number,
  violations: FieldViolation[],
): Watermarks | undefined {
  const before = violations.length;
  const high = value.high;
  const low = value.low;
  for (const [name, v] of [
    ['high', high],
    ['low', low],
  ] as const) {
    if (v === undefined || !Number.isSafeInteger(v) || v < 1) {
      violations.push({
        field: `${field}.${name}`,
        reason: 'OUT_OF_RANGE',
        description: `must be a positive integer, got ${v ?? 'nothing'}`,
      });
    }
  }
  if (violations.length > before || high === undefined || low === undefined) return undefined;
  if (high <= low) {
    violations.push({
      field: `${field}.high`,
      reason: 'HIGH_NOT_ABOVE_LOW',
      description: `high (${high}) must be greater than low (${low})`,
    });
    return undefined;
  }
  if (low < max) {
    violations.push({
      field: `${field}.low`,
      reason: 'LOW_BELOW_MAX_BOUND',
      description: `low (${low}) must not be below the max bound in force (${max}): the pool never evicts what is in use`,
    });
    return undefined;
  }
  return { high, low };
}

export function peerIdOf(value: string | undefined, field: string): string {
  if (value === undefined || value === '') throw badField(field, 'REQUIRED', 'is required');
  if (!isPeerId(value)) {
    throw badField(
      field,
      'PEER_ID_INVALID',
      'must be "mk" followed by 52 lowercase base32 characters',
    );
  }
  return value;
}

/** `host:port[#peerId]`, canonical. */
export function pointOf(
  value: string | undefined,
  field: string,
): { spec: PointSpec; key: PointKey } {
  if (value === undefined || value === '') throw badField(field, 'REQUIRED', 'is required');
  const parsed = parsePoint(value);
  if (!parsed.ok)
    throw badField(field, `ADDRESS_${parsed.error.code.toUpperCase()}`, parsed.error.message);
  const host = canonicalHost(parsed.value.host);
  const key = host === undefined ? undefined : pointKeyOf({ host, port: parsed.value.port });
  if (host === undefined || key === undefined)
    throw badField(field, 'ADDRESS_BAD_HOST', 'not a usable host');
  const spec: PointSpec = { host, port: parsed.value.port };
  if (parsed.value.peerId !== undefined) spec.peerId = parsed.value.peerId;
  return { spec, key };
}

export function banTargetOf(msg: BanTargetMsg | undefined, field: string): BanTarget {
  switch (msg?.target) {
    case 'peer_id':
      return { kind: 'peer', peerId: peerIdOf(msg.peer_id, `${field}.peer_id`) };
    case 'address': {
      const { spec, key } = pointOf(msg.address, `${field}.address`);
      if (spec.peerId !== undefined) {
        throw badField(
          `${field}.address`,
          'ADDRESS_WITH_PEER_ID',
          'ban the address or the peer id, not both',
        );
      }
      return { kind: 'point', point: key };
    }
    case 'ip': {
      const ip = msg.ip === undefined ? undefined : canonicalHost(msg.ip);
      if (msg.ip === undefined || ip === undefined || isIP(ip) === 0) {
        throw badField(`${field}.ip`, 'IP_INVALID', 'must be an IPv4 or IPv6 address');
      }
      return { kind: 'ip', ip };
    }
    default:
      throw badField(field, 'REQUIRED', 'set one of peer_id, address, ip');
  }
}

export function trustTargetOf(
  msg: TrustTargetMsg | undefined,
  field: string,
): TrustTarget & { spec?: PointSpec } {
  switch (msg?.target) {
    case 'peer_id':
      return { kind: 'peer', peerId: peerIdOf(msg.peer_id, `${field}.peer_id`) };
    case 'address': {
      const { spec, key } = pointOf(msg.address, `${field}.address`);
      return { kind: 'point', point: key, spec };
    }
    default:
      throw badField(field, 'REQUIRED', 'set one of peer_id, address');
  }
}
