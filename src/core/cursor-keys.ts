// The secret keys page cursors are authenticated with (HMAC-SHA-256). The
// query functions get them through their deps; where they come from is the
// composition root's choice: a file in the data directory on one machine
// (src/crypto/cursor-secret.ts), the function's configuration on Lambda.

/** At least this many bytes of secret: a cursor tag must not be guessable. */
export const MIN_CURSOR_SECRET_BYTES = 32;

export interface CursorKeySet {
  /** New cursors are tagged with this key. */
  current: Uint8Array;
  /**
   * Keys a cursor is still accepted under besides `current`: the previous
   * secret during its grace period after a rotation, so that a client paging
   * through a result when the secret changes is not cut off. Never used to
   * tag.
   */
  previous: readonly Uint8Array[];
}

export interface CursorKeys {
  /** The keys in force now (a rotation takes effect without a restart). */
  keys(): CursorKeySet;
}

/** Fixed keys: a Lambda's configuration, or a test. */
export function fixedCursorKeys(
  current: Uint8Array,
  previous: readonly Uint8Array[] = [],
): CursorKeys {
  for (const k of [current, ...previous]) {
    if (k.byteLength < MIN_CURSOR_SECRET_BYTES) {
      throw new Error(`a cursor secret must have at least ${MIN_CURSOR_SECRET_BYTES} bytes`);
    }
  }
  const set: CursorKeySet = Object.freeze({ current, previous: Object.freeze([...previous]) });
  return { keys: () => set };
}
