import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { context, createContextKey } from '@opentelemetry/api';
import { createTracing, noopTelemetry } from '../../../src/telemetry/index.ts';

// Its own file, hence its own process: nothing else here may have loaded the SDK.
test('tracing off: the OpenTelemetry SDK is never loaded and no process context is registered', async () => {
  noopTelemetry();
  const tracing = createTracing({
    serviceName: 'meshkeeper',
    serviceInstanceId: 'mka',
    version: 'test',
    env: {},
  });
  await tracing.shutdown();
  const loaded = Object.keys(createRequire(import.meta.url).cache);
  assert.deepEqual(
    loaded.filter((path) =>
      /@opentelemetry[\\/](sdk-node|exporter-trace-otlp-grpc)[\\/]/.test(path),
    ),
    [],
  );
  // Without a context manager the API's context never changes: nothing was registered.
  const key = createContextKey('probe');
  assert.equal(
    context.with(context.active().setValue(key, 1), () => context.active().getValue(key)),
    undefined,
  );
});
