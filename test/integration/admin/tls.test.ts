// @peculiar/x509 needs the Reflect metadata polyfill loaded first (STACK.md).
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes, webcrypto } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import * as x509 from '@peculiar/x509';
import { AdminClient } from '../../../src/admin/client.ts';
import { killAll } from '../../fixtures/scenario.ts';
import { type AdminNodeProcess, expectCode, startAdminNode } from './fixtures.ts';

// The admin API over TLS and mTLS from admin.tls.* files, on 127.0.9.40-41.
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
type KeyPair = webcrypto.CryptoKeyPair;
/** x509 is typed against the DOM's CryptoKey; Node's is the same object. */
const dom = <T>(key: webcrypto.CryptoKey): T => key as unknown as T;
const MAIN = new URL('../../../bin/meshkeeper.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'meshkeeper-admin-tls-'));
const ecdsa = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

interface Pem {
  cert: string;
  key: string;
}

let files: Record<
  'ca' | 'serverCert' | 'serverKey' | 'clientCert' | 'clientKey' | 'otherCa',
  string
>;
let tlsNode: AdminNodeProcess;
let mtlsNode: AdminNodeProcess;
const clients: AdminClient[] = [];

before(async () => {
  const ca = await authority('meshkeeper test CA');
  const other = await authority('some other CA');
  const server = await leaf(
    ca,
    'admin server',
    ['127.0.9.40', '127.0.9.41'],
    x509.ExtendedKeyUsage.serverAuth,
  );
  const client = await leaf(ca, 'operator', [], x509.ExtendedKeyUsage.clientAuth);
  const write = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text, { mode: 0o600 });
    return path;
  };
  files = {
    ca: write('ca.pem', ca.pem.cert),
    otherCa: write('other-ca.pem', other.pem.cert),
    serverCert: write('server.pem', server.cert),
    serverKey: write('server-key.pem', server.key),
    clientCert: write('client.pem', client.cert),
    clientKey: write('client-key.pem', client.key),
  };
  const tlsFlags = [`--admin-tls-cert=${files.serverCert}`, `--admin-tls-key=${files.serverKey}`];
  [tlsNode, mtlsNode] = await Promise.all([
    startAdminNode('127.0.9.40', tlsFlags),
    startAdminNode('127.0.9.41', [...tlsFlags, `--admin-tls-client-ca=${files.ca}`]),
  ]);
});
after(async () => {
  for (const c of clients) c.close();
  await killAll([tlsNode, mtlsNode]);
});

function client(
  node: AdminNodeProcess,
  tls: { ca?: string; cert?: string; key?: string } | undefined,
): AdminClient {
  const c = new AdminClient({
    address: node.admin,
    ...(tls === undefined
      ? {}
      : {
          tls: {
            ...(tls.ca === undefined ? {} : { ca: readFileSync(tls.ca) }),
            ...(tls.cert === undefined ? {} : { cert: readFileSync(tls.cert) }),
            ...(tls.key === undefined ? {} : { key: readFileSync(tls.key) }),
          },
        }),
    channelOptions: { 'grpc.use_local_subchannel_pool': 1 },
  });
  clients.push(c);
  return c;
}

test('TLS: a client trusting the CA gets through; plaintext and a client trusting another CA do not', async () => {
  const ok = await client(tlsNode, { ca: files.ca }).call('GetStatus', {}, { timeoutMs: 10_000 });
  assert.equal(ok.peer_id, tlsNode.peerId);
  await expectCode(
    client(tlsNode, undefined).call('GetStatus', {}, { timeoutMs: 5_000 }),
    status.UNAVAILABLE,
  );
  await expectCode(
    client(tlsNode, { ca: files.otherCa }).call('GetStatus', {}, { timeoutMs: 5_000 }),
    status.UNAVAILABLE,
  );
  assert.ok(
    tlsNode.logs.some((l) => l.event === 'admin_started' && l.tls === true && l.mtls === false),
  );
});

test('mTLS: only a client with a certificate from admin.tls.clientCa gets through', async () => {
  const ok = await client(mtlsNode, {
    ca: files.ca,
    cert: files.clientCert,
    key: files.clientKey,
  }).call('GetStatus', {}, { timeoutMs: 10_000 });
  assert.equal(ok.peer_id, mtlsNode.peerId);
  await expectCode(
    client(mtlsNode, { ca: files.ca }).call('GetStatus', {}, { timeoutMs: 5_000 }),
    status.UNAVAILABLE,
  );
  assert.ok(mtlsNode.logs.some((l) => l.event === 'admin_started' && l.mtls === true));
});

test('meshkeeper admin --ca/--cert/--key: status over mTLS exits 0; without a certificate exits 4', () => {
  const cli = (extra: string[]) =>
    spawnSync(
      process.execPath,
      [MAIN, 'admin', 'status', '--json', '--address', mtlsNode.admin, '--timeout', '5s', ...extra],
      {
        encoding: 'utf8',
        env: { PATH: process.env.PATH ?? '' },
        timeout: 30_000,
      },
    );
  const ok = cli(['--ca', files.ca, '--cert', files.clientCert, '--key', files.clientKey]);
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal((JSON.parse(ok.stdout) as { peer_id: string }).peer_id, mtlsNode.peerId);
  const refused = cli(['--ca', files.ca]);
  assert.equal(refused.status, 4, refused.stderr);
});

async function authority(
  name: string,
): Promise<{ pem: Pem; cert: x509.X509Certificate; keys: KeyPair }> {
  const keys = (await webcrypto.subtle.generateKey(ecdsa, true, ['sign', 'verify'])) as KeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${name}`,
    notBefore: new Date(Date.now() - 3_600_000),
    notAfter: new Date(Date.now() + 86_400_000),
    keys: { publicKey: dom(keys.publicKey), privateKey: dom(keys.privateKey) },
    signingAlgorithm: ecdsa,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
        true,
      ),
    ],
  });
  return { pem: { cert: cert.toString('pem'), key: await pkcs8(keys.privateKey) }, cert, keys };
}

async function leaf(
  ca: { cert: x509.X509Certificate; keys: KeyPair },
  name: string,
  ips: string[],
  usage: string,
): Promise<Pem> {
  const keys = (await webcrypto.subtle.generateKey(ecdsa, true, ['sign', 'verify'])) as KeyPair;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${name}`,
    issuer: ca.cert.subject,
    notBefore: new Date(Date.now() - 3_600_000),
    notAfter: new Date(Date.now() + 86_400_000),
    signingKey: dom(ca.keys.privateKey),
    publicKey: dom(keys.publicKey),
    signingAlgorithm: ecdsa,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([usage]),
      ...(ips.length === 0
        ? []
        : [
            new x509.SubjectAlternativeNameExtension(
              ips.map((value) => ({ type: 'ip' as const, value })),
            ),
          ]),
    ],
  });
  return { cert: cert.toString('pem'), key: await pkcs8(keys.privateKey) };
}

async function pkcs8(key: webcrypto.CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN PRIVATE KEY-----\n${lines.join('\n')}\n-----END PRIVATE KEY-----\n`;
}

function serial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return bytes.toString('hex');
}
