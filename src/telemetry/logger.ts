import { createRequire } from 'node:module';
import pino, { type DestinationStream, type LevelWithSilentOrString, type Logger } from 'pino';
import type PinoPretty from 'pino-pretty';
import { activeSpanIds } from './active-span.ts';

export type { DestinationStream, Logger };

export interface LoggerOptions {
  /** pino level name (`trace` … `fatal`, or `silent`). */
  level: LevelWithSilentOrString;
  /** Where JSON lines go; stdout when absent. Tests pass an in-memory stream. */
  destination?: DestinationStream;
  /**
   * Human-readable output on stdout (ignored when `destination` is given). Defaults to "stdout is
   * a TTY": a terminal gets colours, a pod's log collector always gets JSON.
   */
  pretty?: boolean;
}

/**
 * Paths whose values never reach a log line (DESIGN §8: secrets never appear anywhere). pino's
 * redaction matches exact paths, `*` being one level: add a path here rather than relying on
 * callers to strip secrets.
 */
export const redactPaths: readonly string[] = [
  'token',
  '*.token',
  'authorization',
  '*.authorization',
  '*.headers.authorization',
  'password',
  '*.password',
  'secret',
  '*.secret',
  'privateKey',
  '*.privateKey',
];

/**
 * A root logger: one JSON object per line with an ISO time and a level label, `trace_id` and
 * `span_id` added whenever a span is active, secrets redacted. No pid/hostname: several nodes may
 * share a process, so callers bind `node` (the peer id) with `log.child({ node })` instead.
 */
export function createLogger(opts: LoggerOptions): Logger {
  const options: pino.LoggerOptions = {
    level: opts.level,
    base: null,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    // Called for every line, so it stays a cheap lookup in the current context.
    mixin: () => activeSpanIds() ?? {},
    redact: { paths: [...redactPaths], censor: '[redacted]' },
  };
  if (opts.destination !== undefined) return pino(options, opts.destination);
  const pretty = opts.pretty ?? process.stdout.isTTY === true;
  const prettyOut = pretty ? prettyStream() : undefined;
  return prettyOut === undefined ? pino(options) : pino(options, prettyOut);
}

/** A logger that writes nothing (the default for unit tests). */
export function silentLogger(): Logger {
  return createLogger({ level: 'silent', destination: { write: () => {} } });
}

/** A parsed log line. */
export type LogLine = Record<string, unknown>;

/** A logger that keeps every line, parsed, in `lines` (for tests that assert on logs). */
export function recordingLogger(level: LevelWithSilentOrString = 'trace'): {
  log: Logger;
  lines: LogLine[];
} {
  const lines: LogLine[] = [];
  const destination: DestinationStream = {
    write: (line) => {
      lines.push(JSON.parse(line) as LogLine);
    },
  };
  return { log: createLogger({ level, destination }), lines };
}

const require = createRequire(import.meta.url);

/**
 * pino-pretty is a dev dependency, so it is loaded only when wanted and may be missing (the
 * production image has no TTY anyway); then the output stays JSON.
 */
function prettyStream(): DestinationStream | undefined {
  try {
    const build = require('pino-pretty') as typeof PinoPretty;
    return build({ colorize: true, translateTime: 'SYS:HH:MM:ss.l' });
  } catch {
    return undefined;
  }
}
