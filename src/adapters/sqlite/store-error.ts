// Vendor errors become the domain's store_unavailable; domain errors pass.
import { SqliteError } from 'better-sqlite3';
import { VaultError } from '../../core/errors.js';

/** Domain errors pass through; vendor errors become store_unavailable (cause kept). */
export function storeError(err: unknown): Error {
  if (err instanceof VaultError) return err;
  if (err instanceof SqliteError) {
    return new VaultError('store_unavailable', 'the findings store is unavailable', { cause: err });
  }
  return err instanceof Error ? err : new Error('non-error thrown', { cause: err });
}
