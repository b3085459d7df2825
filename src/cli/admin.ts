import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { type Command, Option } from 'commander';
import type { AdminClient, AdminMethod, AdminMethods, CallSettings } from '../admin/client.ts';
import type * as M from '../admin/messages.ts';
import { isPeerId, parseAddress, parseDuration, parsePoint } from '../config/index.ts';
import type { CliContext } from './context.ts';

/**
 * `meshkeeper admin <command>`: every AdminService RPC for humans (tables) and scripts (`--json`,
 * stable exit codes). gRPC is loaded only when a command runs, so `--help` stays instant.
 */

/** Exit codes scripts may rely on (also in `meshkeeper admin --help`). */
export const ADMIN_EXIT = {
  ok: 0,
  /** The call failed with a status not listed below (INTERNAL, UNKNOWN, CANCELLED, …). */
  failed: 1,
  /** A usage error (nothing was sent), or the node refused the arguments (INVALID_ARGUMENT). */
  usage: 2,
  /** UNAUTHENTICATED or PERMISSION_DENIED: missing or wrong token, or certificate. */
  unauthenticated: 3,
  /** UNAVAILABLE: the node cannot be reached, or is shutting down. */
  unavailable: 4,
  /** DEADLINE_EXCEEDED: --timeout passed first (the node may still finish the work). */
  deadline: 5,
  /** NOT_FOUND: no such peer, point, ban or trust. */
  notFound: 6,
  /** FAILED_PRECONDITION: e.g. Connect refused by the remote (its reason is printed). */
  precondition: 7,
  /** RESOURCE_EXHAUSTED: a limit (bans, trust, watchers, message size; a too slow watch). */
  exhausted: 8,
} as const;

const exitHelp = `
Exit codes:
  0  success
  1  the call failed (any status not listed below)
  2  usage error, or the node refused an argument (INVALID_ARGUMENT; the field is named)
  3  unauthenticated (UNAUTHENTICATED / PERMISSION_DENIED)
  4  node unreachable or shutting down (UNAVAILABLE)
  5  deadline exceeded (--timeout)
  6  not found (NOT_FOUND)
  7  failed precondition, e.g. a connection refused by the remote (FAILED_PRECONDITION)
  8  a limit was reached (RESOURCE_EXHAUSTED)

Environment:
  MESHKEEPER_ADMIN_ADDRESS  admin API address (default 127.0.0.1:9741)
  MESHKEEPER_ADMIN_TOKEN    bearer token (prefer it, or --token-file, to --token: a flag shows in ps)
`;

/** gRPC status codes (numbers, as grpc-js) → exit codes. */
export function exitCodeOf(code: number): number {
  switch (code) {
    case 0:
      return ADMIN_EXIT.ok;
    case 3:
      return ADMIN_EXIT.usage;
    case 16:
    case 7:
      return ADMIN_EXIT.unauthenticated;
    case 14:
      return ADMIN_EXIT.unavailable;
    case 4:
      return ADMIN_EXIT.deadline;
    case 5:
      return ADMIN_EXIT.notFound;
    case 9:
      return ADMIN_EXIT.precondition;
    case 8:
      return ADMIN_EXIT.exhausted;
    default:
      return ADMIN_EXIT.failed;
  }
}

class UsageError extends Error {}

interface CommonOptions {
  address?: string;
  token?: string;
  tokenFile?: string;
  tls?: boolean;
  ca?: string;
  cert?: string;
  key?: string;
  timeout?: string;
  json?: boolean;
}

type Run = (
  args: string[],
  opts: CommonOptions & Record<string, unknown>,
  io: AdminIo,
) => Promise<number>;

interface AdminIo {
  ctx: CliContext;
  client: AdminClient;
  json: boolean;
  settings: CallSettings;
  call<K extends AdminMethod>(method: K, request: AdminMethods[K][0]): Promise<AdminMethods[K][1]>;
  out(text: string): void;
}

const DEFAULT_ADDRESS = '127.0.0.1:9741';
const DEFAULT_TIMEOUT = '60s';

export function registerAdmin(
  program: Command,
  ctx: CliContext,
  setExitCode: (code: number) => void,
): void {
  const admin = program
    .command('admin')
    .description('administer a running node over its gRPC admin API')
    .addHelpText('after', exitHelp);

  const leaf = (name: string, description: string, run: Run, configure?: (c: Command) => void) => {
    const cmd = admin.command(name).description(description);
    configure?.(cmd);
    withCommonOptions(cmd);
    cmd.action(async (...raw: unknown[]) => {
      const command = raw.at(-1) as Command;
      setExitCode(await execute(command, ctx, run));
    });
    return cmd;
  };

  leaf(
    'status',
    'identity, bounds and band, targets, peer counts, last cycle',
    async (_a, _o, io) => {
      const res = await io.call('GetStatus', {});
      io.out(io.json ? (await fmt()).jsonBlock(res) : (await fmt()).statusTable(res));
      return ADMIN_EXIT.ok;
    },
  );

  leaf('maintain', 'run one maintenance cycle now and show its summary', async (_a, _o, io) => {
    const res = await io.call('Maintain', {});
    io.out(io.json ? (await fmt()).jsonBlock(res) : (await fmt()).cycleTable(res.cycle));
    return ADMIN_EXIT.ok;
  });

  const bounds = admin.command('bounds').description('show or change the connection bounds');
  const boundsLeaf = (
    name: string,
    description: string,
    run: Run,
    configure?: (c: Command) => void,
  ) => {
    const cmd = bounds.command(name).description(description);
    configure?.(cmd);
    withCommonOptions(cmd);
    cmd.action(async (...raw: unknown[]) =>
      setExitCode(await execute(raw.at(-1) as Command, ctx, run)),
    );
  };
  boundsLeaf('get', 'the bounds in force and their band', async (_a, _o, io) => {
    const res = await io.call('GetBounds', {});
    io.out(io.json ? (await fmt()).jsonBlock(res) : (await fmt()).boundsTable(res));
    return ADMIN_EXIT.ok;
  });
  boundsLeaf(
    'set',
    'new bounds, applied at once (a bounds_changed cycle follows)',
    async (_a, o, io) => {
      const req: M.SetBoundsRequest = {
        min: integerFlag('--min', o.min),
        expected: integerFlag('--expected', o.expected),
        max: integerFlag('--max', o.max),
      };
      const res = await io.call('SetBounds', req);
      io.out(io.json ? (await fmt()).jsonBlock(res) : (await fmt()).boundsTable(res));
      return ADMIN_EXIT.ok;
    },
    (c) =>
      c
        .requiredOption('--min <n>', 'fewest established peers wanted')
        .requiredOption('--expected <n>', 'established peers aimed at')
        .requiredOption('--max <n>', 'most established peers accepted'),
  );

  leaf(
    'targets',
    'change the hot target and the pool caps',
    async (_a, o, io) => {
      const req: M.SetTargetsRequest = {};
      if (o.hotTarget !== undefined) req.hot_target = integerFlag('--hot-target', o.hotTarget);
      if (o.maxKnownPoints !== undefined)
        req.max_known_points = pairFlag('--max-known-points', o.maxKnownPoints);
      if (o.maxKnownPeerIds !== undefined) {
        req.max_known_peer_ids = pairFlag('--max-known-peer-ids', o.maxKnownPeerIds);
      }
      if (Object.keys(req).length === 0)
        throw new UsageError(
          'give at least one of --hot-target, --max-known-points, --max-known-peer-ids',
        );
      const res = await io.call('SetTargets', req);
      io.out(io.json ? (await fmt()).jsonBlock(res) : (await fmt()).targetsTable(res));
      return ADMIN_EXIT.ok;
    },
    (c) =>
      c
        .option('--hot-target <n>', 'hot peers the governor keeps')
        .option('--max-known-points <high,low>', 'known-points cap')
        .option('--max-known-peer-ids <high,low>', 'known-peer-ids cap'),
  );

  leaf(
    'peers',
    'known and live peers (one page; --all for every page)',
    async (_a, o, io) => {
      const statuses = listFlag(o.status).map(
        (s) => `PEER_STATUS_${s.toUpperCase()}` as M.PeerStatusName,
      );
      const pages = await pagesOf(o, async (page_token, page_size) =>
        io.call('ListPeers', { statuses, page_size, page_token }),
      );
      const merged: M.ListPeersResponse = {
        peers: pages.flatMap((p) => p.peers ?? []),
        next_page_token: pages.at(-1)?.next_page_token ?? '',
        total_size: pages.at(-1)?.total_size ?? 0,
      };
      io.out(io.json ? (await fmt()).jsonBlock(merged) : (await fmt()).peersTable(merged));
      return ADMIN_EXIT.ok;
    },
    (c) => pageOptions(c.option('--status <list>', 'only these statuses: cold,cooling,warm,hot')),
  );

  leaf(
    'points',
    'known points (one page; --all for every page)',
    async (_a, o, io) => {
      const states = listFlag(o.state).map(
        (s) => `POINT_STATE_${s.toUpperCase()}` as M.PointStateName,
      );
      const pages = await pagesOf(o, async (page_token, page_size) =>
        io.call('ListPoints', { states, page_size, page_token }),
      );
      const merged: M.ListPointsResponse = {
        points: pages.flatMap((p) => p.points ?? []),
        next_page_token: pages.at(-1)?.next_page_token ?? '',
        total_size: pages.at(-1)?.total_size ?? 0,
      };
      io.out(io.json ? (await fmt()).jsonBlock(merged) : (await fmt()).pointsTable(merged));
      return ADMIN_EXIT.ok;
    },
    (c) =>
      pageOptions(
        c.option('--state <list>', 'only these states: requested,accepted,running,disconnected'),
      ),
  );

  leaf(
    'connect',
    'dial host:port[#peerId] and wait for the handshake (exit 7 with the refusal reason)',
    async ([address], _o, io) => {
      if (address === undefined || !parsePoint(address).ok)
        throw new UsageError(`not host:port[#peerId]: ${address}`);
      const res = await io.call('Connect', { address });
      if (io.json) io.out((await fmt()).jsonBlock(res));
      else {
        const p = res.peer ?? {};
        const how = res.already_connected ? 'already connected to' : 'connected to';
        io.out(
          `${how} ${p.peer_id} (${(p.direction ?? '').replace('DIRECTION_', '').toLowerCase()}) at ${p.address ?? address}\n`,
        );
      }
      return ADMIN_EXIT.ok;
    },
    (c) => c.argument('<address>', 'host:port, optionally #peerId'),
  );

  leaf(
    'disconnect',
    'close a live peer, by peer id or host:port',
    async ([target], _o, io) => {
      const req: M.DisconnectRequest = isPeerId(target ?? '')
        ? { peer_id: target }
        : { address: addressArg(target) };
      const res = await io.call('Disconnect', req);
      io.out(io.json ? (await fmt()).jsonBlock(res) : `disconnected ${res.peer_id}\n`);
      return ADMIN_EXIT.ok;
    },
    (c) => c.argument('<target>', 'peer id or host:port'),
  );

  leaf(
    'ban',
    'ban a peer id, host:port or IP (closes its connections)',
    async ([target], o, io) => {
      const req: M.BanRequest = { target: banTarget(target) };
      if (o.duration !== undefined) {
        const ms = parseDuration(String(o.duration));
        if (!ms.ok) throw new UsageError(`--duration: ${ms.error.message}`);
        req.duration = { seconds: Math.floor(ms.value / 1000), nanos: (ms.value % 1000) * 1e6 };
      }
      const res = await io.call('Ban', req);
      const until =
        res.ban?.until === undefined
          ? 'permanently'
          : `until ${(await fmt()).toJson(res.ban.until, 'until')}`;
      io.out(
        io.json
          ? (await fmt()).jsonBlock(res)
          : `banned ${target} ${until}; closed ${res.closed_connections ?? 0} connection(s)\n`,
      );
      return ADMIN_EXIT.ok;
    },
    (c) =>
      c
        .argument('<target>', 'peer id, host:port or IP')
        .option('--duration <duration>', 'e.g. 30m, 24h (default: permanent)'),
  );

  leaf(
    'unban',
    'lift a ban',
    async ([target], _o, io) => {
      await io.call('Unban', { target: banTarget(target) });
      io.out(io.json ? '{}\n' : `unbanned ${target}\n`);
      return ADMIN_EXIT.ok;
    },
    (c) => c.argument('<target>', 'peer id, host:port or IP, as banned'),
  );

  for (const [name, method, verb] of [
    ['trust', 'Trust', 'trusted'],
    ['untrust', 'Untrust', 'untrusted'],
  ] as const) {
    leaf(
      name,
      name === 'trust'
        ? 'trust a peer id or host:port (always kept, never greylisted)'
        : 'end a trust',
      async ([target], _o, io) => {
        await io.call(method, { target: trustTarget(target) });
        io.out(io.json ? '{}\n' : `${verb} ${target}\n`);
        return ADMIN_EXIT.ok;
      },
      (c) => c.argument('<target>', 'peer id or host:port'),
    );
  }

  leaf(
    'watch',
    'stream events (status changes, cycles, bounds, bans, trust) until Ctrl-C',
    async (_a, o, io) => {
      const kinds = listFlag(o.kind).map((k) => `EVENT_KIND_${k.toUpperCase()}` as M.EventKindName);
      const count = o.count === undefined ? undefined : integerFlag('--count', o.count);
      const f = await fmt();
      return watch(io, kinds, count, (e) => io.out(io.json ? f.jsonLine(e) : f.eventLine(e)));
    },
    (c) =>
      c
        .option(
          '--kind <list>',
          'only these: status_change,cycle,bounds_change,ban,trust,targets_change',
        )
        .option('--count <n>', 'stop after this many events'),
  );

  leaf(
    'publish',
    'gossip a message (the text argument, or --file)',
    async ([text], o, io) => {
      const payload =
        o.file !== undefined
          ? readFileSync(String(o.file))
          : text !== undefined
            ? Buffer.from(text, 'utf8')
            : undefined;
      if (payload === undefined) throw new UsageError('give the message text or --file <path>');
      const res = await io.call('Publish', { payload });
      const id = Buffer.from(res.id ?? []).toString('hex');
      io.out(
        io.json
          ? (await fmt()).jsonBlock(res)
          : `${res.fresh ? 'published' : 'already seen'} ${id}\n`,
      );
      return ADMIN_EXIT.ok;
    },
    (c) =>
      c
        .argument('[text]', 'the message, as UTF-8')
        .option('--file <path>', 'publish the bytes of a file'),
  );

  leaf(
    'shutdown',
    'stop the node gracefully (it persists its pool and exits 0)',
    async (_a, _o, io) => {
      await io.call('Shutdown', {});
      io.out(io.json ? '{}\n' : 'node shutting down\n');
      return ADMIN_EXIT.ok;
    },
  );
}

function withCommonOptions(cmd: Command): void {
  cmd
    .addOption(
      new Option(
        '--address <host:port>',
        `admin API address (env MESHKEEPER_ADMIN_ADDRESS; default ${DEFAULT_ADDRESS})`,
      ),
    )
    .addOption(new Option('--token <token>', 'bearer token (env MESHKEEPER_ADMIN_TOKEN)'))
    .addOption(new Option('--token-file <path>', 'file holding the bearer token'))
    .addOption(new Option('--tls', 'use TLS (system CAs unless --ca)'))
    .addOption(new Option('--ca <file>', 'CA bundle (PEM) to trust; implies --tls'))
    .addOption(new Option('--cert <file>', 'client certificate (PEM) for mTLS; implies --tls'))
    .addOption(new Option('--key <file>', 'client key (PEM) for mTLS'))
    .addOption(
      new Option(
        '--timeout <duration>',
        `deadline of the call (default ${DEFAULT_TIMEOUT}; none for watch)`,
      ),
    )
    .addOption(new Option('--json', 'print JSON (one object; one per line for watch)'));
  cmd.addHelpText('after', exitHelp);
}

function pageOptions(cmd: Command): Command {
  return cmd
    .option('--page-size <n>', 'entries per page (1 … 1000; default 100)')
    .option('--page-token <token>', 'the page after this token')
    .option('--all', 'fetch every page');
}

async function pagesOf<T extends { next_page_token?: string }>(
  o: Record<string, unknown>,
  fetch: (token: string, size: number | undefined) => Promise<T>,
): Promise<T[]> {
  const size = o.pageSize === undefined ? undefined : integerFlag('--page-size', o.pageSize);
  const pages: T[] = [];
  let token = o.pageToken === undefined ? '' : String(o.pageToken);
  do {
    const page = await fetch(token, size);
    pages.push(page);
    token = page.next_page_token ?? '';
  } while (o.all === true && token !== '');
  return pages;
}

async function execute(command: Command, ctx: CliContext, run: Run): Promise<number> {
  const opts = command.optsWithGlobals() as CommonOptions & Record<string, unknown>;
  let client: AdminClient | undefined;
  try {
    const connection = connectionOf(opts, ctx);
    const { AdminClient } = await import('../admin/client.ts');
    client = new AdminClient(connection.client);
    const settings: CallSettings =
      connection.timeoutMs === undefined ? {} : { timeoutMs: connection.timeoutMs };
    const io: AdminIo = {
      ctx,
      client,
      json: opts.json === true,
      settings,
      call: (method, request) => (client as AdminClient).call(method, request, settings),
      out: (text) => ctx.stdout(text),
    };
    return await run(command.args, opts, io);
  } catch (error) {
    if (error instanceof UsageError) {
      ctx.stderr(`meshkeeper admin: ${error.message}\n`);
      return ADMIN_EXIT.usage;
    }
    const { callError } = await import('../admin/client.ts');
    const { errorText } = await fmt();
    const failure = callError(error);
    if (opts.json === true) {
      ctx.stderr(
        `${JSON.stringify({ code: failure.codeName, message: failure.message, details: failure.details })}\n`,
      );
    } else ctx.stderr(`meshkeeper admin: ${errorText(failure)}`);
    return exitCodeOf(failure.code);
  } finally {
    client?.close();
  }
}

interface Connection {
  client: { address: string; token?: string; tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer } };
  timeoutMs: number | undefined;
}

function connectionOf(opts: CommonOptions, ctx: CliContext): Connection {
  const address = opts.address ?? (ctx.env.MESHKEEPER_ADMIN_ADDRESS || DEFAULT_ADDRESS);
  if (!parseAddress(address).ok) throw new UsageError(`--address: not host:port: ${address}`);
  let token = opts.token;
  if (token === undefined && opts.tokenFile !== undefined)
    token = readSmall(opts.tokenFile, '--token-file').trim();
  if (token === undefined && ctx.env.MESHKEEPER_ADMIN_TOKEN)
    token = ctx.env.MESHKEEPER_ADMIN_TOKEN.trim();
  const useTls = opts.tls === true || opts.ca !== undefined || opts.cert !== undefined;
  if ((opts.cert === undefined) !== (opts.key === undefined))
    throw new UsageError('--cert and --key go together');
  const tls = useTls
    ? {
        ...(opts.ca === undefined ? {} : { ca: readFileSafe(opts.ca, '--ca') }),
        ...(opts.cert === undefined ? {} : { cert: readFileSafe(opts.cert, '--cert') }),
        ...(opts.key === undefined ? {} : { key: readFileSafe(opts.key, '--key') }),
      }
    : undefined;
  const timeoutText = opts.timeout ?? DEFAULT_TIMEOUT;
  const timeout = parseDuration(timeoutText);
  if (!timeout.ok) throw new UsageError(`--timeout: ${timeout.error.message}`);
  return {
    client: {
      address,
      ...(token === undefined || token === '' ? {} : { token }),
      ...(tls === undefined ? {} : { tls }),
    },
    timeoutMs: timeout.value === 0 ? undefined : timeout.value,
  };
}

function readFileSafe(path: string, flag: string): Buffer {
  try {
    return readFileSync(path);
  } catch (cause) {
    throw new UsageError(
      `${flag}: cannot read ${path} (${(cause as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
}

function readSmall(path: string, flag: string): string {
  const content = readFileSafe(path, flag);
  if (content.length > 4096) throw new UsageError(`${flag}: ${path} is larger than 4096 bytes`);
  return content.toString('utf8');
}

function integerFlag(flag: string, value: unknown): number {
  const text = String(value).trim();
  const n = Number(text);
  if (text === '' || !Number.isSafeInteger(n))
    throw new UsageError(`${flag} must be an integer, got ${String(value)}`);
  return n;
}

function pairFlag(flag: string, value: unknown): M.WatermarksMsg {
  const parts = String(value).split(',');
  if (parts.length !== 2) throw new UsageError(`${flag} must be high,low`);
  return { high: integerFlag(flag, parts[0]), low: integerFlag(flag, parts[1]) };
}

function listFlag(value: unknown): string[] {
  if (value === undefined) return [];
  return String(value)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function addressArg(text: string | undefined): string {
  if (text === undefined || !parseAddress(text).ok)
    throw new UsageError(`not a peer id or host:port: ${text}`);
  return text;
}

function banTarget(text: string | undefined): M.BanTargetMsg {
  if (text !== undefined && isPeerId(text)) return { peer_id: text };
  if (text !== undefined && parseAddress(text).ok) return { address: text };
  if (text !== undefined && isIP(text) !== 0) return { ip: text };
  throw new UsageError(`not a peer id, host:port or IP: ${text}`);
}

function trustTarget(text: string | undefined): M.TrustTargetMsg {
  if (text !== undefined && isPeerId(text)) return { peer_id: text };
  if (text !== undefined && parsePoint(text).ok) return { address: text };
  throw new UsageError(`not a peer id or host:port: ${text}`);
}

/** Streams until --count events, the stream's end, or a shutdown signal (exit 0). */
async function watch(
  io: AdminIo,
  kinds: M.EventKindName[],
  count: number | undefined,
  print: (e: M.WatchEventsResponse) => void,
): Promise<number> {
  const stream = io.client.watch({ kinds }, {});
  let seen = 0;
  return await new Promise<number>((resolve, reject) => {
    let done = false;
    const finish = (code: number): void => {
      if (done) return;
      done = true;
      stream.cancel();
      resolve(code);
    };
    void io.ctx.waitForShutdown().then(() => finish(ADMIN_EXIT.ok));
    stream.on('data', (event: M.WatchEventsResponse) => {
      if (done) return;
      print(event);
      seen++;
      if (count !== undefined && seen >= count) finish(ADMIN_EXIT.ok);
    });
    stream.on('error', (error: { code?: number }) => {
      if (done) return;
      done = true;
      reject(error);
    });
    stream.on('end', () => finish(ADMIN_EXIT.ok));
  });
}

let formatModule: Promise<typeof import('../admin/format.ts')> | undefined;
function fmt(): Promise<typeof import('../admin/format.ts')> {
  formatModule ??= import('../admin/format.ts');
  return formatModule;
}
