import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  createLogger,
  type LogLine,
  recordingTelemetry,
  withSpan,
} from '../../../src/telemetry/index.ts';

function capture(): { lines: LogLine[]; write: (line: string) => void } {
  const lines: LogLine[] = [];
  return { lines, write: (line) => lines.push(JSON.parse(line) as LogLine) };
}

test('logger: one JSON object per line with level label, ISO time and message', () => {
  const out = capture();
  const log = createLogger({ level: 'info', destination: out });
  log.info({ event: 'maintenance_started' }, 'maintenance started');
  log.debug('below the level');
  assert.equal(out.lines.length, 1);
  const line = out.lines[0] as LogLine;
  assert.equal(line.level, 'info');
  assert.equal(line.event, 'maintenance_started');
  assert.equal(line.msg, 'maintenance started');
  assert.match(String(line.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.equal('pid' in line, false);
  assert.equal('hostname' in line, false);
});

test('logger: a child bound to a node carries its peer id on every line', () => {
  const out = capture();
  const log = createLogger({ level: 'info', destination: out }).child({ node: 'mkabc' });
  log.info('x');
  assert.equal(out.lines[0]?.node, 'mkabc');
});

test('logger: lines inside a span carry trace_id and span_id, lines outside do not', async () => {
  const t = recordingTelemetry();
  t.log.info('before');
  await withSpan(t.tracer, 'maintenance.cycle', {}, async (span) => {
    await new Promise((resolve) => setImmediate(resolve)); // the context survives an await
    t.log.info('inside');
    const ids = span.spanContext();
    assert.equal(t.logs[1]?.trace_id, ids.traceId);
    assert.equal(t.logs[1]?.span_id, ids.spanId);
  });
  t.log.info('after');
  assert.equal(t.logs.length, 3);
  for (const i of [0, 2]) {
    assert.equal('trace_id' in (t.logs[i] as LogLine), false);
    assert.equal('span_id' in (t.logs[i] as LogLine), false);
  }
});

test('logger: secrets are redacted at the top level, one level down and in headers', () => {
  const out = capture();
  const log = createLogger({ level: 'info', destination: out });
  log.info(
    {
      token: 't0',
      admin: { token: 't1', password: 'p', secret: 's' },
      authorization: 'Bearer a',
      request: { headers: { authorization: 'Bearer b' } },
      identity: { privateKey: 'k' },
      peerId: 'mkvisible',
    },
    'with secrets',
  );
  const text = JSON.stringify(out.lines[0]);
  for (const secret of ['t0', 't1', '"p"', '"s"', 'Bearer', '"k"']) {
    assert.equal(text.includes(secret), false, `${secret} leaked: ${text}`);
  }
  assert.equal(out.lines[0]?.peerId, 'mkvisible');
  assert.equal(out.lines[0]?.token, '[redacted]');
});
