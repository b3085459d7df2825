import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Where a process's busy CPU went, from the V8 CPU profile `node --cpu-prof` wrote: self time
 * summed by component (telemetry code apart from the rest), in % of the non-idle samples. Native
 * frames count for their JS caller; GC counts as "everything else" (an underestimate of what
 * telemetry's allocations cost).
 * A/B runs on a shared machine move ±10–20 % between runs (STACK); a profile attributes the cost
 * within one run instead.
 */
export interface Attribution {
  busyMs: number;
  /** Component → % of busy CPU. */
  percent: Record<Component, number>;
}

export type Component =
  | 'OpenTelemetry (API, SDK, OTLP exporter)'
  | 'gRPC (admin API; with tracing also the OTLP transport)'
  | 'metrics (prom-client)'
  | 'telemetry glue (src/telemetry, src/http)'
  | 'logs (pino)'
  | 'everything else';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function componentOf(url: string): Component {
  if (/node_modules\/(@opentelemetry|protobufjs|@protobufjs)\//.test(url)) {
    return 'OpenTelemetry (API, SDK, OTLP exporter)';
  }
  if (/node_modules\/@grpc\//.test(url)) {
    return 'gRPC (admin API; with tracing also the OTLP transport)';
  }
  if (/node_modules\/(prom-client|tdigest|bintrees)\//.test(url)) return 'metrics (prom-client)';
  if (/\/src\/(telemetry|http)\//.test(url)) return 'telemetry glue (src/telemetry, src/http)';
  if (/node_modules\/(pino|@pinojs|sonic-boom|thread-stream|fast-redact)/.test(url)) {
    return 'logs (pino)';
  }
  return 'everything else';
}

/**
 * The attribution of the single `.cpuprofile` in `dir`, leaving out the first `skipMs` of the
 * process (start-up: module loading is paid once).
 */
export function attribute(dir: string, skipMs = 0): Attribution {
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (file === undefined) throw new Error(`no .cpuprofile in ${dir}`);
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // Native frames (no URL: Buffer copies, writes, hashing…) count for the JS code that called them.
  const urlOf = (id: number): string => {
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const url = byId.get(cur)?.callFrame.url ?? '';
      if (url !== '') return url;
    }
    return '';
  };
  const us: Record<Component, number> = {
    'OpenTelemetry (API, SDK, OTLP exporter)': 0,
    'gRPC (admin API; with tracing also the OTLP transport)': 0,
    'metrics (prom-client)': 0,
    'telemetry glue (src/telemetry, src/http)': 0,
    'logs (pino)': 0,
    'everything else': 0,
  };
  let busy = 0;
  let elapsedUs = 0;
  profile.samples.forEach((id, i) => {
    const node = byId.get(id);
    const dt = profile.timeDeltas[i] ?? 0;
    elapsedUs += dt;
    if (elapsedUs < skipMs * 1000) return;
    if (node === undefined || node.callFrame.functionName === '(idle)') return;
    busy += dt;
    us[componentOf(urlOf(id))] += dt;
  });
  const percent = { ...us };
  for (const key of Object.keys(percent) as Component[]) {
    percent[key] = busy === 0 ? 0 : Math.round((us[key] / busy) * 1000) / 10;
  }
  return { busyMs: Math.round(busy / 1000), percent };
}
