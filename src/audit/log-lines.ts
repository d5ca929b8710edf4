// Reads a log file line by line without loading it whole, and tells whether
// the final line was terminated by a newline (a torn write is not).

import {
  closeSync,
  createReadStream,
  existsSync,
  fstatSync,
  openSync,
  readFileSync,
  readSync,
} from 'node:fs';

export interface LogLine {
  text: string;
  /** False only for a final line with no newline after it. */
  terminated: boolean;
}

export async function* readLogLines(file: string): AsyncGenerator<LogLine> {
  if (!existsSync(file)) return;
  let rest = '';
  for await (const chunk of createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
    const parts = (rest + (chunk as string)).split('\n');
    rest = parts.pop() ?? '';
    for (const text of parts) yield { text, terminated: true };
  }
  if (rest !== '') yield { text: rest, terminated: false };
}

export function readSmallLogLines(file: string): LogLine[] {
  if (!existsSync(file)) return [];
  const parts = readFileSync(file, 'utf8').split('\n');
  const rest = parts.pop() ?? '';
  const lines = parts.map((text) => ({ text, terminated: true }));
  if (rest !== '') lines.push({ text: rest, terminated: false });
  return lines;
}

/**
 * The end of a log: its last complete line and any torn bytes after it,
 * read backwards in chunks so a large log costs little at start-up.
 */
export function readLogTail(file: string): {
  lastLine: string | undefined;
  torn: string | undefined;
} {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    let buf = Buffer.alloc(0);
    let pos = size;
    const CHUNK = 64 * 1024;
    for (;;) {
      const start = Math.max(0, pos - CHUNK);
      const part = Buffer.alloc(pos - start);
      readSync(fd, part, 0, part.length, start);
      buf = Buffer.concat([part, buf]);
      pos = start;
      const text = buf.toString('utf8');
      const endsWithNewline = text.endsWith('\n');
      const lines = text.split('\n');
      const tornText = endsWithNewline ? undefined : lines.pop();
      if (endsWithNewline) lines.pop();
      // Need one complete line before the tail, or the whole file.
      if (lines.length >= 2 || pos === 0) {
        return { lastLine: lines.at(-1) || undefined, torn: tornText || undefined };
      }
    }
  } finally {
    closeSync(fd);
  }
}
