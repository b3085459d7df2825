import Table from 'cli-table3';
import type { AdminCallError } from './client.ts';
import { msOf } from './convert.ts';
import type * as M from './messages.ts';

/**
 * How `meshkeeper admin` shows responses: `--json` gives each message with its proto field names,
 * times as RFC 3339 strings, durations in seconds (`"1.5s"`, as proto3 JSON writes them) and
 * bytes as hex; the default is tables for humans.
 */

const timestampFields = new Set([
  'time',
  'since',
  'until',
  'established_at',
  'last_seen_at',
  'last_failure_at',
  'last_success_at',
  'next_dial_at',
  'added_at',
]);
const durationFields = new Set(['uptime', 'duration', 'keep_alive_rtt']);
/** The names proto-loader gives oneofs: their value names the member set, which JSON shows anyway. */
const oneofNames = new Set(['target', 'event']);

/** A response as stable, script-friendly JSON data. */
export function toJson(value: unknown, field = ''): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('hex');
  if (Array.isArray(value)) return value.map((v) => toJson(v, field));
  if (value === null || typeof value !== 'object') return value;
  const record = value as Record<string, unknown>;
  if (timestampFields.has(field))
    return new Date(msOf(record as unknown as M.Timestamp)).toISOString();
  if (durationFields.has(field)) return `${msOf(record as unknown as M.Duration) / 1000}s`;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(record)) {
    if (oneofNames.has(key) && typeof v === 'string' && v in record) continue;
    out[key] = toJson(v, key);
  }
  return out;
}

export function jsonLine(value: unknown): string {
  return `${JSON.stringify(toJson(value))}\n`;
}

export function jsonBlock(value: unknown): string {
  return `${JSON.stringify(toJson(value), null, 2)}\n`;
}

function short(name: string | undefined, prefix: string): string {
  return (name ?? '').replace(prefix, '').toLowerCase() || '-';
}

function seconds(d: M.Duration | undefined, digits = 3): string {
  return d === undefined ? '-' : `${(msOf(d) / 1000).toFixed(digits)} s`;
}

function when(t: M.Timestamp | undefined): string {
  return t === undefined ? '-' : new Date(msOf(t)).toISOString();
}

function keyValues(rows: Array<[string, string | number | boolean | undefined]>): string {
  const table = new Table({ style: { head: [], border: [] } });
  for (const [key, value] of rows) table.push({ [key]: String(value ?? '-') });
  return `${table.toString()}\n`;
}

function grid(head: string[], rows: string[][]): string {
  const table = new Table({ head, style: { head: [], border: [] } });
  for (const row of rows) table.push(row);
  return `${table.toString()}\n`;
}

function band(b: M.BandMsg | undefined): string {
  return `${b?.min_threshold ?? 0} / ${b?.min_target ?? 0} / ${b?.max_target ?? 0} / ${b?.max_threshold ?? 0}`;
}

function bounds(b: M.BoundsMsg | undefined): string {
  return `${b?.min ?? 0} / ${b?.expected ?? 0} / ${b?.max ?? 0}`;
}

function cycleLine(c: M.CycleSummaryMsg | undefined): string {
  if (c === undefined) return '-';
  return `${short(c.motive, 'CYCLE_MOTIVE_')}: ${c.before ?? 0} → ${c.after ?? 0}, dialed ${c.dialed ?? 0} (${c.succeeded ?? 0} ok), closed ${c.closed ?? 0}${c.asked_for_more ? ', asked for more' : ''}, ${seconds(c.duration)}`;
}

export function statusTable(s: M.GetStatusResponse): string {
  const p = s.peers ?? {};
  const c = s.connections ?? {};
  const t = s.targets ?? {};
  return keyValues([
    ['peer id', s.peer_id],
    ['version', s.version],
    ['network', s.network],
    ['listen', s.listen_address],
    ['private mode', s.private_mode ?? false],
    ['uptime', seconds(s.uptime, 0)],
    ['bounds min / expected / max', bounds(s.bounds)],
    ['band thresholds / targets', band(s.band)],
    ['established', s.established ?? 0],
    ['peers hot / warm / cooling', `${p.hot ?? 0} / ${p.warm ?? 0} / ${p.cooling ?? 0}`],
    ['connections in / out', `${c.inbound ?? 0} / ${c.outbound ?? 0}`],
    ['hot target', t.hot_target],
    [
      'known points (cap high, low)',
      `${s.known_points ?? 0} (${t.max_known_points?.high}, ${t.max_known_points?.low})`,
    ],
    [
      'known peer ids (cap high, low)',
      `${s.known_peer_ids ?? 0} (${t.max_known_peer_ids?.high}, ${t.max_known_peer_ids?.low})`,
    ],
    ['connection failures', s.connection_failures ?? 0],
    ['last cycle', cycleLine(s.last_cycle)],
  ]);
}

export function cycleTable(c: M.CycleSummaryMsg | undefined): string {
  return keyValues([
    ['motive', short(c?.motive, 'CYCLE_MOTIVE_')],
    ['before', c?.before ?? 0],
    ['after', c?.after ?? 0],
    ['dialed', c?.dialed ?? 0],
    ['succeeded', c?.succeeded ?? 0],
    ['closed', c?.closed ?? 0],
    ['asked for more', c?.asked_for_more ?? false],
    ['duration', seconds(c?.duration)],
  ]);
}

export function boundsTable(r: M.BoundsResponse): string {
  return keyValues([
    ['min / expected / max', bounds(r.bounds)],
    ['min threshold / min target', `${r.band?.min_threshold ?? 0} / ${r.band?.min_target ?? 0}`],
    ['max target / max threshold', `${r.band?.max_target ?? 0} / ${r.band?.max_threshold ?? 0}`],
  ]);
}

export function targetsTable(r: M.SetTargetsResponse): string {
  const t = r.targets ?? {};
  return keyValues([
    ['hot target', t.hot_target],
    ['max known points (high, low)', `${t.max_known_points?.high}, ${t.max_known_points?.low}`],
    [
      'max known peer ids (high, low)',
      `${t.max_known_peer_ids?.high}, ${t.max_known_peer_ids?.low}`,
    ],
  ]);
}

function blocked(b: M.BlockMsg | undefined): string {
  if (b === undefined) return '';
  const what = `${short(b.reason, 'BLOCK_REASON_')} (${short(b.by, 'BLOCKED_BY_')})`;
  return b.until === undefined ? what : `${what} until ${when(b.until)}`;
}

function pageFooter(shown: number, total: number | undefined, next: string | undefined): string {
  const more = next ? `; next page: --page-token ${next}` : '';
  return `${shown} of ${total ?? shown}${more}\n`;
}

export function peersTable(r: M.ListPeersResponse): string {
  const rows = (r.peers ?? []).map((p) => [
    p.peer_id ?? '',
    short(p.status, 'PEER_STATUS_'),
    short(p.direction, 'DIRECTION_'),
    p.address ?? '',
    p.keep_alive_rtt === undefined ? '' : `${(msOf(p.keep_alive_rtt)).toFixed(1)} ms`,
    p.trusted ? 'yes' : '',
    blocked(p.blocked),
  ]);
  return (
    grid(['peer id', 'status', 'direction', 'address', 'rtt', 'trusted', 'blocked'], rows) +
    pageFooter(rows.length, r.total_size, r.next_page_token)
  );
}

export function pointsTable(r: M.ListPointsResponse): string {
  const rows = (r.points ?? []).map((p) => [
    p.address ?? '',
    short(p.state, 'POINT_STATE_'),
    p.peer_id ?? '',
    String(p.consecutive_failures ?? 0),
    p.last_failure_reason ?? '',
    when(p.next_dial_at),
    p.trusted ? 'yes' : '',
    blocked(p.blocked),
  ]);
  return (
    grid(
      [
        'address',
        'state',
        'peer id',
        'failures',
        'last failure',
        'next dial',
        'trusted',
        'blocked',
      ],
      rows,
    ) + pageFooter(rows.length, r.total_size, r.next_page_token)
  );
}

/** One line per event, for `meshkeeper admin watch`. */
export function eventLine(e: M.WatchEventsResponse): string {
  const at = when(e.time);
  const kind = short(e.kind, 'EVENT_KIND_');
  let what = '';
  if (e.status_change !== undefined) {
    const s = e.status_change;
    what = `${s.peer_id} ${short(s.from, 'PEER_STATUS_')} → ${short(s.to, 'PEER_STATUS_')} (${short(s.direction, 'DIRECTION_')}${s.address ? ` ${s.address}` : ''})`;
  } else if (e.cycle !== undefined) {
    what = cycleLine(e.cycle);
  } else if (e.bounds_change !== undefined) {
    what = `bounds ${bounds(e.bounds_change.bounds)}, band ${band(e.bounds_change.band)}`;
  } else if (e.ban_change !== undefined) {
    const b = e.ban_change;
    const target = b.target?.peer_id ?? b.target?.address ?? b.target?.ip ?? '';
    what = `${short(b.action, 'BAN_ACTION_')} ${target}${b.until ? ` until ${when(b.until)}` : ''}${b.reason ? ` (${b.reason})` : ''}`;
  } else if (e.trust_change !== undefined) {
    const t = e.trust_change;
    what = `${t.trusted ? 'trust' : 'untrust'} ${t.target?.peer_id ?? t.target?.address ?? ''}`;
  } else if (e.targets_change !== undefined) {
    const t = e.targets_change.targets;
    what = `hot target ${t?.hot_target}, known points ${t?.max_known_points?.high}/${t?.max_known_points?.low}`;
  }
  return `${at} ${kind} ${what}\n`;
}

/** A failed call for stderr: code, message, then each detail on its own line. */
export function errorText(error: AdminCallError): string {
  const lines = [`${error.codeName}: ${error.message}`];
  for (const detail of error.details) {
    switch (detail.type) {
      case 'bad_request':
        for (const v of detail.fieldViolations) {
          lines.push(`  field ${v.field}: ${v.description}${v.reason ? ` (${v.reason})` : ''}`);
        }
        break;
      case 'error_info':
        lines.push(`  reason: ${detail.reason}`);
        for (const [k, v] of Object.entries(detail.metadata)) lines.push(`  ${k}: ${v}`);
        break;
      case 'resource_info':
        lines.push(`  ${detail.resourceType}: ${detail.resourceName}`);
        break;
      case 'unknown':
        lines.push(`  detail of type ${detail.typeUrl}`);
        break;
      default: {
        const never: never = detail;
        return never;
      }
    }
  }
  return `${lines.join('\n')}\n`;
}
