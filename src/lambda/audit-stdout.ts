// AuditSink for Lambda (LO 1.1/1.3): one JSON line per event on stdout, which
// Lambda ships to CloudWatch Logs. JSON.stringify escapes every control
// character, so no input can start a line of its own or forge a field.

import type { AuditSink } from '../core/ports.js';

export type LineWriter = (line: string) => void;

const stdout: LineWriter = (line) => {
  process.stdout.write(`${line}\n`);
};

export function createStdoutAudit(write: LineWriter = stdout): AuditSink {
  return {
    authz(event) {
      write(JSON.stringify({ log: 'authz', ...event }));
    },
    dataAccess(event) {
      write(JSON.stringify({ log: 'data-access', ...event }));
    },
    async close() {},
  };
}

/** Internal error line: names and codes of the error chain, no data. */
export function logError(write: LineWriter, requestId: string, err: unknown): void {
  write(
    JSON.stringify({ log: 'error', time: new Date().toISOString(), requestId, err: describe(err) }),
  );
}

function describe(err: unknown, depth = 0): unknown {
  if (!(err instanceof Error) || depth > 4) return err === undefined ? undefined : typeof err;
  const e = err as Error & { code?: unknown };
  return {
    name: e.name,
    code: typeof e.code === 'string' ? e.code : undefined,
    message: e.message,
    cause: describe(e.cause, depth + 1),
  };
}
