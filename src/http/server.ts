import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { NodeStatus } from '../status.ts';
import type { Metrics } from '../telemetry/metrics.ts';

const OPENMETRICS = 'application/openmetrics-text; version=1.0.0; charset=utf-8';
const PROMETHEUS_TEXT = 'text/plain; version=0.0.4; charset=utf-8';

export interface HttpDeps {
  registry: Metrics['registry'];
  status: () => NodeStatus | Promise<NodeStatus>;
  /** Ready or not, and why, for `/readyz`. */
  readiness: () => { ready: boolean; reason: string };
}

/**
 * Metrics and probes on their own port (DESIGN §8): `/metrics`, `/healthz` (the process answers:
 * never depends on peers), `/readyz`, `/debug/status`.
 */
export async function startHttpServer(
  host: string,
  port: number,
  deps: HttpDeps,
): Promise<{ address: AddressInfo; close(): Promise<void> }> {
  const app = express();
  app.disable('x-powered-by');
  // The registry's format is a setting of the registry, so scrapes take turns: a concurrent
  // scrape asking the other format must not see it switched under its feet.
  let scrapes: Promise<unknown> = Promise.resolve();
  app.get('/metrics', (req, res) => {
    // OpenMetrics (with exemplars) only when the scraper asks for it; Prometheus text otherwise.
    const openMetrics = (req.get('accept') ?? '').includes('application/openmetrics-text');
    const scrape = scrapes.then(async () => {
      const registry = deps.registry;
      const original = registry.contentType;
      registry.setContentType((openMetrics ? OPENMETRICS : PROMETHEUS_TEXT) as never);
      if (!openMetrics) restoreCounterNames(registry);
      try {
        const body = await registry.metrics();
        res.type(registry.contentType).send(body);
      } finally {
        registry.setContentType(original as never);
      }
    });
    scrapes = scrape.catch(() => {});
    scrape.catch((error: unknown) => res.status(500).type('text/plain').send(String(error)));
  });
  // Probes are never cached: a proxy answering from cache would hide a dead process.
  app.use(['/healthz', '/readyz'], (_req, res, next) => {
    res.set('cache-control', 'no-store');
    next();
  });
  // Liveness: answering at all proves the process and its event loop run. It never looks at
  // peers: a node without peers is not helped by a restart.
  app.get('/healthz', (_req, res) => {
    res.type('text/plain').send(`ok: up ${Math.floor(process.uptime())} s\n`);
  });
  app.get('/readyz', (_req, res) => {
    const { ready, reason } = deps.readiness();
    res
      .status(ready ? 200 : 503)
      .type('text/plain')
      .send(`${ready ? 'ready' : 'not ready'}: ${reason}\n`);
  });
  app.get('/debug/status', async (_req, res) => {
    res.json(await deps.status());
  });
  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(port, host, (error?: Error) => (error ? reject(error) : resolve(s)));
  });
  return {
    address: server.address() as AddressInfo,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * prom-client 15.1 strips `_total` from a counter's name, in place, whenever it renders OpenMetrics
 * (where the family is named without it); a Prometheus-text scrape after an OpenMetrics one would
 * then serve `meshkeeper_bytes` instead of `meshkeeper_bytes_total` (prometheus/client_js#829
 * removes the mutation). Every counter here is named `…_total` (DESIGN §8, and prom-client's own
 * `process_cpu_*_total`), so the suffix is put back before a text scrape.
 */
function restoreCounterNames(registry: HttpDeps['registry']): void {
  for (const metric of registry.getMetricsAsArray()) {
    const m = metric as unknown as { type?: string; name: string };
    if (m.type === 'counter' && !m.name.endsWith('_total')) m.name = `${m.name}_total`;
  }
}
