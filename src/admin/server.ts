import { readFileSync } from 'node:fs';
import {
  type handleServerStreamingCall,
  type handleUnaryCall,
  Metadata,
  Server,
  ServerCredentials,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceError,
  status,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import { type Span, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { HealthImplementation } from 'grpc-health-check';
import { formatAddress, isLoopbackHost } from '../config/index.ts';
import type { Config } from '../config/types.ts';
import { extractContext, observe, withSpan } from '../telemetry/index.ts';
import { authInterceptor, TokenCheck } from './auth.ts';
import { eventKindNames } from './convert.ts';
import { AdminError, badField, codeName, toServiceError, withReason } from './errors.ts';
import { type NodeEventKind, nodeEventKinds } from './events.ts';
import { type CallContext, type UnaryMethod, unaryMethods } from './handlers.ts';
import type { WatchEventsRequest, WatchEventsResponse } from './messages.ts';
import { adminServiceDefinition, adminServiceName, reflectionPackageDefinition } from './proto.ts';
import type { AdminNode } from './types.ts';
import { EventWatch } from './watch.ts';

export interface AdminServerOptions {
  /** Events a WatchEvents stream may hold while its reader is behind (default 1024). */
  watchBufferEvents?: number;
  /** WatchEvents streams at once, all clients together (default 64). */
  maxWatchStreams?: number;
  /** How long `close` lets unary calls in flight finish before cutting them (default 5 s). */
  closeGraceMs?: number;
}

export type AdminStartErrorCode =
  | 'admin_token_required'
  | 'admin_tls_unreadable'
  | 'admin_bind_failed';

/** The admin server could not start; nothing is left listening. */
export class AdminStartError extends Error {
  readonly code: AdminStartErrorCode;

  constructor(code: AdminStartErrorCode, message: string, cause?: unknown) {
    super(message, { cause });
    this.name = 'AdminStartError';
    this.code = code;
  }
}

export interface AdminServer {
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
  /** Shutting down: health NOT_SERVING, new calls UNAVAILABLE, watch streams end (UNAVAILABLE). */
  drain(): void;
  /** Drains, lets calls in flight finish (bounded), and stops listening. */
  close(): Promise<void>;
}

/**
 * Room for the fields around a Publish payload: a message of gossip.maxMessageBytes must fit, a
 * bigger one is refused by grpc-js itself (RESOURCE_EXHAUSTED) before it is buffered whole.
 */
const envelopeBytes = 64 * 1024;
/** A full ListPoints page (1000 points) is well under 1 MiB. */
const maxSendBytes = 8 * 1024 * 1024;
/** HTTP/2 streams per client connection (SETTINGS_MAX_CONCURRENT_STREAMS). */
const maxConcurrentStreams = 64;
/** Server span status ERROR for these codes only (OpenTelemetry RPC conventions). */
const serverFaults = new Set<number>([
  status.UNKNOWN,
  status.DEADLINE_EXCEEDED,
  status.UNIMPLEMENTED,
  status.INTERNAL,
  status.UNAVAILABLE,
  status.DATA_LOSS,
]);

/**
 * The gRPC admin API of a node (DESIGN §9): AdminService, grpc.health.v1 and server reflection
 * on `admin.listen`, bearer-token authentication on everything but health, optional TLS/mTLS.
 * Secure by default: without a token it refuses to listen anywhere but loopback, before it binds.
 */
export async function startAdminServer(
  node: AdminNode,
  opts: AdminServerOptions = {},
): Promise<AdminServer> {
  const { admin } = node.config;
  const { log, metrics, tracer } = node.telemetry;
  const where = formatAddress(admin.listen);
  if (admin.token === undefined && !isLoopbackHost(admin.listen.host)) {
    throw new AdminStartError(
      'admin_token_required',
      `refusing to serve the admin API on ${where}: not a loopback address and no token (set admin.tokenFile or MESHKEEPER_ADMIN_TOKEN)`,
    );
  }
  const credentials = serverCredentials(admin.tls);
  const bufferEvents = opts.watchBufferEvents ?? 1024;
  const maxWatchStreams = opts.maxWatchStreams ?? 64;
  const check = new TokenCheck(admin.token);
  let draining = false;
  let inFlight = 0;
  const watches = new Set<EventWatch>();

  const record = (method: string, code: number, startedAt: number): void => {
    metrics.adminRequests.inc({ method, code: codeName(code) });
    observe(metrics.adminRequestDuration, { method }, (performance.now() - startedAt) / 1000);
  };

  const server = new Server({
    'grpc.max_receive_message_length': node.config.gossip.maxMessageBytes + envelopeBytes,
    'grpc.max_send_message_length': maxSendBytes,
    'grpc.max_concurrent_streams': maxConcurrentStreams,
    interceptors: [
      authInterceptor(check, (path, message) => {
        const method = path.slice(path.lastIndexOf('/') + 1);
        metrics.adminRequests.inc({ method, code: codeName(status.UNAUTHENTICATED) });
        log.warn({ event: 'admin_unauthenticated', method, reason: message }, 'admin call refused');
      }),
    ],
  });

  const health = new HealthImplementation({ '': 'SERVING', [adminServiceName]: 'SERVING' });
  health.addToServer(server);
  new ReflectionService(reflectionPackageDefinition()).addToServer(server);

  const stopSoon = (): void => {
    // After the reply is on its way: stop() drains this server first, then closes it.
    setImmediate(() => {
      node
        .stop()
        .catch((err: unknown) => log.error({ event: 'admin_shutdown_failed', err }, 'stop failed'));
    });
  };
  const implementation: UntypedServiceImplementation = {};
  for (const [name, method] of Object.entries(unaryMethods(node, stopSoon))) {
    implementation[name] = unaryHandler(name, method);
  }
  implementation.WatchEvents = watchHandler();
  server.addService(adminServiceDefinition(), implementation);

  const offPool = node.pool.onChange((event) => {
    if (event.type !== 'greylisted') return;
    node.events.emit({
      kind: 'ban',
      action: 'greylist',
      target:
        event.subject === 'ip'
          ? { kind: 'ip', ip: event.value }
          : { kind: 'peer', peerId: event.value },
      reason: event.reason,
    });
  });

  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(where, credentials, (err, bound) => (err ? reject(err) : resolve(bound))),
    );
  } catch (cause) {
    offPool();
    server.forceShutdown();
    throw new AdminStartError(
      'admin_bind_failed',
      `cannot listen on ${where}: ${cause instanceof Error ? cause.message : String(cause)}`,
      cause,
    );
  }
  log.info(
    {
      event: 'admin_started',
      host: admin.listen.host,
      port,
      tls: admin.tls !== undefined,
      mtls: admin.tls?.clientCa !== undefined,
      auth: check.required,
    },
    'admin API listening',
  );

  const drain = (): void => {
    if (draining) return;
    draining = true;
    health.setStatus('', 'NOT_SERVING');
    health.setStatus(adminServiceName, 'NOT_SERVING');
    for (const watch of watches) watch.close(status.UNAVAILABLE, 'the node is shutting down');
  };

  return {
    host: admin.listen.host,
    port,
    tls: admin.tls !== undefined,
    drain,
    async close() {
      drain();
      offPool();
      // Unary calls in flight may finish (bounded); streams that never end on their own (health
      // Watch) would hold tryShutdown for ever, so the server is then closed outright.
      const graceMs = opts.closeGraceMs ?? 5000;
      const deadline = Date.now() + graceMs;
      while (inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      // A moment for the last replies to leave, then whatever is still open is cut.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 250);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      log.info({ event: 'admin_stopped' }, 'admin API stopped');
    },
  };

  function unaryHandler(name: string, method: UnaryMethod): handleUnaryCall<unknown, unknown> {
    return (call, callback) => {
      const startedAt = performance.now();
      inFlight++;
      void withSpan(tracer, `admin.${name}`, spanOptions(name, call), async (span) => {
        const fields: Record<string, unknown> = {};
        const abort = new AbortController();
        const deadline = deadlineOf(call);
        const timer =
          deadline === undefined
            ? undefined
            : setTimeout(
                () =>
                  abort.abort(
                    new AdminError(status.DEADLINE_EXCEEDED, `${name}: deadline exceeded`),
                  ),
                Math.max(0, deadline - Date.now()),
              );
        const onCancel = (): void =>
          abort.abort(new AdminError(status.CANCELLED, 'cancelled by the caller'));
        call.on('cancelled', onCancel);
        const ctx: CallContext = {
          signal: abort.signal,
          note: (more) => Object.assign(fields, more),
        };
        let response: unknown;
        let failure: (Partial<ServiceError> & { code: status }) | undefined;
        try {
          if (draining) throw new AdminError(status.UNAVAILABLE, 'the node is shutting down');
          response = await method.handle(call.request, ctx);
        } catch (error) {
          failure = toServiceError(error);
          if (failure.code === status.INTERNAL) {
            log.error(
              { event: 'admin_internal_error', method: name, err: error },
              'admin call failed',
            );
          }
        } finally {
          clearTimeout(timer);
          call.off('cancelled', onCancel);
        }
        const code = failure?.code ?? status.OK;
        finishSpan(span, code, failure?.details);
        record(name, code, startedAt);
        if (method.mutating) {
          const line = {
            event: 'admin_call',
            method: name,
            code: codeName(code),
            durationMs: Math.round(performance.now() - startedAt),
            ...fields,
            ...(failure === undefined ? {} : { error: failure.details }),
          };
          log.info(line, `admin ${name}: ${codeName(code)}`);
        }
        inFlight--;
        if (failure !== undefined) callback(failure);
        else callback(null, response);
      });
    };
  }

  function watchHandler(): handleServerStreamingCall<WatchEventsRequest, WatchEventsResponse> {
    return (call) => {
      const startedAt = performance.now();
      void withSpan(tracer, 'admin.WatchEvents', spanOptions('WatchEvents', call), async (span) => {
        const fail = (error: unknown): void => {
          const failure = toServiceError(error);
          finishSpan(span, failure.code, failure.details);
          record('WatchEvents', failure.code, startedAt);
          call.emit('error', failure);
        };
        let kinds: Set<NodeEventKind>;
        try {
          if (draining) throw new AdminError(status.UNAVAILABLE, 'the node is shutting down');
          kinds = watchKinds(call.request);
          if (watches.size >= maxWatchStreams) {
            throw withReason(
              status.RESOURCE_EXHAUSTED,
              'TOO_MANY_WATCHERS',
              `${maxWatchStreams} WatchEvents streams are open already`,
            );
          }
        } catch (error) {
          fail(error);
          return;
        }
        let code: number = status.OK;
        let message = '';
        let ended: () => void = () => {};
        const done = new Promise<void>((resolve) => {
          ended = resolve;
        });
        const watch = new EventWatch(
          {
            write: (m) => call.write(m),
            once: (event, listener) => call.once(event, listener),
            fail: (c, m) => {
              code = c;
              message = m;
              call.emit('error', { code: c, details: m, metadata: new Metadata() });
              ended();
            },
            end: () => {
              call.end();
              ended();
            },
          },
          {
            kinds,
            bufferEvents,
            onOverflow: (dropped) => {
              metrics.eventsDropped.inc({ stream: 'watch_events' }, dropped);
              log.warn(
                { event: 'watch_overflow', dropped, buffer: bufferEvents },
                'WatchEvents reader too slow: stream ended',
              );
            },
          },
        );
        watches.add(watch);
        const off = node.events.on((event) => watch.push(event));
        call.on('cancelled', () => {
          if (watch.ended === undefined) code = status.CANCELLED;
          ended();
        });
        // Headers now, so the caller knows it is subscribed before the first event.
        call.sendMetadata(new Metadata());
        await done;
        off();
        watches.delete(watch);
        finishSpan(span, code, message);
        record('WatchEvents', code, startedAt);
      });
    };
  }
}

function spanOptions(
  name: string,
  call: ServerUnaryCall<unknown, unknown> | ServerWritableStream<unknown, unknown>,
) {
  const traceparent = call.metadata.get('traceparent')[0];
  return {
    kind: SpanKind.SERVER,
    parent: extractContext(typeof traceparent === 'string' ? traceparent : undefined),
    attributes: { 'rpc.system': 'grpc', 'rpc.service': adminServiceName, 'rpc.method': name },
  };
}

function finishSpan(span: Span, code: number, message: string | undefined): void {
  span.setAttribute('rpc.grpc.status_code', code);
  if (serverFaults.has(code))
    span.setStatus({ code: SpanStatusCode.ERROR, message: message ?? codeName(code) });
}

/** Epoch ms of the call's deadline, undefined when it has none. */
function deadlineOf(call: { getDeadline(): Date | number }): number | undefined {
  const deadline = call.getDeadline();
  const ms = deadline instanceof Date ? deadline.getTime() : deadline;
  return Number.isFinite(ms) ? ms : undefined;
}

const kindOfName = new Map<string, NodeEventKind>(
  nodeEventKinds.map((k) => [eventKindNames[k], k]),
);

function watchKinds(request: WatchEventsRequest): Set<NodeEventKind> {
  const kinds = new Set<NodeEventKind>();
  for (const name of request.kinds ?? []) {
    const kind = kindOfName.get(name);
    if (kind === undefined)
      throw badField('kinds', 'KIND_UNSPECIFIED', `not an event kind: ${name}`);
    kinds.add(kind);
  }
  return kinds;
}

function serverCredentials(tls: Config['admin']['tls']): ServerCredentials {
  if (tls === undefined) return ServerCredentials.createInsecure();
  const read = (key: string, path: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (cause) {
      throw new AdminStartError('admin_tls_unreadable', `${key}: cannot read ${path}`, cause);
    }
  };
  const cert = read('admin.tls.cert', tls.cert);
  const key = read('admin.tls.key', tls.key);
  const clientCa = tls.clientCa === undefined ? null : read('admin.tls.clientCa', tls.clientCa);
  return ServerCredentials.createSsl(
    clientCa,
    [{ cert_chain: cert, private_key: key }],
    clientCa !== null,
  );
}
