// An append-only, hash-chained JSON-lines log with signed checkpoints.
// Each record is one synchronous O_APPEND write. A checkpoint (every N
// records, every T seconds when there is something new, and on close) first
// fsyncs the log, then appends and fsyncs the signed checkpoint, so a
// checkpoint never vouches for records that are not on disk.

import { closeSync, writeSync } from 'node:fs';
import { checkpointSync, nextLine, openChainState, type ChainedLogOptions } from './chain-state.js';

export type { ChainedLogOptions } from './chain-state.js';

export interface ChainedLog {
  append(body: Record<string, unknown>): void;
  checkpoint(): void;
  close(): void;
  readonly seq: number;
}

export function openChainedLog(opts: ChainedLogOptions): ChainedLog {
  const s = openChainState(opts);
  let closed = false;
  const checkpoint = () => checkpointSync(s, opts);
  const timer = setInterval(checkpoint, opts.checkpointIntervalMs);
  timer.unref();

  return {
    get seq() {
      return s.seq;
    },
    append(body) {
      if (closed) throw new Error(`audit log ${opts.name} is closed`);
      writeSync(s.fd, nextLine(s, body) + '\n');
      if (s.seq - s.lastCheckpoint >= opts.checkpointEvery) checkpoint();
    },
    checkpoint,
    close() {
      if (closed) return;
      clearInterval(timer);
      checkpoint();
      closed = true;
      closeSync(s.fd);
      closeSync(s.cpFd);
    },
  };
}
