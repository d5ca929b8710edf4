// The audit sink on local files (LO 1.1, 1.3, 1.5): the authorization log and
// the data-access log, each a hash-chained JSON-lines file with signed
// checkpoints beside it (FILE.checkpoints). JSON.stringify escapes CR, LF and
// quotes, so no certificate field or request value can end a record early or
// forge another. Each record is written before the response that depends on
// it leaves the server.

import type { AuditSink, AuthzEvent, DataAccessEvent } from '../core/ports.js';
import type { Checkpoint, CheckpointKey } from './checkpoint.js';
import { openChainedLog, type ChainedLog } from './chained-log.js';

export interface FileAuditOptions {
  authorizationLog: string;
  dataAccessLog: string;
  signingKey: CheckpointKey;
  checkpointEvery: number;
  checkpointIntervalMs: number;
  /** Receives every new signed head (for the anchors outside the data directory). */
  onCheckpoint?: (head: Checkpoint) => void;
}

export function checkpointFileOf(logFile: string): string {
  return `${logFile}.checkpoints`;
}

export function createFileAuditSink(opts: FileAuditOptions): AuditSink {
  const open = (file: string, name: string): ChainedLog =>
    openChainedLog({
      file,
      checkpointFile: checkpointFileOf(file),
      name,
      signingKey: opts.signingKey,
      checkpointEvery: opts.checkpointEvery,
      checkpointIntervalMs: opts.checkpointIntervalMs,
      ...(opts.onCheckpoint ? { onCheckpoint: opts.onCheckpoint } : {}),
    });
  const authz = open(opts.authorizationLog, 'authz');
  let data: ChainedLog;
  try {
    data = open(opts.dataAccessLog, 'data-access');
  } catch (err) {
    authz.close();
    throw err;
  }
  return {
    authz(event: AuthzEvent) {
      authz.append({ log: 'authz', ...event });
    },
    dataAccess(event: DataAccessEvent) {
      data.append({ log: 'data-access', ...event });
    },
    close() {
      authz.close();
      data.close();
      return Promise.resolve();
    },
  };
}
