// Private keys are read only from files that no other user can open (mode
// 0600 or stricter): a key that group or others could read must be treated as
// leaked, and one they could write could have been swapped. The mode is taken
// from the open descriptor, so the file checked is the file read.

import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { PkiError } from './pki-error.js';

/** Reads a PEM private key; throws one line naming `what`, the file and its mode. */
export function readPrivateKeyFile(file: string, what: string): string {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unknown error';
    throw new PkiError(`cannot read ${what} ${file}: ${code}`);
  }
  try {
    const mode = fstatSync(fd).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      const how = (mode & 0o044) !== 0 ? 'readable' : 'writable';
      throw new PkiError(
        `${what} ${file} is ${how} by group or others (mode ${mode.toString(8)}); chmod 600 it`,
      );
    }
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}
