export { base32Encode } from './base32.ts';
export {
  type CertificateErrorCode,
  type CertificatePeerId,
  createCertificate,
  peerIdFromCertificate,
  type TlsCertificate,
} from './certificate.ts';
export {
  type IdentityDeps,
  IdentityError,
  type IdentityFileContent,
  identityFileName,
  loadOrCreateIdentity,
} from './identity.ts';
export {
  type DecodeResult,
  decodeIdentityFile,
  encodeIdentityFile,
  generateIdentity,
  type Identity,
  type IdentityErrorCode,
  identityFromPrivateKey,
} from './identity-file.ts';
export { isPeerId, peerIdFromKeyObject, peerIdFromPublicKey, rawPublicKey } from './peer-id.ts';
