// The server's audit trail, assembled (LO 1.1-1.5): the authorization and
// data-access logs (each record written before the response), the access log
// (batched off the request path), each hash-chained with signed checkpoints,
// and every new head sent to the anchors outside the data directory. Before
// anything is written, every log is checked against the last head recorded
// for it, so the server never continues, and never signs over, a cut log.

import { existsSync } from 'node:fs';
import type { AuditSink } from '../core/ports.js';
import { anchorDirHeads } from './anchor-dir.js';
import { createFileAnchorSink } from './anchor-file-sink.js';
import { createAnchorPublisher, type AnchorReport } from './anchor-publisher.js';
import { createSyslogSink, type SyslogSinkOptions } from './anchor-syslog-sink.js';
import { checkpointFileOf, createFileAuditSink } from './audit-file.js';
import { publicKeyOf, type Checkpoint, type CheckpointKey } from './checkpoint.js';
import { openBatchedChainedLog, type BatchedChainedLog } from './batched-chained-log.js';
import { moveAsideUnchainedLog } from './legacy-log.js';
import { readLogTail } from './log-lines.js';
import { assertLogsExtendRecordedHeads, type CheckedLog } from './startup-check.js';

export const ACCESS_LOG = 'access';
const ACCESS_FLUSH_MS = 250;
const ERROR_REPORT_EVERY_MS = 10_000;

export interface AuditTrailOptions {
  authorizationLog: string;
  dataAccessLog: string;
  accessLog: string;
  signingKey: CheckpointKey;
  checkpointEvery: number;
  checkpointIntervalMs: number;
  anchorDir: string;
  syslog?: SyslogSinkOptions | undefined;
  report: AnchorReport & { warn(fields: object, message: string): void };
}

export interface AuditTrail {
  audit: AuditSink;
  access: BatchedChainedLog;
  close(): Promise<void>;
}

/** The logs the server writes, by the name signed into their checkpoints. */
export function serverLogs(
  o: Pick<AuditTrailOptions, 'authorizationLog' | 'dataAccessLog' | 'accessLog'>,
): CheckedLog[] {
  return [
    ['authz', o.authorizationLog],
    ['data-access', o.dataAccessLog],
    [ACCESS_LOG, o.accessLog],
  ].map(([name, file]) => ({ name: name!, file: file!, checkpointFile: checkpointFileOf(file!) }));
}

function hasCheckpoint(file: string): boolean {
  return existsSync(file) && readLogTail(file).lastLine !== undefined;
}

export function openAuditTrail(o: AuditTrailOptions): AuditTrail {
  const fileAnchor = createFileAnchorSink(o.anchorDir);
  const moved = moveAsideUnchainedLog(o.accessLog);
  if (moved) {
    o.report.warn(
      { file: moved },
      'access log from before the chain moved aside; a chained one starts',
    );
  }
  const recorded = anchorDirHeads(o.anchorDir, false);
  assertLogsExtendRecordedHeads(serverLogs(o), recorded, publicKeyOf(o.signingKey));
  for (const log of serverLogs(o)) {
    // A log that was checkpointed before but has no head in the anchor
    // directory: a first start with anchors (an upgrade), or an anchor
    // mount that is not there. Nothing from before now can be checked
    // against it: said, not assumed.
    const anchored = recorded.some((r) => r.lines.heads.some((h) => h.head.log === log.name));
    if (!anchored && hasCheckpoint(log.checkpointFile)) {
      o.report.warn(
        { log: log.file, anchorDir: o.anchorDir },
        'no head of this audit log in the anchor directory: a truncation before this start cannot be detected there',
      );
    }
  }
  const anchors = createAnchorPublisher(
    [fileAnchor, ...(o.syslog ? [createSyslogSink(o.syslog)] : [])],
    o.report,
  );
  const onCheckpoint = (head: Checkpoint) => anchors.publish(head);
  const common = {
    signingKey: o.signingKey,
    checkpointEvery: o.checkpointEvery,
    checkpointIntervalMs: o.checkpointIntervalMs,
    onCheckpoint,
  };
  const audit = createFileAuditSink({
    ...common,
    authorizationLog: o.authorizationLog,
    dataAccessLog: o.dataAccessLog,
  });
  let access: BatchedChainedLog;
  try {
    let lastReport = 0;
    access = openBatchedChainedLog({
      ...common,
      file: o.accessLog,
      checkpointFile: checkpointFileOf(o.accessLog),
      name: ACCESS_LOG,
      flushIntervalMs: ACCESS_FLUSH_MS,
      onError(err) {
        // Retried every flush: say so at most every few seconds.
        if (Date.now() - lastReport < ERROR_REPORT_EVERY_MS) return;
        lastReport = Date.now();
        o.report.error({ log: o.accessLog, err: err.message }, 'access log not written; retrying');
      },
    });
  } catch (err) {
    void audit.close().then(() => anchors.close());
    throw err;
  }
  let closing: Promise<void> | undefined;
  return {
    audit,
    access,
    close() {
      closing ??= (async () => {
        await access.close();
        await audit.close();
        await anchors.close();
      })();
      return closing;
    },
  };
}
