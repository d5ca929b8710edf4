// Access logs written before the access log was chained (plain JSON lines
// with no `seq`) cannot be continued as a chain. Such a file is renamed
// aside, never deleted, and the caller reports where it went.

import { closeSync, existsSync, openSync, readSync, renameSync } from 'node:fs';

function firstLine(file: string): string | undefined {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(64 * 1024);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const text = buf.subarray(0, n).toString('utf8');
    const nl = text.indexOf('\n');
    return nl === -1 ? undefined : text.slice(0, nl);
  } finally {
    closeSync(fd);
  }
}

/** Renames an unchained log aside and returns its new path; undefined when there was none. */
export function moveAsideUnchainedLog(file: string, now = new Date()): string | undefined {
  if (!existsSync(file)) return undefined;
  const line = firstLine(file);
  if (line === undefined) return undefined;
  try {
    const r = JSON.parse(line) as { seq?: unknown; prev?: unknown };
    if (typeof r.seq === 'number' && typeof r.prev === 'string') return undefined;
  } catch {
    // An unreadable first line is not ours to judge: the chain's own
    // opening reports it.
    return undefined;
  }
  const aside = `${file}.unchained-${now.toISOString().replace(/[:.]/g, '-')}`;
  renameSync(file, aside);
  return aside;
}
