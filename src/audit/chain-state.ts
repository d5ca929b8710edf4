// Opening a hash-chained log where it left off, shared by the synchronous
// audit logs (chained-log.ts) and the batched access log
// (batched-chained-log.ts): the last record's seq and hash are read back from
// the end of the file, a record torn by a crash is sealed, and the current
// head is signed (or the matching last checkpoint reused) and handed to
// `onCheckpoint`, so anchors learn every log's head as soon as it opens.

import { closeSync, fdatasyncSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { AuditError } from './audit-error.js';
import { formatRecord, GENESIS, hashLine } from './chain.js';
import { signCheckpoint, type Checkpoint, type CheckpointKey } from './checkpoint.js';
import { readLogTail } from './log-lines.js';

export interface ChainedLogOptions {
  file: string;
  checkpointFile: string;
  /** Logical name, signed into every checkpoint ('authz', 'data-access', 'access'). */
  name: string;
  signingKey: CheckpointKey;
  checkpointEvery: number;
  checkpointIntervalMs: number;
  /** Called with every durable signed checkpoint (the log's new head). */
  onCheckpoint?: (head: Checkpoint) => void;
}

export interface ChainState {
  fd: number;
  cpFd: number;
  /** Last record formatted (written, for the synchronous log). */
  seq: number;
  prev: string;
  lastCheckpoint: number;
}

/** The next record's line; advances seq and prev. */
export function nextLine(s: ChainState, body: Record<string, unknown>): string {
  const line = formatRecord(s.seq + 1, s.prev, body);
  s.seq += 1;
  s.prev = hashLine(line);
  return line;
}

export function signHead(opts: ChainedLogOptions, seq: number, hash: string): Checkpoint {
  return signCheckpoint(
    { log: opts.name, seq, hash, time: new Date().toISOString() },
    opts.signingKey,
  );
}

/** fsyncs the log, then appends and fsyncs a checkpoint for everything written. */
export function checkpointSync(s: ChainState, opts: ChainedLogOptions): void {
  if (s.seq === s.lastCheckpoint) return;
  fdatasyncSync(s.fd);
  const cp = signHead(opts, s.seq, s.prev);
  writeSync(s.cpFd, JSON.stringify(cp) + '\n');
  fdatasyncSync(s.cpFd);
  s.lastCheckpoint = s.seq;
  opts.onCheckpoint?.(cp);
}

function lastRecordOf(file: string): { seq: number; prev: string; torn: string | undefined } {
  const { lastLine, torn } = readLogTail(file);
  if (lastLine === undefined) return { seq: 0, prev: GENESIS, torn };
  let last: { seq?: unknown };
  try {
    last = JSON.parse(lastLine) as { seq?: unknown };
  } catch {
    throw new AuditError(
      `audit log ${file} ends with an unreadable record; run 'vulnvault audit verify' and keep a copy before moving it aside`,
    );
  }
  if (typeof last.seq !== 'number') {
    throw new AuditError(`audit log ${file} is not a vulnvault chained log`);
  }
  return { seq: last.seq, prev: hashLine(lastLine), torn };
}

/** The last checkpoint line when it vouches for exactly (seq, hash). */
function matchingCheckpoint(file: string, seq: number, hash: string): Checkpoint | undefined {
  const { lastLine } = readLogTail(file);
  if (lastLine === undefined) return undefined;
  try {
    const c = JSON.parse(lastLine) as Checkpoint;
    return c.seq === seq && c.hash === hash ? c : undefined;
  } catch {
    return undefined;
  }
}

export function openChainState(opts: ChainedLogOptions): ChainState {
  mkdirSync(dirname(opts.file), { recursive: true, mode: 0o700 });
  const fd = openSync(opts.file, 'a', 0o600);
  const cpFd = openSync(opts.checkpointFile, 'a', 0o600);
  try {
    const { seq, prev, torn } = lastRecordOf(opts.file);
    const s: ChainState = { fd, cpFd, seq, prev, lastCheckpoint: 0 };
    if (torn !== undefined) {
      // A crash tore the last write. Keep the bytes, end the line, and record
      // what was torn so that verify can tell a crash from an edit.
      writeSync(fd, '\n');
      writeSync(
        fd,
        nextLine(s, {
          time: new Date().toISOString(),
          log: opts.name,
          event: 'torn-record-sealed',
          tornBytes: Buffer.byteLength(torn),
          tornHash: hashLine(torn),
        }) + '\n',
      );
    }
    if (s.seq > 0) {
      // Vouch at once for what a crash left after the last checkpoint, so a
      // log never runs more than checkpointEvery records past its last
      // checkpoint (audit verify holds every log to that).
      const last = matchingCheckpoint(opts.checkpointFile, s.seq, s.prev);
      if (last) {
        s.lastCheckpoint = s.seq;
        opts.onCheckpoint?.(last);
      } else {
        checkpointSync(s, opts);
      }
    }
    return s;
  } catch (err) {
    closeSync(fd);
    closeSync(cpFd);
    throw err;
  }
}
