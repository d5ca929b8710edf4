// The audit checkpoint signing key kept in a PKCS#11 token (audit.signingKey
// is a pkcs11: URI): an Ed25519 key pair generated inside the token, the
// private half sensitive and non-extractable; each checkpoint is signed by
// the token (CKM_EDDSA). The verify key file (audit.verifyKey) holds the
// token key's public half: written when missing, and a file that does not
// match the token's key stops the start (a swapped key must be noticed).

import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Token } from '../crypto/pkcs11/token.js';
import { parsePkcs11Uri } from '../crypto/pkcs11/uri.js';
import { AuditError } from './audit-error.js';
import type { CheckpointSigner } from './checkpoint.js';
import { loadVerifyKey } from './signing-key.js';

export interface TokenCheckpointSigner extends CheckpointSigner {
  close(): void;
}

export function openTokenSigningKey(keyUri: string): TokenCheckpointSigner {
  const uri = parsePkcs11Uri(keyUri);
  const token = Token.open(uri);
  try {
    const handle = token.privateKey(uri, 'ed25519');
    const publicKey = token.publicKey(uri, 'ed25519');
    let closed = false;
    return {
      publicKey,
      sign: (data) => token.signEd25519(handle, data),
      close() {
        if (closed) return;
        closed = true;
        token.close();
      },
    };
  } catch (err) {
    token.close();
    throw err;
  }
}

/** Writes the verify key when missing; refuses one that is not the token key's. */
export function checkVerifyKey(signer: CheckpointSigner, verifyFile: string, keyUri: string): void {
  const der = signer.publicKey.export({ type: 'spki', format: 'der' });
  if (!existsSync(verifyFile)) {
    mkdirSync(dirname(verifyFile), { recursive: true, mode: 0o700 });
    writeFileSync(verifyFile, signer.publicKey.export({ type: 'spki', format: 'pem' }), {
      mode: 0o644,
    });
    return;
  }
  const onFile = loadVerifyKey(verifyFile).export({ type: 'spki', format: 'der' });
  if (!onFile.equals(der)) {
    throw new AuditError(
      `the audit verify key ${verifyFile} is not the public key of ${parsePkcs11Uri(keyUri).name}; refusing to sign checkpoints that it would not verify`,
    );
  }
}
