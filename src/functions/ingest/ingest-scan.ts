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
import { sniff, SNIFF_BYTES, type Family } from '../../formats/detect.js';
import type { FormatParser, ParserFactory, ScanFormat } from '../../formats/format.js';
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
  /** The format, or the family whose body's start tells it (detect.ts). */
  format: ScanFormat | Family;
  body: AsyncIterable<Uint8Array>;
  idempotencyKey?: string | undefined;
  /** The target for formats whose files name none (?target=). */
  target?: string | undefined;
}

/** At most this many target names in a scan result; targetCount has them all. */
export const RESULT_TARGETS = 100;

export interface ScanResult extends ScanCounts {
  scanId: string;
  format: ScanFormat;
  received: number;
  /** The targets the scan covered (the first RESULT_TARGETS, sorted). */
  targets: string[];
  targetCount: number;
  durationMs: number;
}

export async function ingestScan(
  ctx: CallContext,
  req: IngestRequest,
  deps: IngestDeps,
): Promise<Replayable<ScanResult>> {
  const key = checkIdempotencyKey(req.idempotencyKey);
  await deps.authorize(ctx, 'findings:write', [req.org]);
  const hash = createHash('sha256').update(`${req.format}\n${req.target ?? ''}\n`);
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
  // The body's first chunks, read to detect the format when only its family
  // is known; they are then parsed like the rest.
  const body = limited(req.body, deps.maxBytes)[Symbol.asyncIterator]();
  const head: Uint8Array[] = [];
  let format: ScanFormat;
  if (isFamily(req.format)) {
    let headBytes = 0;
    let detected: ScanFormat | undefined;
    for (;;) {
      const next = await body.next();
      if (!next.done) {
        head.push(next.value);
        headBytes += next.value.byteLength;
        hash?.update(next.value);
      }
      const start = Buffer.concat(head, Math.min(headBytes, SNIFF_BYTES));
      detected = sniff(req.format, start, next.done === true);
      if (detected !== undefined || next.done) break;
    }
    format = detected ?? sniff(req.format, Buffer.concat(head), true) ?? 'native';
  } else {
    format = req.format;
  }
  const imp = await deps.writer.beginScanImport({
    scanId,
    org: req.org,
    format,
    principal: ctx.principal.id,
    startedAt: new Date(started).toISOString(),
  });
  let findings: ScannedFinding[] = [];
  let assets: CoveredAsset[] = [];
  let batchAssets = new Set<string>();
  let received = 0;
  // Every covered target once (bounded: past 100,000 only counted).
  const targets = new Set<string>();
  let targetCount = 0;
  let parser: FormatParser | undefined;
  // Batches the sink stores while a parser is still inside write() or end()
  // (SARIF replays held-back results there): chained, so stages run in order,
  // and awaited after each write and before commit.
  let pending: Promise<void> | undefined;
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
    parser = deps.parsers[format](
      {
        finding(f) {
          received++;
          checkIdentity(f, received);
          findings.push(f);
          if (findings.length < BATCH) return;
          const p = (pending ?? Promise.resolve()).then(flush);
          p.catch(() => undefined); // awaited below; never an unhandled rejection
          pending = p;
          return p;
        },
        asset(scanner, asset, category = '') {
          const k = JSON.stringify([scanner, asset, category]);
          if (batchAssets.has(k)) return;
          batchAssets.add(k);
          checkTarget(scanner, asset, category);
          assets.push({ scanner, asset, category });
          if (!targets.has(asset)) {
            targetCount++;
            if (targets.size < 100_000) targets.add(asset);
          }
        },
      },
      { target: req.target },
    );
    const settle = async () => {
      const p = pending;
      pending = undefined;
      await p;
      if (findings.length >= BATCH || assets.length >= BATCH) await flush();
    };
    for (const chunk of head) {
      await parser.write(chunk);
      await settle();
    }
    for (let next = await body.next(); !next.done; next = await body.next()) {
      const chunk = next.value;
      hash?.update(chunk);
      await parser.write(chunk);
      await settle();
    }
    await parser.end();
    await pending;
    await flush();
    if (received === 0 && targetCount === 0) {
      throw new VaultError(
        'scan_empty',
        'the upload contains no findings and names no target it covers; nothing was stored',
      );
    }
    const counts = await imp.commit(received);
    deps.audit.dataAccess(dataAccessEvent(ctx, 'findings:write', req.org, received, scanId));
    return {
      scanId,
      format,
      received,
      ...counts,
      targets: [...targets].sort().slice(0, RESULT_TARGETS),
      targetCount,
      durationMs: Date.now() - started,
    };
  } catch (err) {
    await pending?.catch(() => undefined);
    try {
      await parser?.abort?.();
    } catch {
      // the import's own error is the one to report
    }
    await imp.abort().catch(() => undefined);
    await body.return?.(undefined).catch(() => undefined);
    throw err;
  }
}

function isFamily(f: ScanFormat | Family): f is Family {
  return f === 'json' || f === 'xml' || f === 'csv';
}

// eslint-disable-next-line no-control-regex -- the point: refuse control characters
const CONTROL = /[\u0000-\u001f\u007f]/;

/** A covered target as a parser declares it: bounded, no control characters. */
function checkTarget(scanner: string, asset: string, category: string): void {
  const bad = (what: string): never => {
    throw new VaultError('scan_invalid', `a covered target: ${what}; nothing was stored`);
  };
  if (asset.length === 0 || asset.length > FIELD_LIMITS.asset) {
    bad(`the target must be 1–${FIELD_LIMITS.asset} characters`);
  }
  if (scanner.length === 0 || scanner.length > FIELD_LIMITS.scanner) {
    bad(`the scanner name must be 1–${FIELD_LIMITS.scanner} characters`);
  }
  if (category.length > FIELD_LIMITS.category) bad('the category is too long');
  if (CONTROL.test(asset) || CONTROL.test(category)) bad('it contains control characters');
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
  if (f.category.length > FIELD_LIMITS.category) bad('the category is too long');
  if (f.fingerprint.length > FIELD_LIMITS.fingerprint) bad('the fingerprint is too long');
  if (f.location.length > FIELD_LIMITS.location) bad('the location is too long');
  if (!Number.isInteger(f.port) || f.port < 0) bad('the port is invalid');
}
