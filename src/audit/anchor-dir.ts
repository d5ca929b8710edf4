// The local anchor (LO 1.5): a directory outside the data directory (by
// default DIR.audit-anchor, beside DIR.key-admin) where the server keeps
// every log's signed heads twice over:
//   heads.json    the latest head of each log, replaced atomically; read at
//                 start-up and by `audit verify`
//   anchor.jsonl  every head ever sent, appended (like CloudTrail's digest
//                 files): the history to copy off the host
// The start-up check reads heads.json whole and only the end of anchor.jsonl.

import { existsSync, readdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { readHeadFile, readHeadFileTail, type HeadLines } from './heads.js';

export const HEADS_FILE = 'heads.json';
export const ANCHOR_FILE = 'anchor.jsonl';

const START_UP_TAIL_BYTES = 1024 * 1024;

export interface HeadSource {
  file: string;
  lines: HeadLines;
}

/** What the anchor directory holds, for the start-up check (tail only) or verify (whole). */
export function anchorDirHeads(dir: string, whole: boolean): HeadSource[] {
  const out: HeadSource[] = [];
  const heads = join(dir, HEADS_FILE);
  const anchor = join(dir, ANCHOR_FILE);
  const h = readHeadFile(heads);
  if (h) out.push({ file: heads, lines: h });
  const a = whole ? readHeadFile(anchor) : readHeadFileTail(anchor, START_UP_TAIL_BYTES);
  if (a) out.push({ file: anchor, lines: a });
  return out;
}

/**
 * For `init`: an anchor directory left by an earlier data directory of the
 * same name anchors logs that no longer exist, and would stop the new server
 * from starting. It is renamed aside (never deleted); returns where to.
 */
export function setAsideStaleAnchorDir(dir: string, now = new Date()): string | undefined {
  if (!existsSync(dir) || readdirSync(dir).length === 0) return undefined;
  const aside = `${dir}.replaced-${now.toISOString().replace(/[:.]/g, '-')}`;
  renameSync(dir, aside);
  return aside;
}
