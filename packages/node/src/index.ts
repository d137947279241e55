export {
  type PeerCertificate,
  getPeerCertificate,
  mtlsContextValues,
  peerCertificateKey,
  readPeerCertificate,
} from "./peer-certificate.js";
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
