// TLS security policies (NS 1.2), named like API Gateway's. Node's default
// TLS 1.2 list still offers CBC suites, so the list is spelled out: ECDHE key
// exchange with AEAD ciphers only. TLS 1.3 suites are all AEAD.

import type { SecureContextOptions, TlsOptions } from 'node:tls';
import type { TlsPolicy } from '../config/config.js';

const TLS12_AEAD = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
];
const TLS13 = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'];

export interface TlsMaterial {
  cert: string;
  key: string;
  clientCa: string;
  /** PEM blocks, one CRL each. With any CRL, OpenSSL checks every CA in the chain. */
  crl?: string[];
}

export function tlsOptions(
  policy: TlsPolicy,
  material: TlsMaterial,
): TlsOptions & SecureContextOptions {
  return {
    cert: material.cert,
    key: material.key,
    ca: material.clientCa,
    ...(material.crl && material.crl.length > 0 ? { crl: material.crl } : {}),
    minVersion: policy === 'TLS_1_3' ? 'TLSv1.3' : 'TLSv1.2',
    maxVersion: 'TLSv1.3',
    ciphers: [...TLS13, ...TLS12_AEAD].join(':'),
    honorCipherOrder: true,
    // Also the curves a TLS 1.2 client certificate may use: OpenSSL refuses a
    // client key on a curve not in this list (ERR_SSL_WRONG_CURVE), so P-521
    // is here for P-521 client keys (key-strength.ts allows P-256/384/521).
    ecdhCurve: 'X25519:P-256:P-384:P-521',
    // Ask every client for a certificate. Verification failures are not
    // rejected inside the handshake so that the reason can be logged (LO 1.1);
    // the connection gate destroys such sockets before any request is read.
    requestCert: true,
    rejectUnauthorized: false,
  };
}
