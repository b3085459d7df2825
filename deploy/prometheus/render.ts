import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { isMap, isSeq, parseDocument } from 'yaml';

/** The checked-in config (targets node-0 … node-4), the template of every other. */
export const prometheusConfigPath = new URL('./prometheus.yml', import.meta.url).pathname;

export interface RenderOptions {
  /** `host:port` of each node's HTTP listener. */
  targets: readonly string[];
  /** Prometheus duration, e.g. `1s`; the scrape timeout follows it. */
  scrapeInterval?: string;
}

/**
 * deploy/prometheus/prometheus.yml with the `meshkeeper` job's targets (and optionally the scrape
 * interval) replaced; everything else stays as checked in.
 */
export function renderPrometheusConfig(opts: RenderOptions): string {
  // A Document, not plain data: the comments of the checked-in file survive into the output.
  const doc = parseDocument(readFileSync(prometheusConfigPath, 'utf8'));
  const jobs = doc.get('scrape_configs');
  const job = isSeq(jobs)
    ? jobs.items.find((item) => isMap(item) && item.get('job_name') === 'meshkeeper')
    : undefined;
  if (!isMap(job)) throw new Error(`${prometheusConfigPath}: no 'meshkeeper' scrape job`);
  job.set('static_configs', doc.createNode([{ targets: [...opts.targets] }]));
  if (opts.scrapeInterval !== undefined) {
    doc.setIn(['global', 'scrape_interval'], opts.scrapeInterval);
    // A timeout above the interval is a configuration error.
    doc.setIn(['global', 'scrape_timeout'], opts.scrapeInterval);
    doc.setIn(['global', 'evaluation_interval'], opts.scrapeInterval);
  }
  return doc.toString();
}

// `node deploy/prometheus/render.ts --targets=127.0.0.11:9742,127.0.0.12:9742 [--scrape-interval=1s]`
if (import.meta.main) {
  const { values } = parseArgs({
    options: { targets: { type: 'string' }, 'scrape-interval': { type: 'string' } },
  });
  if (values.targets === undefined) {
    process.stderr.write('usage: render.ts --targets=host:port,… [--scrape-interval=1s]\n');
    process.exit(2);
  }
  process.stdout.write(
    renderPrometheusConfig({
      targets: values.targets.split(',').filter((t) => t !== ''),
      ...(values['scrape-interval'] === undefined
        ? {}
        : { scrapeInterval: values['scrape-interval'] }),
    }),
  );
}
