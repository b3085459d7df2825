import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import {
  adminCli,
  Cleanup,
  clusterFlags,
  hasAdminCli,
  instanceOf,
  type JaegerServer,
  type JaegerSpan,
  type JaegerTrace,
  jaegerBinary,
  type MeshNode,
  OPENMETRICS_ACCEPT,
  P2P_PORT,
  parentOf,
  parseExposition,
  startJaeger,
  startMeshNode,
  tag,
  tracingEnv,
  until,
  waitEstablished,
} from './harness.ts';

/*
 * A real trace backend: Jaeger v2 (built by scripts/install-jaeger.sh, memory storage, OTLP/gRPC
 * in, deploy/jaeger/config.yaml), a 3-node cluster exporting to it. What the query API must
 * return: one trace holding both nodes' spans of one connection; a maintenance cycle with its
 * dials; the span a log line and an exemplar name.
 *
 * Without the binary the tests skip, except in CI (CI set), where .ci/run builds it: there a
 * missing binary is a failure.
 */

const HOSTS = ['127.0.11.11', '127.0.11.12', '127.0.11.13'];
const EXTRA = '127.0.11.14';
const JAEGER = { host: '127.0.11.1', otlpGrpcPort: 4317, queryHttpPort: 16686, basePort: 14318 };

const missing =
  jaegerBinary() === undefined
    ? 'jaeger is not built: run scripts/install-jaeger.sh (about 5 min once)'
    : undefined;
// In CI the test below fails instead; the others skip either way (they have nothing to query).
const skip = missing ?? false;

const cleanup = new Cleanup();
let jaeger: JaegerServer;
let nodes: MeshNode[] = [];
/** Peer id of each node, by host. */
const peerIds = new Map<string, string>();

before(async () => {
  if (missing !== undefined) return;
  jaeger = await startJaeger(cleanup, JAEGER);
  nodes = HOSTS.map((host) =>
    startMeshNode(cleanup, host, {
      flags: clusterFlags(HOSTS, host, ['--connections=4']),
      env: tracingEnv(jaeger.otlpEndpoint),
    }),
  );
  await waitEstablished(nodes, 2);
  for (const node of nodes) peerIds.set(node.host, (await node.status()).peerId);
});
after(() => cleanup.run());

if (missing !== undefined && process.env.CI !== undefined) {
  test('jaeger is built in CI', () => assert.fail(missing));
}

test('jaeger: one trace holds the dialer’s and the acceptor’s spans of one connection', {
  skip,
}, async () => {
  // A cycle's span reaches Jaeger when the cycle ends, after its dials' spans: wait for a trace
  // whose chain is complete.
  const complete = (t: JaegerTrace) => {
    const pair = crossNodeHandshake(t);
    if (pair === undefined) return undefined;
    const byId = new Map(t.spans.map((s) => [s.spanID, s]));
    const establish = byId.get(parentOf(pair.dialer) ?? '');
    if (establish === undefined) return undefined;
    const cycle = byId.get(parentOf(establish) ?? '');
    return cycle === undefined ? undefined : { ...pair, establish, cycle };
  };
  const found = await until(
    () => jaeger.traces({ service: 'meshkeeper', operation: 'wire.handshake' }),
    (traces) => traces.some((t) => complete(t) !== undefined),
    20_000,
    'a trace with both ends of a handshake and the cycle above them',
  );
  const trace = found.find((t) => complete(t) !== undefined) as JaegerTrace;
  const { dialer, acceptor, establish, cycle } = complete(trace) as NonNullable<
    ReturnType<typeof complete>
  >;
  const dialerNode = instanceOf(trace, dialer);
  const acceptorNode = instanceOf(trace, acceptor);
  assert.ok(dialerNode !== undefined && acceptorNode !== undefined);
  assert.notEqual(dialerNode, acceptorNode, 'two different nodes');
  assert.ok([...peerIds.values()].includes(dialerNode));
  assert.ok([...peerIds.values()].includes(acceptorNode));
  // Each side names the other: the acceptor's span joined the dialer's trace through the Hello.
  assert.equal(tag(dialer, 'meshkeeper.peer_id'), acceptorNode);
  assert.equal(tag(acceptor, 'meshkeeper.peer_id'), dialerNode);
  assert.equal(parentOf(acceptor), dialer.spanID);
  // Above the dialer's handshake: its dial (peer.establish) and the cycle that asked for it.
  assert.equal(establish.operationName, 'peer.establish');
  assert.equal(cycle.operationName, 'maintenance.cycle');
  assert.equal(instanceOf(trace, cycle), dialerNode);
});

test('jaeger: a maintenance cycle trace: maintenance.cycle → peer.establish → wire.dial, wire.tls, wire.handshake', {
  skip,
}, async () => {
  const traces = await until(
    () => jaeger.traces({ service: 'meshkeeper', operation: 'maintenance.cycle' }),
    (ts) => ts.some((t) => cycleWithDials(t) !== undefined),
    20_000,
    'a maintenance.cycle trace with dials',
  );
  const trace = traces.find((t) => cycleWithDials(t) !== undefined) as JaegerTrace;
  const cycle = cycleWithDials(trace) as JaegerSpan;
  assert.equal(parentOf(cycle), undefined, 'the cycle is the root (no admin RPC asked for it)');
  assert.ok(
    ['maintain_request', 'too_few', 'idle'].includes(String(tag(cycle, 'meshkeeper.motive'))),
  );
  const children = trace.spans.filter((s) => parentOf(s) === cycle.spanID);
  const establishes = children.filter((s) => s.operationName === 'peer.establish');
  assert.ok(establishes.length >= 1);
  // A dial to a peer already connected reuses that connection without a span.
  assert.ok(establishes.length <= Number(tag(cycle, 'meshkeeper.dials')));
  const succeeded = establishes.find((e) => tag(e, 'meshkeeper.peer_id') !== undefined);
  assert.ok(succeeded, 'at least one dial succeeded');
  const steps = trace.spans
    .filter((s) => parentOf(s) === succeeded.spanID && s.operationName.startsWith('wire.'))
    .sort((a, b) => a.startTime - b.startTime)
    .map((s) => s.operationName);
  assert.deepEqual(steps, ['wire.dial', 'wire.tls', 'wire.handshake']);
  // All of it from one node: the cycle's.
  const instances = new Set(
    [cycle, ...establishes].map((s) => instanceOf(trace, s)).filter((i) => i !== undefined),
  );
  assert.equal(instances.size, 1);
});

test('jaeger: the admin Maintain trace: admin.Maintain → maintenance.cycle → peer.establish → wire.*, and the new peer joins it', {
  skip,
}, async (t) => {
  if (!hasAdminCli()) {
    t.skip('awaits the admin API (issue 5): no admin RPC to start a traced Maintain yet');
    return;
  }
  // A fourth node nobody knows. The operator trusts it on node 0 and asks for a cycle: node 0 is
  // inside its band, so only the missing trusted point is dialed, by that Maintain.
  const extra = startMeshNode(cleanup, EXTRA, {
    flags: ['--connections-min=1', '--connections-expected=1', '--connections-max=2'],
    env: tracingEnv(jaeger.otlpEndpoint),
  });
  await extra.waitForLog((l) => l.event === 'node_started');
  const extraId = (await extra.status()).peerId;
  const node = nodes[0] as MeshNode;
  const trust = await adminCli(node.host, ['trust', `${EXTRA}:${P2P_PORT}`]);
  assert.equal(trust.code, 0, trust.stderr);
  const maintain = await adminCli(node.host, ['maintain']);
  assert.equal(maintain.code, 0, maintain.stderr);
  const traces = await until(
    () => jaeger.traces({ service: 'meshkeeper', operation: 'admin.Maintain' }),
    (ts) => ts.some((tr) => maintainTrace(tr, extraId) !== undefined),
    20_000,
    `an admin.Maintain trace that reaches ${extraId}`,
  );
  const trace = traces.find((tr) => maintainTrace(tr, extraId) !== undefined) as JaegerTrace;
  const { rpc, cycle, establish, acceptor } = maintainTrace(trace, extraId) as MaintainTrace;
  // This test failed once under load without saying why: every check names the trace's shape.
  const shape = outline(trace);
  assert.equal(parentOf(rpc), undefined, `the RPC is the root: ${shape}`);
  assert.equal(tag(rpc, 'rpc.method'), 'Maintain', shape);
  assert.equal(parentOf(cycle), rpc.spanID, shape);
  assert.equal(tag(cycle, 'meshkeeper.motive'), 'maintain_request', shape);
  assert.equal(parentOf(establish), cycle.spanID, shape);
  assert.equal(tag(establish, 'meshkeeper.point'), `${EXTRA}:${P2P_PORT}`, shape);
  const steps = trace.spans
    .filter((s) => parentOf(s) === establish.spanID && s.operationName.startsWith('wire.'))
    .sort((a, b) => a.startTime - b.startTime)
    .map((s) => s.operationName);
  assert.deepEqual(steps, ['wire.dial', 'wire.tls', 'wire.handshake'], shape);
  const nodeId = peerIds.get(node.host);
  for (const span of [rpc, cycle, establish]) assert.equal(instanceOf(trace, span), nodeId, shape);
  assert.equal(
    instanceOf(trace, acceptor),
    extraId,
    `the dialed node’s handshake is in it: ${shape}`,
  );
});

test('log correlation: a node’s maintenance_started line carries the trace and span ids of its maintenance.cycle span', {
  skip,
}, async () => {
  const node = nodes[0] as MeshNode;
  const peerId = peerIds.get(node.host);
  const lines = readFileSync(node.logFile, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const started = lines.find((l) => l.event === 'maintenance_started' && l.trace_id !== undefined);
  assert.ok(started, 'a maintenance_started line with a trace_id');
  assert.equal(started.node, peerId);
  const traceId = String(started.trace_id);
  const trace = await until(
    () => jaeger.trace(traceId),
    (t) => t?.spans.some((s) => s.spanID === started.span_id) === true,
    20_000,
    `trace ${traceId} in Jaeger`,
  );
  const span = trace?.spans.find((s) => s.spanID === started.span_id) as JaegerSpan;
  assert.equal(span.operationName, 'maintenance.cycle');
  assert.equal(instanceOf(trace as JaegerTrace, span), peerId);
  assert.equal(tag(span, 'meshkeeper.motive'), started.motive);
  // The cycle's end is logged in the same span.
  assert.ok(
    lines.some(
      (l) => l.event === 'maintenance_ended' && l.trace_id === traceId && l.span_id === span.spanID,
    ),
  );
});

test('exemplars lead to traces: histogram exemplars name spans that Jaeger has', {
  skip,
}, async () => {
  const checks = [
    ['meshkeeper_maintenance_cycle_duration_seconds_bucket', 'maintenance.cycle'],
    // Observed when the dial's handshake is done, in the dial's context: the dial's span.
    ['meshkeeper_handshake_duration_seconds_bucket', 'peer.establish'],
  ] as const;
  for (const [metric, operation] of checks) {
    const found = await exemplarOf(metric);
    assert.ok(found, `${metric} has an exemplar on some node`);
    const { node, exemplar } = found;
    const trace = await until(
      () => jaeger.trace(exemplar.trace_id ?? ''),
      (t) => t?.spans.some((s) => s.spanID === exemplar.span_id) === true,
      20_000,
      `the trace of ${metric}'s exemplar`,
    );
    const span = trace?.spans.find((s) => s.spanID === exemplar.span_id) as JaegerSpan;
    assert.equal(span.operationName, operation, metric);
    assert.equal(instanceOf(trace as JaegerTrace, span), peerIds.get(node.host));
  }
});

/** The first exemplar of `metric` on any node (scraped in OpenMetrics, as Prometheus does). */
async function exemplarOf(
  metric: string,
): Promise<{ node: MeshNode; exemplar: Record<string, string> } | undefined> {
  for (const node of nodes) {
    const response = await fetch(`${node.httpUrl}/metrics`, {
      headers: { accept: OPENMETRICS_ACCEPT },
    });
    const sample = parseExposition(await response.text()).find(
      (s) => s.name === metric && s.exemplar?.trace_id !== undefined,
    );
    if (sample?.exemplar !== undefined) return { node, exemplar: sample.exemplar };
  }
  return undefined;
}

/** Each span of `trace` as `operation (motive/point) ← parent operation`, for failure messages. */
function outline(trace: JaegerTrace): string {
  const byId = new Map(trace.spans.map((s) => [s.spanID, s]));
  return trace.spans
    .map((s) => {
      const detail = tag(s, 'meshkeeper.motive') ?? tag(s, 'meshkeeper.point');
      const parent = byId.get(parentOf(s) ?? '')?.operationName ?? 'root';
      return `${s.operationName}${detail === undefined ? '' : ` (${detail})`} ← ${parent}`;
    })
    .join('; ');
}

interface MaintainTrace {
  rpc: JaegerSpan;
  cycle: JaegerSpan;
  establish: JaegerSpan;
  acceptor: JaegerSpan;
}

/** admin.Maintain → maintenance.cycle → peer.establish (to `peerId`) → …, and `peerId`'s handshake. */
function maintainTrace(trace: JaegerTrace, peerId: string): MaintainTrace | undefined {
  const rpc = trace.spans.find((s) => s.operationName === 'admin.Maintain');
  const cycle = trace.spans.find(
    (s) => s.operationName === 'maintenance.cycle' && parentOf(s) === rpc?.spanID,
  );
  const establish = trace.spans.find(
    (s) =>
      s.operationName === 'peer.establish' &&
      parentOf(s) === cycle?.spanID &&
      tag(s, 'meshkeeper.peer_id') === peerId,
  );
  const acceptor = trace.spans.find(
    (s) => s.operationName === 'wire.handshake' && instanceOf(trace, s) === peerId,
  );
  if (rpc === undefined || cycle === undefined || establish === undefined) return undefined;
  if (acceptor === undefined) return undefined;
  return { rpc, cycle, establish, acceptor };
}

/** The dialer's and the acceptor's `wire.handshake` of one connection, when both are in `trace`. */
function crossNodeHandshake(
  trace: JaegerTrace,
): { dialer: JaegerSpan; acceptor: JaegerSpan } | undefined {
  const byId = new Map(trace.spans.map((s) => [s.spanID, s]));
  for (const acceptor of trace.spans) {
    if (acceptor.operationName !== 'wire.handshake') continue;
    if (tag(acceptor, 'meshkeeper.direction') !== 'inbound') continue;
    const dialer = byId.get(parentOf(acceptor) ?? '');
    if (dialer?.operationName !== 'wire.handshake') continue;
    if (tag(dialer, 'meshkeeper.direction') !== 'outbound') continue;
    return { dialer, acceptor };
  }
  return undefined;
}

/** The root maintenance.cycle span of `trace` if at least one of its dials succeeded. */
function cycleWithDials(trace: JaegerTrace): JaegerSpan | undefined {
  const cycle = trace.spans.find(
    (s) => s.operationName === 'maintenance.cycle' && parentOf(s) === undefined,
  );
  if (cycle === undefined) return undefined;
  const ok = trace.spans.some(
    (s) =>
      s.operationName === 'peer.establish' &&
      parentOf(s) === cycle.spanID &&
      tag(s, 'meshkeeper.peer_id') !== undefined,
  );
  return ok ? cycle : undefined;
}
