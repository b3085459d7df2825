// @peculiar/x509 needs the Reflect polyfill before it loads (see src/identity/certificate.ts).
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { webcrypto, X509Certificate } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import tls from 'node:tls';
import * as x509 from '@peculiar/x509';
import {
  createCertificate,
  generateIdentity,
  peerIdFromCertificate,
} from '../../../src/identity/index.ts';

const crypto = webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0];

test('certificate: its key gives back the identity peer id', async () => {
  const identity = generateIdentity();
  const { certPem } = await createCertificate(identity);
  const result = peerIdFromCertificate(new X509Certificate(certPem));
  assert.deepEqual(result, { ok: true, peerId: identity.peerId });
});

test('certificate: Node accepts the pair as a TLS secure context', async () => {
  const { certPem, keyPem } = await createCertificate(generateIdentity());
  assert.doesNotThrow(() => tls.createSecureContext({ key: keyPem, cert: certPem }));
  assert.match(keyPem, /^-----BEGIN PRIVATE KEY-----/);
});

test('certificate: valid from an hour ago for ten years, positive random serial, not a CA', async () => {
  const now = new Date('2026-11-23T10:00:00Z');
  const identity = generateIdentity();
  const a = new X509Certificate((await createCertificate(identity, now)).certPem);
  const b = new X509Certificate((await createCertificate(identity, now)).certPem);
  assert.equal(new Date(a.validFrom).toISOString(), '2026-11-23T09:00:00.000Z');
  assert.equal(new Date(a.validTo).toISOString(), '2036-11-23T10:00:00.000Z');
  assert.notEqual(a.serialNumber, b.serialNumber);
  assert.ok(Number.parseInt(a.serialNumber.slice(0, 2), 16) < 0x80);
  assert.equal(a.ca, false);
  assert.equal(a.subject, `CN=${identity.peerId}`);
});

test('certificate: every serial is 16 bytes and positive (a zero first byte would shorten it)', async () => {
  const identity = generateIdentity();
  // A zero first byte came once in 128 certificates: 600 make missing it unlikely (1 in ~100).
  for (let i = 0; i < 600; i++) {
    const { serialNumber } = new X509Certificate((await createCertificate(identity)).certPem);
    assert.equal(serialNumber.length, 32, serialNumber);
    assert.ok(Number.parseInt(serialNumber.slice(0, 2), 16) < 0x80, serialNumber);
  }
});

test('certificate: one carrying a key but signed by another key is rejected', async () => {
  const subject = generateIdentity();
  const signer = generateIdentity();
  const forged = await x509.X509CertificateGenerator.create(
    {
      serialNumber: '01',
      subject: `CN=${subject.peerId}`,
      issuer: `CN=${subject.peerId}`,
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 3_600_000),
      publicKey: subject.publicKey.toCryptoKey('Ed25519', true, ['verify']),
      signingKey: signer.privateKey.toCryptoKey('Ed25519', false, ['sign']),
      signingAlgorithm: { name: 'Ed25519' },
    },
    crypto,
  );
  const result = peerIdFromCertificate(new X509Certificate(forged.toString('pem')));
  assert.equal(result.ok, false);
  assert.ok(!result.ok);
  assert.equal(result.error.code, 'bad_signature');
});

test('certificate: a self-signed ECDSA certificate is rejected as not Ed25519', async () => {
  const keys = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
    'sign',
    'verify',
  ]);
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: '01',
      name: 'CN=ecdsa',
      keys,
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    },
    crypto,
  );
  const result = peerIdFromCertificate(new X509Certificate(cert.toString('pem')));
  assert.ok(!result.ok);
  assert.equal(result.error.code, 'not_ed25519');
});

test('certificate: over real TLS 1.3 on 127.0.0.1 each side derives the other peer id', async () => {
  const server = generateIdentity();
  const client = generateIdentity();
  const serverCert = await createCertificate(server);
  const clientCert = await createCertificate(client);
  const seenByServer = Promise.withResolvers<{ peerId?: string; protocol?: string | null }>();
  const listener = tls.createServer(
    {
      key: serverCert.keyPem,
      cert: serverCert.certPem,
      minVersion: 'TLSv1.3',
      requestCert: true,
      rejectUnauthorized: false,
    },
    (socket) => {
      seenByServer.resolve({
        peerId: peerIdOf(socket.getPeerX509Certificate()),
        protocol: socket.getProtocol(),
      });
      socket.end();
    },
  );
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = listener.address() as AddressInfo;
    const seenByClient = await new Promise<string | undefined>((resolve, reject) => {
      const socket = tls.connect(
        {
          host: '127.0.0.1',
          port,
          key: clientCert.keyPem,
          cert: clientCert.certPem,
          minVersion: 'TLSv1.3',
          rejectUnauthorized: false,
          checkServerIdentity: () => undefined,
        },
        () => {
          resolve(peerIdOf(socket.getPeerX509Certificate()));
          socket.end();
        },
      );
      socket.on('error', reject);
    });
    assert.equal(seenByClient, server.peerId);
    assert.deepEqual(await seenByServer.promise, { peerId: client.peerId, protocol: 'TLSv1.3' });
  } finally {
    await new Promise((resolve) => listener.close(resolve));
  }
});

function peerIdOf(cert: X509Certificate | undefined): string | undefined {
  if (cert === undefined) return undefined;
  const result = peerIdFromCertificate(cert);
  return result.ok ? result.peerId : undefined;
}
