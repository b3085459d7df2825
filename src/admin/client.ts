import {
  type CallOptions,
  type ChannelOptions,
  type Client,
  type ClientReadableStream,
  credentials as channelCredentials,
  Metadata,
  type ServiceError,
  status,
} from '@grpc/grpc-js';
import type * as M from './messages.ts';
import { adminClientConstructor } from './proto.ts';
import { decodeRpcStatus, type ErrorDetail, statusDetailsKey } from './status-details.ts';

/** Request and response of each unary method of AdminService. */
export interface AdminMethods {
  GetStatus: [M.Empty, M.GetStatusResponse];
  Maintain: [M.Empty, M.MaintainResponse];
  Shutdown: [M.Empty, M.Empty];
  GetBounds: [M.Empty, M.BoundsResponse];
  SetBounds: [M.SetBoundsRequest, M.BoundsResponse];
  SetTargets: [M.SetTargetsRequest, M.SetTargetsResponse];
  ListPeers: [M.ListPeersRequest, M.ListPeersResponse];
  ListPoints: [M.ListPointsRequest, M.ListPointsResponse];
  Connect: [M.ConnectRequest, M.ConnectResponse];
  Disconnect: [M.DisconnectRequest, M.DisconnectResponse];
  Ban: [M.BanRequest, M.BanResponse];
  Unban: [M.UnbanRequest, M.Empty];
  Trust: [M.TrustRequest, M.Empty];
  Untrust: [M.TrustRequest, M.Empty];
  Publish: [M.PublishRequest, M.PublishResponse];
}

export type AdminMethod = keyof AdminMethods;

export interface AdminClientOptions {
  /** `host:port` of the admin API. */
  address: string;
  /** Sent as `authorization: Bearer <token>` on every call. */
  token?: string;
  /** TLS: the CA to trust (default: the system's), and a client certificate for mTLS. */
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer };
  /** Extra grpc-js channel options (tests use their own subchannel pool). */
  channelOptions?: ChannelOptions;
}

export interface CallSettings {
  /** Milliseconds from now; none when absent. */
  timeoutMs?: number;
  /** Extra metadata (e.g. a `traceparent`). */
  metadata?: Record<string, string>;
}

/** A failed call as a script or a test wants it: code, name, message, typed details. */
export interface AdminCallError {
  code: status;
  codeName: string;
  message: string;
  details: ErrorDetail[];
}

/** A typed grpc-js client of AdminService (used by `meshkeeper admin` and the tests). */
export class AdminClient {
  readonly #client: Client & Record<string, unknown>;
  readonly #token: string | undefined;

  constructor(opts: AdminClientOptions) {
    const Ctor = adminClientConstructor();
    const creds =
      opts.tls === undefined
        ? channelCredentials.createInsecure()
        : channelCredentials.createSsl(
            opts.tls.ca ?? null,
            opts.tls.key ?? null,
            opts.tls.cert ?? null,
          );
    this.#client = new Ctor(opts.address, creds, {
      'grpc.max_receive_message_length': 16 * 1024 * 1024,
      ...opts.channelOptions,
    }) as Client & Record<string, unknown>;
    this.#token = opts.token;
  }

  /** Calls a unary method; rejects with the grpc-js ServiceError (see `callError`). */
  call<K extends AdminMethod>(
    method: K,
    request: AdminMethods[K][0],
    settings: CallSettings = {},
  ): Promise<AdminMethods[K][1]> {
    const fn = this.#client[method] as (
      req: unknown,
      md: Metadata,
      options: CallOptions,
      cb: (err: ServiceError | null, res?: AdminMethods[K][1]) => void,
    ) => unknown;
    return new Promise((resolve, reject) => {
      fn.call(
        this.#client,
        request,
        this.#metadata(settings),
        this.#options(settings),
        (err, res) => {
          if (err) reject(err);
          else resolve(res ?? {});
        },
      );
    });
  }

  /** Opens a WatchEvents stream. */
  watch(
    request: M.WatchEventsRequest,
    settings: CallSettings = {},
  ): ClientReadableStream<M.WatchEventsResponse> {
    const fn = this.#client.WatchEvents as (
      req: unknown,
      md: Metadata,
      options: CallOptions,
    ) => ClientReadableStream<M.WatchEventsResponse>;
    return fn.call(this.#client, request, this.#metadata(settings), this.#options(settings));
  }

  /** Resolves once the channel is connected, or rejects after `timeoutMs`. */
  waitForReady(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) =>
      this.#client.waitForReady(Date.now() + timeoutMs, (err) => (err ? reject(err) : resolve())),
    );
  }

  close(): void {
    this.#client.close();
  }

  #metadata(settings: CallSettings): Metadata {
    const md = new Metadata();
    if (this.#token !== undefined) md.set('authorization', `Bearer ${this.#token}`);
    for (const [key, value] of Object.entries(settings.metadata ?? {})) md.set(key, value);
    return md;
  }

  #options(settings: CallSettings): CallOptions {
    return settings.timeoutMs === undefined ? {} : { deadline: Date.now() + settings.timeoutMs };
  }
}

/** The code, message and typed details of a failed call (anything else is UNKNOWN). */
export function callError(error: unknown): AdminCallError {
  const e = error as Partial<ServiceError> | undefined;
  const code = typeof e?.code === 'number' ? e.code : status.UNKNOWN;
  const raw = e?.metadata?.get(statusDetailsKey)[0];
  const decoded = raw instanceof Buffer ? decodeRpcStatus(raw) : undefined;
  return {
    code,
    codeName: status[code] ?? `CODE_${code}`,
    message: e?.details ?? (error instanceof Error ? error.message : String(error)),
    details: decoded?.details ?? [],
  };
}
