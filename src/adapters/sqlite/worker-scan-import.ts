// ScanImport whose SQLite work runs in import-worker.ts on its own thread.
// stage() returns as soon as the batch is handed over (up to MAX_IN_FLIGHT
// batches ahead; beyond that it waits, which in turn slows reading the
// request: backpressure end to end). A failure in the worker surfaces at the
// next stage() or at commit(). The main thread's WriteLock is held for the
// whole import, so seed writes on the main connection never overlap it.
// Batches are small (250 findings, ingest-scan.ts) so a batch dies young on
// this thread; the sealed fields travel packed in one buffer per batch
// (transferred, not copied), the rest as tuples. begin() is not awaited: the
// worker may still be checkpointing the previous import while this one's
// body is already being parsed.

import { Worker } from 'node:worker_threads';
import { VaultError, type ErrorCode } from '../../core/errors.js';
import type { ScanImport, ScanMeta, ScanCounts } from '../../core/ports.js';
import type { ImportReply, ImportRequest, ImportWorkerData } from './import-worker.js';
import { toTuple } from './finding-tuple.js';
import { packBatch } from '../../crypto/envelope.js';
import type { WriteLock } from './write-lock.js';

const MAX_IN_FLIGHT = 16;
// Up to MAX_IN_FLIGHT batches (4,000 findings, a few MB) wait for the
// worker, so a slow moment on either side does not stall the other. The
// worker's young generation is sized for the short-lived garbage of sealing:
// at 8 MiB the scavenges took about a third of the encryption cost.
const LIMITS = { maxYoungGenerationSizeMb: 24, maxOldGenerationSizeMb: 256 };

export interface ImportWorker {
  begin(meta: ScanMeta, dek: Buffer): Promise<ScanImport>;
  close(): Promise<void>;
}

function spawnWorker(workerData: ImportWorkerData): Worker {
  if (!import.meta.url.endsWith('.ts')) {
    return new Worker(new URL('./import-worker.js', import.meta.url), {
      workerData,
      resourceLimits: LIMITS,
    });
  }
  // Running from source through the tsx loader (tests, benchmark): loader
  // hooks are per thread, so the worker registers tsx before loading the .ts.
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./import-worker.ts', import.meta.url).href;
  return new Worker(
    `import(${JSON.stringify(tsx)}).then((t) => { t.register(); return import(${JSON.stringify(entry)}); })`,
    { eval: true, workerData, resourceLimits: LIMITS },
  );
}

export function startImportWorker(
  file: string,
  lock: WriteLock,
  sealerModule?: string,
): ImportWorker {
  const worker = spawnWorker({ file, sealerModule });
  worker.unref();
  const waiting: ((r: ImportReply) => void)[] = [];
  let dead: Error | undefined;
  worker.on('message', (r: ImportReply) => waiting.shift()?.(r));
  const fail = (err: Error) => {
    dead = err;
    for (const w of waiting.splice(0)) {
      w({ ok: false, error: { name: 'Error', message: err.message } });
    }
  };
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`import worker exited (${code})`)));

  const send = (msg: ImportRequest, transfer: ArrayBuffer[] = []): Promise<ImportReply> => {
    if (dead)
      return Promise.resolve({ ok: false, error: { name: 'Error', message: dead.message } });
    return new Promise((resolve) => {
      waiting.push(resolve);
      worker.postMessage(msg, transfer);
    });
  };
  const unwrap = (r: ImportReply): unknown => {
    if (r.ok) return r.value;
    if (r.error.name === 'VaultError' && r.error.code) {
      throw new VaultError(r.error.code as ErrorCode, r.error.message);
    }
    throw new VaultError('store_unavailable', 'the findings store is unavailable', {
      cause: new Error(`${r.error.name}: ${r.error.code ?? ''} ${r.error.message}`),
    });
  };

  return {
    async begin(meta, dek) {
      const release = await lock.acquire();
      // Not awaited: the worker may still be checkpointing the previous
      // import (up to a few hundred ms), and the request body can be parsed
      // meanwhile. A failed begin surfaces at the next stage() or commit().
      let inFlight: Promise<ImportReply>[] = [send({ op: 'begin', meta, dek })];
      let finished = false;
      const end = () => {
        if (!finished) {
          finished = true;
          release();
        }
      };
      const drain = async () => {
        const pending = inFlight;
        inFlight = [];
        for (const r of await Promise.all(pending)) unwrap(r);
      };
      return {
        async stage(findings, assets) {
          if (finished) throw new Error('scan import already finished');
          const { bytes, ends } = packBatch(findings);
          // The sealed fields travel once, in the packed buffer; the rest as
          // tuples, which clone in about half the time of objects (no
          // property names per finding).
          inFlight.push(
            send(
              {
                op: 'stage',
                rows: findings.map(toTuple),
                assets,
                prepared: { packed: bytes, ends },
              },
              [bytes.buffer as ArrayBuffer],
            ),
          );
          if (inFlight.length >= MAX_IN_FLIGHT) {
            const first = inFlight.shift() as Promise<ImportReply>;
            unwrap(await first);
          }
        },
        async commit(received) {
          try {
            await drain();
            return unwrap(await send({ op: 'commit', received })) as ScanCounts;
          } catch (err) {
            await send({ op: 'abort' });
            throw err;
          } finally {
            end();
          }
        },
        async abort() {
          if (finished) return;
          try {
            await Promise.allSettled(inFlight);
            inFlight = [];
            unwrap(await send({ op: 'abort' }));
          } finally {
            end();
          }
        },
      };
    },
    async close() {
      await worker.terminate();
    },
  };
}
