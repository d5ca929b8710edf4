// LO 1.1: the authorization log, one JSON object per line. JSON.stringify
// escapes CR, LF and quotes, so no certificate field or request value can
// end a record early or forge another one.
// Each record is one synchronous O_APPEND write: a decision is in the log
// before the response that depends on it leaves the server.

import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { AuditSink, AuthzEvent } from '../core/ports.js';

export function createFileAuditSink(file: string): AuditSink {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  let fd: number | undefined = openSync(file, 'a', 0o600);
  return {
    authz(event: AuthzEvent) {
      if (fd === undefined) throw new Error('audit log is closed');
      writeSync(fd, JSON.stringify({ log: 'authz', ...event }) + '\n');
    },
    close() {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
      return Promise.resolve();
    },
  };
}
