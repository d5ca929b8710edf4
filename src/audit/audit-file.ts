// LO 1.1: the authorization log, one JSON object per line. JSON.stringify
// escapes CR, LF and quotes, so no certificate field or request value can
// end a record early or forge another one.

import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { AuditSink, AuthzEvent } from '../core/ports.js';

export function createFileAuditSink(file: string): AuditSink {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const out = createWriteStream(file, { flags: 'a', mode: 0o600 });
  let failed: Error | undefined;
  out.on('error', (err) => {
    failed = err;
  });
  return {
    authz(event: AuthzEvent) {
      if (failed) throw failed;
      out.write(JSON.stringify({ log: 'authz', ...event }) + '\n');
    },
    close() {
      return new Promise((resolve) => out.end(resolve));
    },
  };
}
