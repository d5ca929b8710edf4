// Key ports for envelope encryption (DP 1.1/1.2). Each org's findings are
// sealed under its own data key (DEK); a DEK is only ever stored wrapped by a
// key-encryption key (KEK) that a KeyProvider holds: the local keyring file or
// AWS KMS. Stores keep the wrapped DEKs beside the data (DataKeyStore), so a
// backup carries them but is useless without the KEK.

/** A DEK as stored: which KEK (version) wrapped it, and the wrapped bytes. */
export interface WrappedDataKey {
  org: string;
  /** KEK id: `local:N` for keyring version N, the key ARN for KMS. */
  kek: string;
  wrapped: Buffer;
}

export interface KeyProvider {
  /** Wraps a new DEK under the current (primary) KEK, bound to the org. */
  wrap(org: string, dek: Buffer): Promise<{ kek: string; wrapped: Buffer }>;
  /** Unwraps; throws VaultError('key_unavailable') when the KEK cannot be used. */
  unwrap(key: WrappedDataKey): Promise<Buffer>;
  /**
   * Changes whenever key state changed (a rotation, a disabled version), so
   * that cached unwrapped DEKs are unwrapped again under the new state.
   */
  generation(): number;
  close(): void;
}

export interface DataKeyStore {
  get(org: string): Promise<WrappedDataKey | undefined>;
  /** Stores the key unless the org has one already; returns the stored one. */
  create(key: WrappedDataKey): Promise<WrappedDataKey>;
  list(): Promise<WrappedDataKey[]>;
  /** Compare-and-set: replaces the org's key only if it is still under `fromKek`. */
  rewrap(org: string, fromKek: string, to: { kek: string; wrapped: Buffer }): Promise<boolean>;
}
