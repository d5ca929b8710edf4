// Looks a record up from the end of a chained log without reading it whole:
// the start-up check needs only the last seq and the hash of one record near
// the end (the last recorded head), and logs can be gigabytes.

import { closeSync, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import { hashLine } from './chain.js';

const CHUNK = 64 * 1024;
// formatRecord writes seq first; a line without it (a sealed torn record)
// is skipped.
const SEQ = /^\{"seq":(\d+),/;

export interface RecordLookup {
  /** Seq of the last complete record (0 for an empty or missing log). */
  lastSeq: number;
  /** Hash of the line holding record `seq`, when the log has it. */
  hash: string | undefined;
}

/** Complete lines of a file, from the last one backwards. */
function* linesFromEnd(file: string): Generator<string> {
  const fd = openSync(file, 'r');
  try {
    let pos = fstatSync(fd).size;
    // Bytes after `pos` not yielded yet: the start of a line, with its \n.
    let tail = Buffer.alloc(0);
    let seenNewline = false;
    while (pos > 0) {
      const start = Math.max(0, pos - CHUNK);
      const part = Buffer.alloc(pos - start);
      readSync(fd, part, 0, part.length, start);
      pos = start;
      let buf = Buffer.concat([part, tail]);
      if (!seenNewline) {
        // Bytes after the last newline are a torn write, not a record.
        const last = buf.lastIndexOf(0x0a);
        tail = Buffer.alloc(0);
        if (last === -1) continue;
        buf = buf.subarray(0, last + 1);
        seenNewline = true;
      }
      // buf ends with \n; `end` is the index of the current line's \n.
      let end = buf.length - 1;
      for (;;) {
        const nl = end > 0 ? buf.lastIndexOf(0x0a, end - 1) : -1;
        if (nl === -1) break;
        yield buf.subarray(nl + 1, end).toString('utf8');
        end = nl;
      }
      tail = buf.subarray(0, end + 1);
    }
    if (tail.length > 0) yield tail.subarray(0, tail.length - 1).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

export function recordAt(file: string, seq: number): RecordLookup {
  if (!existsSync(file)) return { lastSeq: 0, hash: undefined };
  let lastSeq: number | undefined;
  for (const line of linesFromEnd(file)) {
    const m = SEQ.exec(line);
    if (!m) continue;
    const s = Number(m[1]);
    lastSeq ??= s;
    if (s === seq) return { lastSeq, hash: hashLine(line) };
    if (s < seq) break;
  }
  return { lastSeq: lastSeq ?? 0, hash: undefined };
}
