// Worker thread that owns a findings connection for scan imports, so the
// SQLite work of an upload runs on another core while the main thread keeps
// decrypting and parsing the stream. Messages are handled strictly in order:
//   begin(meta) · stage(findings, assets)* · commit(received) | abort
// Each gets one reply: {ok: true, value} or {ok: false, error}.
// begin carries the org's data key: findings are sealed here, on this thread.

import { parentPort, workerData } from 'node:worker_threads';
import type { ScanMeta } from '../../core/ports.js';
import { aesFindingSealer } from '../../crypto/envelope.js';
import { plaintextSealerForBenchmark } from '../../crypto/plaintext-sealer.js';
import { openFindingsDb } from './database.js';
import { createScanImporter, type HashedScanImport, type Prepared } from './scan-import.js';
import { WriteLock } from './write-lock.js';

export type ImportRequest =
  | { op: 'begin'; meta: ScanMeta; dek: Uint8Array | null }
  | {
      op: 'stage';
      findings: Parameters<HashedScanImport['stage']>[0];
      assets: Parameters<HashedScanImport['stage']>[1];
      prepared: Prepared;
    }
  | { op: 'commit'; received: number }
  | { op: 'abort' };

export type ImportReply =
  | { ok: true; value?: unknown }
  | { ok: false; error: { name: string; code?: string; message: string } };

const port = parentPort;
if (port) {
  const db = openFindingsDb((workerData as { file: string }).file);
  // A scan import commits one large transaction. With automatic checkpoints
  // the COMMIT itself would copy the whole WAL into the database file before
  // the client gets its answer; instead the commit is made durable in the WAL
  // (synchronous = FULL), answered, and only then checkpointed (below).
  db.pragma('wal_autocheckpoint = 0');
  db.pragma('journal_size_limit = 67108864');
  const checkpoint = () => {
    try {
      db.pragma('wal_checkpoint(PASSIVE)');
    } catch {
      // A busy database is checkpointed after the next import instead.
    }
  };
  const begin = createScanImporter(db, new WriteLock());
  let current: HashedScanImport | undefined;
  let chain = Promise.resolve();

  const handle = async (msg: ImportRequest): Promise<unknown> => {
    switch (msg.op) {
      case 'begin':
        if (current) await current.abort();
        // dek null: only the benchmark's plaintext baseline (finding-ciphers.ts).
        current = await begin(
          msg.meta,
          msg.dek ? aesFindingSealer(msg.dek) : plaintextSealerForBenchmark,
        );
        return undefined;
      case 'stage':
        if (!current) throw new Error('no import in progress');
        return current.stage(msg.findings, msg.assets, msg.prepared);
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
        if (msg.op === 'commit') checkpoint();
      } catch (err) {
        const e = err as Error & { code?: string; cause?: { code?: string } };
        port.postMessage({
          ok: false,
          error: { name: e.name, code: e.code ?? e.cause?.code, message: e.message },
        } satisfies ImportReply);
      }
    });
  });
}
