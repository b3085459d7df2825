import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { status } from '@grpc/grpc-js';
import { type AdminCallError, AdminClient, callError } from '../../../src/admin/client.ts';
import type { FieldViolation } from '../../../src/admin/status-details.ts';
import { type NodeProcess, startNodeProcess } from '../../fixtures/node-process.ts';
import { until } from '../../fixtures/scenario.ts';
import { findExecutable } from '../../fixtures/tools.ts';

export { findExecutable, until };

/** A `meshkeeper run` process with its admin API located. */
export interface AdminNodeProcess extends NodeProcess {
  /** `host:port` of the admin API. */
  admin: string;
  /** `host:port` of the P2P listener. */
  p2p: string;
  peerId: string;
  /** A grpc-js client on its own channel (closed by `closeClients`); `null`: no token at all. */
  client(token?: string | null): AdminClient;
}

const clients: AdminClient[] = [];

/** Starts a node on `host` (ports picked by the system) and waits until its admin API listens. */
export async function startAdminNode(
  host: string,
  flags: string[] = [],
  opts: { token?: string; dataDir?: string; port?: number } = {},
): Promise<AdminNodeProcess> {
  const tokenFlags: string[] = [];
  if (opts.token !== undefined) {
    const file = join(mkdtempSync(join(tmpdir(), 'meshkeeper-token-')), 'token');
    writeFileSync(file, `${opts.token}\n`, { mode: 0o600 });
    tokenFlags.push(`--admin-token-file=${file}`);
  }
  const node = startNodeProcess(host, [...tokenFlags, ...flags], {
    ...(opts.dataDir === undefined ? {} : { dataDir: opts.dataDir }),
    ...(opts.port === undefined ? {} : { port: opts.port }),
  });
  const line = await node.waitForLog((l) => l.event === 'admin_started', 20_000);
  const started = await node.waitForLog((l) => l.event === 'node_started', 20_000);
  const listen = started.listen as { host: string; port: number };
  const admin = `${host}:${String(line.port)}`;
  const status = await node.status();
  return Object.assign(node, {
    admin,
    p2p: `${listen.host}:${listen.port}`,
    peerId: status.peerId,
    client(token: string | null | undefined = opts.token) {
      const client = new AdminClient({
        address: admin,
        ...(token === undefined || token === null ? {} : { token }),
        // Each client its own connection: a stalled stream must not hold up another client.
        channelOptions: { 'grpc.use_local_subchannel_pool': 1 },
      });
      clients.push(client);
      return client;
    },
  });
}

export function closeClients(): void {
  for (const client of clients.splice(0)) client.close();
}

/** Runs `promise`, which must fail with `code`; returns the decoded error. */
export async function expectCode(promise: Promise<unknown>, code: status): Promise<AdminCallError> {
  try {
    await promise;
  } catch (error) {
    const failure = callError(error);
    assert.equal(failure.codeName, callError({ code }).codeName, failure.message);
    return failure;
  }
  assert.fail(`expected ${callError({ code }).codeName}, the call succeeded`);
}

/** The field violations of an INVALID_ARGUMENT. */
export function fieldViolations(failure: AdminCallError): FieldViolation[] {
  return failure.details.flatMap((d) => (d.type === 'bad_request' ? d.fieldViolations : []));
}

export interface ToolRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a tool to completion (never throws for a non-zero exit). */
export function run(file: string, args: readonly string[], timeoutMs = 30_000): Promise<ToolRun> {
  return new Promise((resolve) => {
    execFile(
      file,
      [...args],
      { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** One metric's value from a node's /metrics (0 when absent). */
export async function metricValue(
  node: NodeProcess,
  name: string,
  labels: Record<string, string>,
): Promise<number> {
  const port = await node.httpPort();
  const text = await (await fetch(`http://${node.host}:${port}/metrics`)).text();
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (want.every((w) => line.includes(w))) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}
