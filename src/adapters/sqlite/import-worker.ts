// Worker thread that owns a findings connection for scan imports, so the
// SQLite work of an upload runs on another core while the main thread keeps
// decrypting and parsing the stream. Messages are handled strictly in order:
//   begin(meta) · stage(findings, assets)* · commit(received) | abort
// Each gets one reply: {ok: true, value} or {ok: false, error}.
// begin carries the org's data key: findings are sealed here, on this thread,
// with envelope.ts's findingSealer (or the `sealerFor` of the module the
// ciphers name in workerSealerModule: only the crypto benchmark's baseline).

import { closeSync, fdatasync, fstatSync, openSync, readlinkSync, statSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import type { ScanMeta } from '../../core/ports.js';
import { findingSealer, type FindingSealer } from '../../crypto/envelope.js';
import { openFindingsDb } from './database.js';
import { createScanImporter, type HashedScanImport, type Prepared } from './scan-import.js';
import { WriteLock } from './write-lock.js';
import { fromTuple, type FindingTuple } from './finding-tuple.js';

/** What the worker is started with (workerData). */
export interface ImportWorkerData {
  /** The findings database file. */
  file: string;
  /** See FindingCiphers.workerSealerModule; unset: findingSealer. */
  sealerModule?: string;
}

export type ImportRequest =
  | { op: 'begin'; meta: ScanMeta; dek: Uint8Array }
  | {
      op: 'stage';
      rows: FindingTuple[];
      assets: Parameters<HashedScanImport['stage']>[1];
      prepared: Prepared;
    }
  | { op: 'commit'; received: number }
  | { op: 'abort' };

export type ImportReply =
  | { ok: true; value?: unknown }
  | { ok: false; error: { name: string; code?: string; message: string } };

/**
 * Imports run below the main thread's scheduling priority (nice +NICE, this
 * thread only): when the cores are busy, the main thread (TLS, parsing, every
 * other request) goes first, and the import catches up from its queue of
 * batches. Linux only (/proc/thread-self names this thread); elsewhere, and
 * if refused, the priority stays as it is.
 */
const NICE = 5;
function lowerThisThreadsPriority(): void {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, Math.min(19, getPriority(tid) + NICE));
  } catch {
    // not Linux, or not allowed: run at the process's priority
  }
}

const port = parentPort;
if (port) {
  lowerThisThreadsPriority();
  const { file, sealerModule } = workerData as ImportWorkerData;
  const db = openFindingsDb(file);
  // A scan import commits one large transaction. With automatic checkpoints
  // the COMMIT itself would copy the whole WAL into the database file before
  // the client gets its answer; instead the commit is made durable in the WAL
  // (synchronous = FULL), answered, and only then checkpointed (below).
  db.pragma('wal_autocheckpoint = 0');
  db.pragma('journal_size_limit = 67108864');
  db.pragma('cache_size = -8192');
  const checkpoint = () => {
    try {
      db.pragma('wal_checkpoint(PASSIVE)');
    } catch {
      // A busy database is checkpointed after the next import instead.
    }
  };
  // The checkpoint (copying the import's pages from the WAL into the database
  // file: about 0.2 s per 100 MB) waits until no import has begun for a
  // moment, so back-to-back uploads don't pay for each other's; a WAL over
  // WAL_LIMIT is checkpointed right after the commit whatever comes next.
  const IDLE_MS = 250;
  const WAL_LIMIT = 512 * 1024 * 1024;
  const wal = `${file}-wal`;
  let idleTimer: NodeJS.Timeout | undefined;
  const afterCommit = () => {
    let size = 0;
    try {
      size = statSync(wal).size;
    } catch {
      // no WAL file: nothing to checkpoint
    }
    if (size > WAL_LIMIT) checkpoint();
    else if (size > 0) idleTimer = setTimeout(checkpoint, IDLE_MS);
  };
  // The commit's fsync (synchronous = FULL) must flush every WAL page the
  // import wrote. Syncing in the background (thread pool) each time the WAL
  // has grown by SYNC_STEP leaves it only the last few: it took ~50 of the
  // ~150 ms a 100 MB import's COMMIT cost. Durability is unchanged: COMMIT
  // still fsyncs. The descriptor is opened for an import and closed after
  // it, once no sync is pending on it.
  const SYNC_STEP = 8 * 1024 * 1024;
  let walFd: number | undefined;
  let syncing = 0;
  let done = false;
  let syncedAt = 0;
  const closeWal = () => {
    if (walFd === undefined || syncing > 0) return;
    closeSync(walFd);
    walFd = undefined;
  };
  const syncAhead = () => {
    try {
      done = false;
      walFd ??= openSync(wal, 'r');
      const size = fstatSync(walFd).size;
      if (size < syncedAt) syncedAt = 0; // the WAL restarted after a checkpoint
      if (size - syncedAt < SYNC_STEP) return;
      syncedAt = size;
      syncing++;
      // Best effort: COMMIT syncs anyway.
      fdatasync(walFd, () => {
        syncing--;
        if (done) closeWal();
      });
    } catch {
      // no WAL yet: the next batch tries again
    }
  };
  const endSyncs = () => {
    done = true;
    syncedAt = 0;
    closeWal();
  };
  const begin = createScanImporter(db, new WriteLock());
  let current: HashedScanImport | undefined;
  let chain = Promise.resolve();
  type SealerFor = (dek: Uint8Array) => FindingSealer;
  let sealerFor: Promise<SealerFor> | undefined;
  const loadSealerFor = (): Promise<SealerFor> =>
    (sealerFor ??=
      sealerModule === undefined
        ? Promise.resolve(findingSealer)
        : import(sealerModule).then((m: { sealerFor: SealerFor }) => m.sealerFor));

  const handle = async (msg: ImportRequest): Promise<unknown> => {
    switch (msg.op) {
      case 'begin':
        clearTimeout(idleTimer);
        if (current) await current.abort();
        current = await begin(msg.meta, (await loadSealerFor())(msg.dek));
        return undefined;
      case 'stage':
        if (!current) throw new Error('no import in progress');
        return current.stage(msg.rows.map(fromTuple), msg.assets, msg.prepared);
      case 'commit': {
        if (!current) throw new Error('no import in progress');
        const imp = current;
        current = undefined;
        return imp.commit(msg.received);
      }
      case 'abort': {
        const imp = current;
        current = undefined;
        return imp?.abort();
      }
    }
  };

  port.on('message', (msg: ImportRequest) => {
    chain = chain.then(async () => {
      try {
        const value = await handle(msg);
        port.postMessage({ ok: true, value } satisfies ImportReply);
        if (msg.op === 'commit') afterCommit();
        if (msg.op === 'stage') syncAhead();
      } catch (err) {
        const e = err as Error & { code?: string; cause?: { code?: string } };
        port.postMessage({
          ok: false,
          error: { name: e.name, code: e.code ?? e.cause?.code, message: e.message },
        } satisfies ImportReply);
      }
      if (msg.op === 'commit' || msg.op === 'abort') endSyncs();
    });
  });
}
