export {
  type PeerCertificate,
  getPeerCertificate,
  peerCertificateKey,
  readPeerCertificate,
} from "./peer-certificate.js";
export { type NodeContextRequest, nodeContextValues } from "./node-context-values.js";
export {
  type CertificateAuthenticatorOptions,
  type CertificateIdentity,
  createCertificateAuthenticator,
  identifyBySpiffeId,
} from "./certificate-authenticator.js";
export {
  type CertificateBoundAuthenticatorOptions,
  createCertificateBoundAuthenticator,
} from "./certificate-bound-authenticator.js";
export {
  type CredentialForwarding,
  type CredentialForwardingOptions,
  createCredentialForwarding,
} from "./credential-forwarding.js";
