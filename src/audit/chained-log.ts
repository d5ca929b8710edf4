// An append-only, hash-chained JSON-lines log with signed checkpoints.
// Each record is one synchronous O_APPEND write. A checkpoint (every N
// records, every T seconds when there is something new, and on close) first
// fsyncs the log, then appends and fsyncs the signed checkpoint, so a
// checkpoint never vouches for records that are not on disk.

import { closeSync, fdatasyncSync, mkdirSync, openSync, writeSync, type PathLike } from 'node:fs';
import { dirname } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { AuditError } from './audit-error.js';
import { formatRecord, GENESIS, hashLine, signCheckpoint } from './chain.js';
import { readLogTail } from './log-lines.js';

export interface ChainedLogOptions {
  file: string;
  checkpointFile: string;
  /** Logical name, signed into every checkpoint ('authz', 'data-access'). */
  name: string;
  signingKey: KeyObject;
  checkpointEvery: number;
  checkpointIntervalMs: number;
}

export interface ChainedLog {
  append(body: Record<string, unknown>): void;
  checkpoint(): void;
  close(): void;
  readonly seq: number;
}

function openAppend(file: PathLike): number {
  return openSync(file, 'a', 0o600);
}

export function openChainedLog(opts: ChainedLogOptions): ChainedLog {
  mkdirSync(dirname(opts.file), { recursive: true, mode: 0o700 });
  const fd = openAppend(opts.file);
  const cpFd = openAppend(opts.checkpointFile);
  let seq = 0;
  let prev = GENESIS;
  let lastCheckpoint = 0;
  let closed = false;

  const { lastLine, torn } = readLogTail(opts.file);
  if (lastLine !== undefined) {
    let last: { seq?: unknown };
    try {
      last = JSON.parse(lastLine) as { seq?: unknown };
    } catch {
      closeSync(fd);
      closeSync(cpFd);
      throw new AuditError(
        `audit log ${opts.file} ends with an unreadable record; run 'vulnvault audit verify' and keep a copy before moving it aside`,
      );
    }
    if (typeof last.seq !== 'number') {
      closeSync(fd);
      closeSync(cpFd);
      throw new AuditError(`audit log ${opts.file} is not a vulnvault chained log`);
    }
    seq = last.seq;
    prev = hashLine(lastLine);
  }

  const write = (body: Record<string, unknown>) => {
    const line = formatRecord(seq + 1, prev, body);
    writeSync(fd, line + '\n');
    seq += 1;
    prev = hashLine(line);
  };

  const checkpoint = () => {
    if (seq === lastCheckpoint) return;
    fdatasyncSync(fd);
    const cp = signCheckpoint(
      { log: opts.name, seq, hash: prev, time: new Date().toISOString() },
      opts.signingKey,
    );
    writeSync(cpFd, JSON.stringify(cp) + '\n');
    fdatasyncSync(cpFd);
    lastCheckpoint = seq;
  };

  if (torn !== undefined) {
    // A crash tore the last write. Keep the bytes, end the line, and record
    // what was torn so that verify can tell a crash from an edit.
    writeSync(fd, '\n');
    write({
      time: new Date().toISOString(),
      log: opts.name,
      event: 'torn-record-sealed',
      tornBytes: Buffer.byteLength(torn),
      tornHash: hashLine(torn),
    });
    checkpoint();
  }

  const timer = setInterval(checkpoint, opts.checkpointIntervalMs);
  timer.unref();

  return {
    get seq() {
      return seq;
    },
    append(body) {
      if (closed) throw new Error(`audit log ${opts.name} is closed`);
      write(body);
      if (seq - lastCheckpoint >= opts.checkpointEvery) checkpoint();
    },
    checkpoint,
    close() {
      if (closed) return;
      clearInterval(timer);
      checkpoint();
      closed = true;
      closeSync(fd);
      closeSync(cpFd);
    },
  };
}
