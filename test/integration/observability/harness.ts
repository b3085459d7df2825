import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { renderPrometheusConfig } from '../../../deploy/prometheus/render.ts';
import type { NodeStatus } from '../../../src/status.ts';
import { until } from '../../fixtures/scenario.ts';
import { findExecutable } from '../../fixtures/tools.ts';

export { findExecutable, until };

/*
 * Real processes for the observability tests: meshkeeper nodes (with the OTEL_* environment the
 * test chooses, which test/fixtures/node-process.ts does not allow), Prometheus and Jaeger. Every
 * process and temporary directory is registered with a Cleanup, which the test file runs in
 * `after` (and, should the test process die, the exit hook kills what is left).
 */

const MAIN = new URL('../../../bin/meshkeeper.js', import.meta.url).pathname;
const JAEGER_CONFIG = new URL('../../../deploy/jaeger/config.yaml', import.meta.url).pathname;

/** The scenario ports (test/fixtures/scenario.ts): P2P, admin = +1, HTTP = +2. */
export const P2P_PORT = 9740;
export const ADMIN_PORT = 9741;
export const HTTP_PORT = 9742;

export type LogLine = Record<string, unknown>;

/** Children of every Cleanup, killed if the test process exits with them still running. */
const liveChildren = new Set<ChildProcess>();
let exitHook = false;

/** Stops processes and removes directories, last registered first. */
export class Cleanup {
  readonly #steps: Array<() => Promise<void> | void> = [];

  child(child: ChildProcess): void {
    liveChildren.add(child);
    child.once('exit', () => liveChildren.delete(child));
    if (!exitHook) {
      exitHook = true;
      process.once('exit', () => {
        for (const c of liveChildren) if (c.exitCode === null) c.kill('SIGKILL');
      });
    }
  }

  add(step: () => Promise<void> | void): void {
    this.#steps.push(step);
  }

  tempDir(prefix: string): string {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    this.add(() => rmSync(dir, { recursive: true, force: true }));
    return dir;
  }

  async run(): Promise<void> {
    for (const step of this.#steps.splice(0).reverse()) {
      try {
        await step();
      } catch {
        // keep cleaning
      }
    }
  }
}

/** Stops `child` with `signal`, then SIGKILL after `graceMs`; resolves with its exit code. */
export async function stopChild(
  child: ChildProcess,
  signal: NodeJS.Signals = 'SIGTERM',
  graceMs = 10_000,
): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  const code = await exited;
  clearTimeout(timer);
  return code;
}

export interface MeshNode {
  host: string;
  child: ChildProcess;
  dataDir: string;
  /** Where the node's stdout (JSON lines) is written, as `meshkeeper cluster` does. */
  logFile: string;
  /** Every JSON log line so far, parsed. */
  logs: LogLine[];
  /** `http://host:9742` */
  httpUrl: string;
  waitForLog(predicate: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  status(): Promise<NodeStatus>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface NodeOptions {
  flags?: string[];
  /** Added to the test's environment; OTEL_* variables not given here are removed. */
  env?: Record<string, string>;
}

/** A real `meshkeeper run` on `host` at the scenario ports, logging JSON to `logFile`. */
export function startMeshNode(cleanup: Cleanup, host: string, opts: NodeOptions = {}): MeshNode {
  const dataDir = cleanup.tempDir('meshkeeper-obs-');
  const logFile = join(dataDir, 'node.log');
  const env: Record<string, string | undefined> = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith('OTEL_')) delete env[key];
  const child = spawn(
    process.execPath,
    [
      MAIN,
      'run',
      `--listen=${host}:${P2P_PORT}`,
      `--advertised-address=${host}:${P2P_PORT}`,
      `--admin-listen=${host}:${ADMIN_PORT}`,
      `--http-listen=${host}:${HTTP_PORT}`,
      `--data-dir=${dataDir}`,
      '--log-level=debug',
      ...(opts.flags ?? []),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...env, ...opts.env } },
  );
  cleanup.child(child);
  const logs: LogLine[] = [];
  const listeners = new Set<() => void>();
  const file = createWriteStream(logFile);
  if (child.stdout === null) throw new Error('no stdout pipe');
  createInterface({ input: child.stdout }).on('line', (line) => {
    file.write(`${line}\n`);
    try {
      logs.push(JSON.parse(line) as LogLine);
    } catch {
      logs.push({ raw: line });
    }
    for (const wake of listeners) wake();
  });
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr = (stderr + String(chunk)).slice(-4000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const httpUrl = `http://${host}:${HTTP_PORT}`;
  const node: MeshNode = {
    host,
    child,
    dataDir,
    logFile,
    logs,
    httpUrl,
    waitForLog(predicate, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          const found = logs.find(predicate);
          if (found === undefined) return false;
          done();
          resolve(found);
          return true;
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`${host}: timed out waiting for a log line; stderr: ${stderr}`));
        }, timeoutMs);
        const onLine = (): void => void check();
        const done = (): void => {
          clearTimeout(timer);
          listeners.delete(onLine);
        };
        if (check()) return;
        listeners.add(onLine);
        void exited.then(() => {
          if (check()) return;
          done();
          reject(new Error(`${host}: node exited; stderr: ${stderr}`));
        });
      });
    },
    async status() {
      const response = await fetch(`${httpUrl}/debug/status`);
      return (await response.json()) as NodeStatus;
    },
    async stop(signal = 'SIGTERM') {
      const code = await stopChild(child, signal);
      await new Promise<void>((resolve) => file.end(resolve));
      return code;
    },
  };
  cleanup.add(async () => {
    await node.stop('SIGTERM');
  });
  return node;
}

/** Whether `meshkeeper admin` exists in this tree (issue 5). */
export function hasAdminCli(): boolean {
  return existsSync(new URL('../../../src/cli/admin.ts', import.meta.url));
}

/**
 * `meshkeeper admin <args> --address=host:9741 --json` against a node; stdout parsed when it is
 * JSON.
 */
export function adminCli(
  host: string,
  args: string[],
): Promise<{ code: number; json: unknown; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [MAIN, 'admin', ...args, `--address=${host}:${ADMIN_PORT}`, '--json'],
      { timeout: 30_000 },
      (error, stdout, stderr) => {
        let json: unknown;
        try {
          json = JSON.parse(stdout);
        } catch {
          json = undefined;
        }
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, json, stderr });
      },
    );
  });
}

/** Flags that make `hosts` bootstrap from each other with `--connections=n`. */
export function clusterFlags(hosts: readonly string[], self: string, extra: string[] = []) {
  const others = hosts.filter((h) => h !== self).map((h) => `${h}:${P2P_PORT}`);
  return [`--bootstrap=${others.join(',')}`, ...extra];
}

/** The OTEL_* environment that turns tracing on, exporting to an OTLP/gRPC endpoint. */
export function tracingEnv(endpoint: string): Record<string, string> {
  return {
    OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
    OTEL_SERVICE_NAME: 'meshkeeper',
    OTEL_TRACES_SAMPLER: 'parentbased_always_on',
    // Spans leave within ~100 ms, so the query API has them by the time the test asks.
    OTEL_BSP_SCHEDULE_DELAY: '100',
  };
}

/** Waits until `url` answers 2xx. */
export async function waitHttpOk(url: string, timeoutMs: number, what: string): Promise<void> {
  await until(
    () => fetch(url, { signal: AbortSignal.timeout(1000) }).then((r) => r.status),
    (status) => status >= 200 && status < 300,
    timeoutMs,
    what,
  );
}

export interface PrometheusServer {
  url: string;
  /** An instant query; the `data.result` vector. */
  query(promql: string): Promise<PromSample[]>;
  /** `/api/v1/query_exemplars` over the last `lookbackSeconds`. */
  exemplars(promql: string, lookbackSeconds?: number): Promise<PromExemplarSeries[]>;
  /** `/api/v1/targets/metadata` for one metric family: the targets that declare it. */
  metadata(metric: string): Promise<{ target: Record<string, string>; type: string }[]>;
  stop(): Promise<void>;
}

export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

export interface PromExemplarSeries {
  seriesLabels: Record<string, string>;
  exemplars: { labels: Record<string, string>; value: string; timestamp: number }[];
}

/**
 * Debian's Prometheus with exemplar storage on, scraping `targets` with deploy/prometheus's
 * config (rendered with those targets and `scrapeInterval`), bound to `host:port`.
 */
export async function startPrometheus(
  cleanup: Cleanup,
  opts: { host: string; port: number; targets: readonly string[]; scrapeInterval: string },
): Promise<PrometheusServer> {
  const binary = findExecutable('prometheus');
  if (binary === undefined) throw new Error('prometheus not found: run scripts/install-tools.sh');
  const dir = cleanup.tempDir('meshkeeper-prom-');
  const configFile = join(dir, 'prometheus.yml');
  writeFileSync(
    configFile,
    renderPrometheusConfig({ targets: opts.targets, scrapeInterval: opts.scrapeInterval }),
  );
  const child = spawn(
    binary,
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=${opts.host}:${opts.port}`,
      '--enable-feature=exemplar-storage',
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const url = `http://${opts.host}:${opts.port}`;
  await serviceReady(cleanup, child, `${url}/-/ready`, 20_000, 'prometheus');
  const api = async <T>(path: string): Promise<T> => {
    const response = await fetch(`${url}${path}`);
    const body = (await response.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`${path}: ${body.error ?? response.status}`);
    return body.data;
  };
  return {
    url,
    query: async (promql) =>
      (await api<{ result: PromSample[] }>(`/api/v1/query?query=${encodeURIComponent(promql)}`))
        .result,
    exemplars: (promql, lookbackSeconds = 600) => {
      const end = Date.now() / 1000;
      const q = encodeURIComponent(promql);
      return api<PromExemplarSeries[]>(
        `/api/v1/query_exemplars?query=${q}&start=${end - lookbackSeconds}&end=${end + 1}`,
      );
    },
    metadata: (metric) =>
      api<{ target: Record<string, string>; type: string }[]>(
        `/api/v1/targets/metadata?metric=${encodeURIComponent(metric)}`,
      ),
    stop: async () => {
      await stopChild(child);
    },
  };
}

export interface JaegerServer {
  /** For OTEL_EXPORTER_OTLP_ENDPOINT. */
  otlpEndpoint: string;
  queryUrl: string;
  /** `/api/traces?service=…&operation=…`: traces, newest first. */
  traces(query: Record<string, string>): Promise<JaegerTrace[]>;
  /** `/api/traces/{id}`, or undefined while Jaeger does not have it. */
  trace(traceId: string): Promise<JaegerTrace | undefined>;
  stop(): Promise<void>;
}

export interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  references: { refType: string; traceID: string; spanID: string }[];
  tags: { key: string; type: string; value: unknown }[];
  processID: string;
  startTime: number;
}

export interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string; tags: { key: string; value: unknown }[] }>;
}

/** The Jaeger binary scripts/install-jaeger.sh builds, if it is there. */
export function jaegerBinary(): string | undefined {
  return findExecutable('jaeger');
}

/**
 * Hands a started backend to `cleanup` and waits until `readyUrl` answers 200; on failure the
 * error carries the end of its stderr (why Prometheus or Jaeger would not start).
 */
async function serviceReady(
  cleanup: Cleanup,
  child: ChildProcess,
  readyUrl: string,
  timeoutMs: number,
  name: string,
): Promise<void> {
  cleanup.child(child);
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr = (stderr + String(chunk)).slice(-4000);
  });
  cleanup.add(async () => {
    await stopChild(child);
  });
  try {
    await waitHttpOk(readyUrl, timeoutMs, `${name} ready`);
  } catch (error) {
    throw new Error(`${(error as Error).message}; ${name} stderr: ${stderr}`);
  }
}

/** Waits until every node has at least `peers` established connections. */
export async function waitEstablished(nodes: readonly MeshNode[], peers: number): Promise<void> {
  await Promise.all(
    nodes.map((n) =>
      until(
        () => n.status(),
        (s) => s.established >= peers,
        30_000,
        `${n.host} has ${peers} peers`,
      ),
    ),
  );
}

/**
 * Jaeger v2 with deploy/jaeger/config.yaml (memory storage, OTLP/gRPC in), every listener on
 * `host` at the given ports.
 */
export async function startJaeger(
  cleanup: Cleanup,
  opts: { host: string; otlpGrpcPort: number; queryHttpPort: number; basePort: number },
): Promise<JaegerServer> {
  const binary = jaegerBinary();
  if (binary === undefined) throw new Error('jaeger not built: run scripts/install-jaeger.sh');
  const child = spawn(binary, [`--config=${JAEGER_CONFIG}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      ...process.env,
      JAEGER_LISTEN_HOST: opts.host,
      JAEGER_OTLP_GRPC_PORT: String(opts.otlpGrpcPort),
      JAEGER_OTLP_HTTP_PORT: String(opts.basePort),
      JAEGER_QUERY_HTTP_PORT: String(opts.queryHttpPort),
      JAEGER_QUERY_GRPC_PORT: String(opts.basePort + 1),
      JAEGER_HEALTH_PORT: String(opts.basePort + 2),
    },
  });
  const queryUrl = `http://${opts.host}:${opts.queryHttpPort}`;
  await serviceReady(cleanup, child, `${queryUrl}/api/services`, 30_000, 'jaeger');
  return {
    otlpEndpoint: `http://${opts.host}:${opts.otlpGrpcPort}`,
    queryUrl,
    async traces(query) {
      const qs = new URLSearchParams({ lookback: '1h', limit: '500', ...query });
      const response = await fetch(`${queryUrl}/api/traces?${qs}`);
      const body = (await response.json()) as { data: JaegerTrace[] | null };
      return body.data ?? [];
    },
    async trace(traceId) {
      const response = await fetch(`${queryUrl}/api/traces/${traceId}`);
      if (response.status === 404) return undefined;
      const body = (await response.json()) as { data: JaegerTrace[] | null };
      return body.data?.[0];
    },
    stop: async () => {
      await stopChild(child);
    },
  };
}

/** A span's tag value, or undefined. */
export function tag(span: JaegerSpan, key: string): unknown {
  return span.tags.find((t) => t.key === key)?.value;
}

/** The `service.instance.id` (the node's peer id) of the process that emitted `span`. */
export function instanceOf(trace: JaegerTrace, span: JaegerSpan): string | undefined {
  const value = trace.processes[span.processID]?.tags.find(
    (t) => t.key === 'service.instance.id',
  )?.value;
  return typeof value === 'string' ? value : undefined;
}

/** The span id of `span`'s parent (its CHILD_OF reference), if any. */
export function parentOf(span: JaegerSpan): string | undefined {
  return span.references.find((r) => r.refType === 'CHILD_OF')?.spanID;
}

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
  exemplar?: Record<string, string>;
}

/**
 * The samples of a Prometheus text or OpenMetrics exposition (with OpenMetrics exemplars after
 * ` # `). Enough for these tests: label values are unescaped for `\\`, `\"` and `\n`.
 */
export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const [series = '', exemplarPart] = splitExemplar(line);
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(series);
    if (m === null) continue;
    const sample: Sample = {
      name: m[1] ?? '',
      labels: parseLabels(m[3] ?? ''),
      value: Number(m[4]),
    };
    if (exemplarPart !== undefined) {
      const e = /^\{(.*)\}/.exec(exemplarPart);
      if (e !== null) sample.exemplar = parseLabels(e[1] ?? '');
    }
    samples.push(sample);
  }
  return samples;
}

function splitExemplar(line: string): [string, string | undefined] {
  // ` # {` starts an exemplar; label values cannot hold it unescaped in our output.
  const at = line.indexOf(' # {');
  return at === -1 ? [line, undefined] : [line.slice(0, at), line.slice(at + 3)];
}

function parseLabels(body: string): Record<string, string> {
  const labels: Record<string, string> = {};
  const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
  for (let m = re.exec(body); m !== null; m = re.exec(body)) {
    labels[m[1] ?? ''] = (m[2] ?? '').replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
  }
  return labels;
}

export const OPENMETRICS_ACCEPT = 'application/openmetrics-text;version=1.0.0';
