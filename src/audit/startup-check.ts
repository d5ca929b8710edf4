// Start-up check (LO 1.5): the server refuses to continue a log that no
// longer extends the last head it recorded. Without it a server restarted on
// a cut log would chain new records onto the cut and sign checkpoints over
// it. The last head is looked for in the log's own checkpoints file and in
// the anchor directory outside the data directory (anchor-dir.ts); each is
// checked, so cutting the log and its checkpoints together is still caught.

import type { KeyObject } from 'node:crypto';
import { AuditError } from './audit-error.js';
import type { HeadSource } from './anchor-dir.js';
import { headSignatureValid, parseHeadLines, type Head } from './heads.js';
import { readLogTail } from './log-lines.js';
import { recordAt } from './log-seek.js';
import { existsSync } from 'node:fs';

export interface CheckedLog {
  /** Logical name, as signed into its checkpoints. */
  name: string;
  file: string;
  checkpointFile: string;
}

function lastCheckpoint(file: string): HeadSource | undefined {
  if (!existsSync(file)) return undefined;
  const { lastLine } = readLogTail(file);
  if (lastLine === undefined) return undefined;
  return { file, lines: parseHeadLines([{ text: lastLine, terminated: true }]) };
}

const REMEDY =
  "refusing to start; run 'vulnvault audit verify' and see 'Checking the audit trail' in the README";

export function assertLogsExtendRecordedHeads(
  logs: CheckedLog[],
  anchorSources: HeadSource[],
  publicKey: KeyObject,
): void {
  for (const log of logs) {
    const sources = [lastCheckpoint(log.checkpointFile), ...anchorSources].filter(
      (s): s is HeadSource => s !== undefined,
    );
    for (const source of sources) {
      let best: { head: Head; line: number } | undefined;
      for (const h of source.lines.heads) {
        if (h.head.log !== log.name) continue;
        if (!headSignatureValid(h.head, publicKey)) {
          throw new AuditError(
            `${source.file} line ${h.line}: the head of log ${log.name} (seq ${h.head.seq}) has an invalid signature; ${REMEDY}`,
          );
        }
        if (!best || h.head.seq >= best.head.seq) best = h;
      }
      if (!best) continue;
      const { seq, hash } = best.head;
      const found = recordAt(log.file, seq);
      if (found.lastSeq < seq) {
        throw new AuditError(
          `audit log ${log.file} ends at seq ${found.lastSeq} but its last recorded head (${source.file}) is seq ${seq}: records were removed; ${REMEDY}`,
        );
      }
      if (found.hash !== hash) {
        throw new AuditError(
          `audit log ${log.file}: record seq ${seq} is not the one its recorded head (${source.file}) vouches for: the log was rewritten; ${REMEDY}`,
        );
      }
    }
  }
}
