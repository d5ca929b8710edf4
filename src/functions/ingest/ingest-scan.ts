// POST /v1/orgs/{org}/scans: one streamed upload → one atomic import.
// authorize runs before a byte of the body is read, so a refused upload costs
// nothing. The body is counted (413 over the cap), hashed (Idempotency-Key)
// and fed chunk by chunk to the format's push parser; findings go to the
// store's staging in batches, and commit applies the whole scan at once.
// Any error before commit aborts the import: nothing from it is stored.

import { createHash, randomUUID } from 'node:crypto';
import { VaultError } from '../../core/errors.js';
import { FIELD_LIMITS, type CoveredAsset, type ScannedFinding } from '../../core/finding.js';
import type { CallContext } from '../../core/principal.js';
import type { AuditSink, FindingsWriter, IdempotencyStore, ScanCounts } from '../../core/ports.js';
import { dataAccessEvent } from '../data-access.js';
import type { ParserFactory, ScanFormat } from '../../formats/format.js';
import type { Authorize } from '../authorize.js';
import {
  checkIdempotencyKey,
  claimKey,
  finishIdempotent,
  idempotencyScope,
  replay,
  type Replayable,
} from '../idempotency.js';

// Findings go to the store 250 at a time: a batch is gone before the next
// scavenge, so parsing garbage dies young instead of being promoted (with
// 2,000 a batch outlived two scavenges: the old generation filled with
// findings and the GC took a fifth of the upload's CPU; peak RSS fell from
// about 300 to 190 MiB). The DynamoDB store writes 25-item batches anyway.
const BATCH = 250;

export interface IngestDeps {
  authorize: Authorize;
  writer: FindingsWriter;
  audit: AuditSink;
  idempotency: IdempotencyStore;
  parsers: Readonly<Record<ScanFormat, ParserFactory>>;
  maxBytes: number;
}

export interface IngestRequest {
  org: string;
  format: ScanFormat;
  body: AsyncIterable<Uint8Array>;
  idempotencyKey?: string | undefined;
}

export interface ScanResult extends ScanCounts {
  scanId: string;
  received: number;
  durationMs: number;
}

export async function ingestScan(
  ctx: CallContext,
  req: IngestRequest,
  deps: IngestDeps,
): Promise<Replayable<ScanResult>> {
  const key = checkIdempotencyKey(req.idempotencyKey);
  await deps.authorize(ctx, 'findings:write', [req.org]);
  const hash = createHash('sha256').update(`${req.format}\n`);
  if (key === undefined) {
    // No Idempotency-Key: nothing to compare the body with later, so it is not hashed.
    return { status: 201, body: await importScan(ctx, req, deps, undefined), replayed: false };
  }
  const scope = idempotencyScope(ctx);
  const st = await claimKey(deps.idempotency, scope, key);
  if (st.state === 'done') {
    // Same key again: read (and count) the body only to compare it.
    for await (const chunk of limited(req.body, deps.maxBytes)) hash.update(chunk);
    return replay<ScanResult>(st, hash.digest('hex'));
  }
  return finishIdempotent(
    deps.idempotency,
    scope,
    key,
    () => hash.digest('hex'),
    async () => ({ status: 201, body: await importScan(ctx, req, deps, hash) }),
  );
}

async function importScan(
  ctx: CallContext,
  req: IngestRequest,
  deps: IngestDeps,
  hash: ReturnType<typeof createHash> | undefined,
): Promise<ScanResult> {
  const started = Date.now();
  const scanId = randomUUID();
  const imp = await deps.writer.beginScanImport({
    scanId,
    org: req.org,
    format: req.format,
    principal: ctx.principal.id,
    startedAt: new Date(started).toISOString(),
  });
  let findings: ScannedFinding[] = [];
  let assets: CoveredAsset[] = [];
  let batchAssets = new Set<string>();
  let received = 0;
  let coveredAny = false;
  const parser = deps.parsers[req.format]({
    finding(f) {
      received++;
      checkIdentity(f, received);
      findings.push(f);
    },
    asset(scanner, asset) {
      coveredAny = true;
      const k = `${scanner}\n${asset}`;
      if (batchAssets.has(k)) return;
      batchAssets.add(k);
      assets.push({ scanner, asset });
    },
  });
  const flush = async () => {
    if (findings.length === 0 && assets.length === 0) return;
    const f = findings;
    const a = assets;
    findings = [];
    assets = [];
    batchAssets = new Set();
    await imp.stage(f, a);
  };
  try {
    for await (const chunk of limited(req.body, deps.maxBytes)) {
      hash?.update(chunk);
      await parser.write(chunk);
      if (findings.length >= BATCH || assets.length >= BATCH) await flush();
    }
    await parser.end();
    await flush();
    if (received === 0 && !coveredAny) {
      throw new VaultError('scan_empty', 'the upload contains no findings; nothing was stored');
    }
    const counts = await imp.commit(received);
    deps.audit.dataAccess(dataAccessEvent(ctx, 'findings:write', req.org, received, scanId));
    return { scanId, received, ...counts, durationMs: Date.now() - started };
  } catch (err) {
    await imp.abort().catch(() => undefined);
    throw err;
  }
}

/** Yields the body's chunks, failing with 413 once more than maxBytes arrived. */
async function* limited(
  body: AsyncIterable<Uint8Array>,
  maxBytes: number,
): AsyncGenerator<Uint8Array> {
  let total = 0;
  try {
    for await (const chunk of body) {
      total += chunk.byteLength;
      if (total > maxBytes) {
        throw new VaultError(
          'payload_too_large',
          `the upload exceeds the limit of ${maxBytes} bytes; nothing was stored`,
        );
      }
      yield chunk;
    }
  } catch (err) {
    if (err instanceof VaultError) throw err;
    throw new VaultError(
      'bad_request',
      'the upload ended before the body was complete; nothing was stored',
      { cause: err },
    );
  }
}

function checkIdentity(f: ScannedFinding, n: number): void {
  const bad = (what: string): never => {
    throw new VaultError('scan_invalid', `finding ${n}: ${what}; nothing was stored`);
  };
  if (f.asset.length === 0 || f.asset.length > FIELD_LIMITS.asset) {
    bad(`the asset must be 1–${FIELD_LIMITS.asset} characters`);
  }
  if (f.pluginId.length === 0 || f.pluginId.length > FIELD_LIMITS.pluginId) {
    bad(`the plugin/rule id must be 1–${FIELD_LIMITS.pluginId} characters`);
  }
  if (f.scanner.length === 0 || f.scanner.length > FIELD_LIMITS.scanner) {
    bad(`the scanner name must be 1–${FIELD_LIMITS.scanner} characters`);
  }
  if (f.protocol.length > FIELD_LIMITS.protocol) bad('the protocol is too long');
  if (!Number.isInteger(f.port) || f.port < 0) bad('the port is invalid');
}
