import {
  Counter,
  collectDefaultMetrics,
  Gauge,
  Histogram,
  type LabelValues,
  type OpenMetricsContentType,
  Registry,
} from 'prom-client';
import { type SpanIds, spanExemplar } from './active-span.ts';

/**
 * The metric catalog of DESIGN §8, one instance per node (tests run several nodes in one
 * process, so nothing here is global). Label values come from the closed sets below only:
 * a peer id, an address or free text never becomes a label.
 */
export const labelValues = {
  direction: ['inbound', 'outbound'],
  bound: ['min', 'expected', 'max', 'min_threshold', 'min_target', 'max_target', 'max_threshold'],
  status: ['cold', 'cooling', 'warm', 'hot'],
  pointState: ['requested', 'accepted', 'running', 'disconnected'],
  /** `meshkeeper_bytes_total{direction}`: bytes flow in or out, whichever side dialed. */
  byteDirection: ['in', 'out'],
  protocol: ['handshake', 'keep_alive', 'peer_sharing', 'gossip'],
  gossipEvent: ['published', 'delivered', 'duplicate', 'dropped'],
} as const;

export type Direction = (typeof labelValues.direction)[number];

const rttBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const setupBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const lifetimeBuckets = [1, 10, 60, 300, 900, 3600, 4 * 3600, 24 * 3600, 7 * 24 * 3600];

/**
 * A histogram with exemplars enabled. prom-client then replaces `observe` by its object form, so
 * the positional forms `observe(labels, value)` and `observe(value)` still type-check against
 * `Histogram` but throw "Value is not a valid number" at run time: this type offers only the form
 * that works, with `{trace_id, span_id}` exemplar labels. Prefer `observe()` below.
 */
export type ExemplarHistogram<L extends string> = Omit<Histogram<L>, 'observe'> & {
  observe(data: { value: number; labels?: LabelValues<L>; exemplarLabels?: SpanIds }): void;
};

/**
 * Observes `value`, with the current sampled span as exemplar (DESIGN §8: histograms point at the
 * span that observed them), or none outside a span.
 */
export function observe<L extends string>(
  histogram: ExemplarHistogram<L>,
  labels: LabelValues<L>,
  value: number,
): void {
  histogram.observe({ labels, value, exemplarLabels: spanExemplar() });
}

/** One label set of a HotCounter: increments are plain additions. */
export interface CounterCell {
  add(value: number): void;
}

/**
 * A counter incremented on a hot path (every frame, every handshake). prom-client validates and
 * hashes the label set on each `inc`, a few µs that added up to a visible share of a connection's
 * setup (bench/wire). Here a label set gets its cell once; increments add to it, and the sums go
 * into the prom-client counter whenever the registry collects it (each scrape, each `get()`), so
 * every reader sees the same totals.
 */
export class HotCounter<L extends string> {
  readonly counter: Counter<L>;
  readonly #labelNames: readonly L[];
  readonly #cells = new Map<string, { labels: LabelValues<L>; pending: number }>();

  constructor(
    name: string,
    help: string,
    labelNames: readonly L[],
    registers: Registry<OpenMetricsContentType>[],
  ) {
    this.#labelNames = labelNames;
    const cells = this.#cells;
    this.counter = new Counter<L>({
      name,
      help,
      labelNames,
      registers,
      collect() {
        for (const cell of cells.values()) {
          if (cell.pending === 0) continue;
          this.inc(cell.labels, cell.pending);
          cell.pending = 0;
        }
      },
    });
  }

  /** The cell of `labels`; keep it where the same labels are counted again and again. */
  cell(labels: LabelValues<L>): CounterCell {
    const key = this.#labelNames.map((name) => String(labels[name])).join('\u0000');
    let cell = this.#cells.get(key);
    if (cell === undefined) {
      // prom-client's own checks (label names, values) once, when the label set is new.
      this.counter.inc({ ...labels }, 0);
      cell = { labels: { ...labels }, pending: 0 };
      this.#cells.set(key, cell);
    }
    const counted = cell;
    return {
      add: (value) => {
        // Checked here, at the caller: a bad value kept pending would fail every later scrape.
        if (!Number.isFinite(value) || value < 0) {
          throw new RangeError(`counter increment must be a finite number ≥ 0, got ${value}`);
        }
        counted.pending += value;
      },
    };
  }

  inc(labels: LabelValues<L>, value = 1): void {
    this.cell(labels).add(value);
  }
}

const lintFailingDefaults = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

export function createMetrics(opts: { version: string; defaultMetrics?: boolean }) {
  const registry = new Registry<OpenMetricsContentType>();
  registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  if (opts.defaultMetrics !== false) {
    collectDefaultMetrics({ register: registry });
    // Gauges named like counters, which `promtool check metrics` rejects; each is the sum of its
    // per-type sibling (`sum(nodejs_active_handles)` gives it), so nothing is lost.
    for (const name of lintFailingDefaults) registry.removeSingleMetric(name);
  }
  const registers = [registry];

  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
    new Counter<L>({ name, help, labelNames, registers });
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
    new Gauge<L>({ name, help, labelNames, registers });
  const histogram = <L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    buckets: number[],
  ) =>
    // Narrowing cast: at run time `observe` is exactly the object form ExemplarHistogram declares.
    new Histogram<L>({
      name,
      help,
      labelNames,
      buckets,
      registers,
      enableExemplars: true,
    }) as ExemplarHistogram<L>;

  const buildInfo = gauge('meshkeeper_build_info', 'Build of this node (value is 1)', [
    'version',
    'node_version',
  ]);
  buildInfo.set({ version: opts.version, node_version: process.version }, 1);
  // Gauges over a closed label set read 0 from the start: "no connections" must be a 0 on the
  // dashboard, not a missing series that alerts and sum() silently skip.
  const connections = gauge('meshkeeper_connections', 'Established connections by direction', [
    'direction',
  ]);
  for (const direction of labelValues.direction) connections.set({ direction }, 0);
  const peers = gauge('meshkeeper_peers', 'Peers by status', ['status']);
  for (const status of labelValues.status) peers.set({ status }, 0);

  return {
    registry,
    buildInfo,
    connections,
    bounds: gauge('meshkeeper_bounds', 'Configured bounds and the derived band', ['bound']),
    peers,
    points: gauge('meshkeeper_points', 'Known points by state', ['state']),
    peerTransitions: counter('meshkeeper_peer_transitions_total', 'Peer status transitions', [
      'from',
      'to',
    ]),
    peerTransitionFailures: counter(
      'meshkeeper_peer_transition_failures_total',
      'Failed peer status transitions by failure type',
      ['transition', 'reason'],
    ),
    maintenanceCycles: counter(
      'meshkeeper_maintenance_cycles_total',
      'Maintenance cycles by motive',
      ['motive'],
    ),
    maintenanceCycleDuration: histogram(
      'meshkeeper_maintenance_cycle_duration_seconds',
      'Duration of a maintenance cycle',
      ['motive'],
      [0.001, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    ),
    maintenanceDials: counter('meshkeeper_maintenance_dials_total', 'Dials made by maintenance', [
      'result',
    ]),
    maintenanceDisconnects: counter(
      'meshkeeper_maintenance_disconnects_total',
      'Connections closed by maintenance',
      ['reason'],
    ),
    handshakes: new HotCounter(
      'meshkeeper_handshakes_total',
      'Handshakes by direction and result',
      ['direction', 'result'],
      registers,
    ),
    handshakeDuration: histogram(
      'meshkeeper_handshake_duration_seconds',
      'TCP connect (dialer only) + TLS + handshake duration',
      ['direction'],
      setupBuckets,
    ),
    connectionFailures: counter(
      'meshkeeper_connection_failures_total',
      'Connections that failed or were closed for a reason',
      ['reason'],
    ),
    connectionDuration: histogram(
      'meshkeeper_connection_duration_seconds',
      'Lifetime of established connections',
      ['direction'],
      lifetimeBuckets,
    ),
    keepAliveRtt: histogram(
      'meshkeeper_keepalive_rtt_seconds',
      'Keep-alive round-trip time',
      [],
      rttBuckets,
    ),
    bytes: new HotCounter(
      'meshkeeper_bytes_total',
      'Bytes sent and received, by mini-protocol',
      ['direction', 'protocol'],
      registers,
    ),
    pointsDiscovered: counter('meshkeeper_points_discovered_total', 'Points learnt, by source', [
      'source',
    ]),
    gossipMessages: counter('meshkeeper_gossip_messages_total', 'Gossip messages by event', [
      'event',
    ]),
    adminRequests: counter(
      'meshkeeper_admin_requests_total',
      'Admin RPCs by method and status code',
      ['method', 'code'],
    ),
    adminRequestDuration: histogram(
      'meshkeeper_admin_request_duration_seconds',
      'Admin RPC duration',
      ['method'],
      setupBuckets,
    ),
    eventsDropped: counter(
      'meshkeeper_events_dropped_total',
      'Events dropped because a stream consumer was too slow',
      ['stream'],
    ),
    persist: counter('meshkeeper_persist_total', 'Pool persistence attempts by result', ['result']),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
