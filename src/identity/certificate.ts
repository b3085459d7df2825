// @peculiar/x509 resolves its parts through a DI container that needs the Reflect metadata
// polyfill loaded first (checked on Node 24.21, STACK.md). Keep this import first.
import 'reflect-metadata';
import { type KeyObject, randomBytes, webcrypto, type X509Certificate } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import type { Identity } from './identity-file.ts';
import { peerIdFromKeyObject } from './peer-id.ts';

// Node's WebCrypto (with Ed25519) instead of a polyfill. The library is typed against the DOM's
// `Crypto`, which this project's lib does not declare the same way, hence the cast.
const crypto = webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0];
x509.cryptoProvider.set(crypto);

/** Long enough that a node never meets its own certificate's expiry; nobody checks it anyway. */
const validityYears = 10;

export interface TlsCertificate {
  certPem: string;
  /** The identity's private key, PKCS#8 PEM. */
  keyPem: string;
}

/**
 * A self-signed X.509 certificate for the identity's key, for TLS (DESIGN §3). It means nothing
 * beyond the key: peers derive the peer id from the key and ignore names and dates. The subject
 * CN carries the peer id only to help a human reading it with openssl.
 */
export async function createCertificate(
  identity: Identity,
  now: Date = new Date(),
): Promise<TlsCertificate> {
  const keys = {
    publicKey: identity.publicKey.toCryptoKey('Ed25519', true, ['verify']),
    privateKey: identity.privateKey.toCryptoKey('Ed25519', false, ['sign']),
  };
  const notAfter = new Date(now);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + validityYears);
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: randomSerial(),
      name: `CN=${identity.peerId}`,
      // An hour back: a peer whose clock is a little behind must not see it as not yet valid.
      notBefore: new Date(now.getTime() - 3_600_000),
      notAfter,
      keys,
      signingAlgorithm: { name: 'Ed25519' },
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      ],
    },
    crypto,
  );
  const keyPem = identity.privateKey.export({ format: 'pem', type: 'pkcs8' });
  return { certPem: cert.toString('pem'), keyPem: String(keyPem) };
}

/**
 * 16 random bytes, a positive serial as RFC 5280 requires: top bit clear, and a first byte that
 * is not zero, or DER's minimal encoding would drop it and the serial would be 15 bytes (one in
 * 128 certificates; OpenSSL then shows it from the next byte, which may have its top bit set).
 */
function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f || 0x01;
  return bytes.toString('hex');
}

export type CertificateErrorCode = 'not_ed25519' | 'bad_signature';

export type CertificatePeerId =
  | { ok: true; peerId: string }
  | { ok: false; error: { code: CertificateErrorCode; message: string } };

/**
 * The peer id a peer's certificate proves: its key must be Ed25519 and the certificate signed
 * by that same key (so whoever made it held the private key). Never throws.
 */
export function peerIdFromCertificate(cert: X509Certificate): CertificatePeerId {
  let key: KeyObject;
  try {
    // A key type Node cannot load makes this getter throw.
    key = cert.publicKey;
  } catch (err) {
    return failure('not_ed25519', `unusable public key: ${(err as Error).message}`);
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    return failure('not_ed25519', `the key is ${key.asymmetricKeyType ?? 'of an unknown type'}`);
  }
  let verified = false;
  try {
    verified = cert.verify(key);
  } catch {
    verified = false;
  }
  if (!verified) return failure('bad_signature', 'the certificate is not signed by its own key');
  return { ok: true, peerId: peerIdFromKeyObject(key) };
}

function failure(code: CertificateErrorCode, message: string): CertificatePeerId {
  return { ok: false, error: { code, message } };
}
