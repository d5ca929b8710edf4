// The access log's chain (LO 1.2, 1.5): the same records and signed
// checkpoints as chained-log.ts, but written off the request path. append()
// only formats the record (seq, prev, SHA-256: microseconds) and queues it;
// batches are written every flushIntervalMs, or sooner when 64 KiB are
// waiting. A checkpoint follows an fdatasync of what was written, so it never
// vouches for records that are not on disk; batches are cut so that the log
// never runs more than checkpointEvery records past its last checkpoint.
//
// A write that fails (disk full, I/O error) is reported through onError and
// retried from the byte where it stopped, so the chain on disk stays whole;
// records wait in memory meanwhile.

import { closeSync, fdatasync, write } from 'node:fs';
import { promisify } from 'node:util';
import { nextLine, openChainState, signHead, type ChainedLogOptions } from './chain-state.js';

/** Writes what it can of buf from off (appending: the fd is O_APPEND); resolves with the count. */
function writeAt(fd: number, buf: Buffer, off: number): Promise<number> {
  return new Promise((resolve, reject) =>
    write(fd, buf, off, buf.length - off, null, (err, n) => (err ? reject(err) : resolve(n))),
  );
}
const datasync = promisify(fdatasync);

const EAGER_FLUSH_BYTES = 64 * 1024;

export interface BatchedChainedLogOptions extends ChainedLogOptions {
  flushIntervalMs: number;
  onError: (err: Error) => void;
}

export interface BatchedChainedLog {
  append(body: Record<string, unknown>): void;
  /** Writes what is queued and a final checkpoint. */
  close(): Promise<void>;
}

export function openBatchedChainedLog(opts: BatchedChainedLogOptions): BatchedChainedLog {
  const s = openChainState(opts);
  const every = opts.checkpointEvery;
  let lines: string[] = [];
  let hashes: string[] = [];
  let queuedBytes = 0;
  /** Last record on disk (written, maybe not yet fsynced) and its hash. */
  let written = s.seq;
  let writtenHash = s.prev;
  let inFlight: { buf: Buffer; off: number; seq: number; hash: string } | undefined;
  let lastCheckpointAt = Date.now();
  let running: Promise<void> | undefined;
  let again = false;
  let closed = false;
  let closing: Promise<void> | undefined;

  async function checkpoint(): Promise<void> {
    lastCheckpointAt = Date.now();
    if (written === s.lastCheckpoint) return;
    await datasync(s.fd);
    const cp = signHead(opts, written, writtenHash);
    const buf = Buffer.from(JSON.stringify(cp) + '\n');
    for (let off = 0; off < buf.length;) off += await writeAt(s.cpFd, buf, off);
    await datasync(s.cpFd);
    s.lastCheckpoint = cp.seq;
    opts.onCheckpoint?.(cp);
  }

  async function drain(final: boolean): Promise<void> {
    for (;;) {
      if (!inFlight) {
        if (lines.length === 0) break;
        const room = Math.max(1, every - (written - s.lastCheckpoint));
        const n = Math.min(lines.length, room);
        const batch = lines.slice(0, n);
        inFlight = {
          buf: Buffer.from(batch.join('\n') + '\n'),
          off: 0,
          seq: written + n,
          hash: hashes[n - 1] as string,
        };
        lines = lines.slice(n);
        hashes = hashes.slice(n);
        queuedBytes -= inFlight.buf.length;
      }
      while (inFlight.off < inFlight.buf.length) {
        inFlight.off += await writeAt(s.fd, inFlight.buf, inFlight.off);
      }
      written = inFlight.seq;
      writtenHash = inFlight.hash;
      inFlight = undefined;
      if (written - s.lastCheckpoint >= every) await checkpoint();
    }
    if (final || Date.now() - lastCheckpointAt >= opts.checkpointIntervalMs) await checkpoint();
  }

  function run(final = false): Promise<void> {
    if (running) {
      again = true;
      return running;
    }
    running = drain(final)
      .catch((err: unknown) => opts.onError(err as Error))
      .finally(() => {
        running = undefined;
        if (again && !closed) {
          again = false;
          void run();
        }
      });
    return running;
  }

  const timer = setInterval(() => void run(), opts.flushIntervalMs);
  timer.unref();

  return {
    append(body) {
      if (closed) return;
      const line = nextLine(s, body);
      lines.push(line);
      hashes.push(s.prev);
      queuedBytes += Buffer.byteLength(line) + 1;
      if (queuedBytes >= EAGER_FLUSH_BYTES && !running) setImmediate(() => void run());
    },
    close() {
      closing ??= (async () => {
        closed = true;
        clearInterval(timer);
        if (running) await running;
        await run(true);
        closeSync(s.fd);
        closeSync(s.cpFd);
      })();
      return closing;
    },
  };
}
