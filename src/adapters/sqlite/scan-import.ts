// ScanImport on SQLite. An import holds the connection's write lock and one
// write transaction from begin to commit, writing each staged batch straight
// into `findings`: readers (WAL, read-only connection) see nothing of it
// until commit, and abort — or a crash — rolls all of it back. Per finding:
//
//   prior = findings[identity]        (unique partial index findings_identity)
//   classify (functions/ingest/classify.ts) says what it is; this file writes:
//   new        → insert, status open
//   merged     → CVEs united into it (duplicate identity in the upload)
//   reopened   → update, status reopened
//   unchanged  → lastSeen only (one UPDATE per batch)
//   updated    → update content
//
// Assets with no finding of this scanner before the import ("fresh") skip
// the lookup: their findings are inserted straight away (new).
//
// Unchanged is samePackedContent: the plaintext columns compared directly, the
// sealed fields by opening the stored blob packed (one AEAD open, cheaper than
// hashing every incoming finding; no content digest is ever stored). For a
// merge whose count is decided again (ScanTally), the temp table scan_prior
// keeps, for the upload's length only, what the identity counts as and a
// digest of its content before the upload.
//
// commit() then marks fixed every open finding of the covered targets (per
// scanner and category; not fresh ones) that this upload did not touch (last_scan_id ≠ this scan):
// becomesFixed as one UPDATE. Static SQL only.
//
// Description, solution and evidence are sealed (one XChaCha20-Poly1305 blob
// per finding, bound to org and finding id) by the import's FindingSealer
// before they reach SQLite: the plaintext columns stay empty (DP 1.1).

import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { SqliteError } from 'better-sqlite3';
import type { FindingStatus, ScannedFinding } from '../../core/finding.js';
import type { ScanImport, ScanMeta } from '../../core/ports.js';
import {
  DEFAULT_SLA,
  dueAtOf,
  priorityScore,
  suppressedUntil,
  type SlaPolicy,
} from '../../core/triage.js';
import { packFields, unpackFields, type FindingSealer } from '../../crypto/envelope.js';
import {
  analysisJson,
  canonicalContent,
  classify,
  mergedEvidence,
  recounts,
  samePackedContent,
  ScanTally,
  seenAs,
  unitedCves,
  type ClearContent,
  type Counted,
} from '../../functions/ingest/classify.js';
import type { Db } from './database.js';
import { storeError } from './store-error.js';
import type { WriteLock } from './write-lock.js';

const NO_BYTES = new Uint8Array(0);

/** The stored finding, content columns named as classify's ClearContent. */
interface Prior extends ClearContent {
  seq: number;
  id: string;
  status: FindingStatus;
  lastScanId: string | null;
  /** JSON list */
  cves: string;
  /** analysisJson of the stored analysis */
  analysis: string | null;
  sealed: Buffer | null;
  /** When the SLA clock started (first seen, or reopened). */
  slaSince: string | null;
}

/**
 * Finding ids in the layout of a UUIDv7: 48-bit time, a 16-bit counter, and
 * 62 random bits drawn once per import. Unique, time-ordered (a large import
 * appends to the id index instead of writing all over it), and not derived
 * from any input.
 */
export function idGenerator(): () => string {
  const rnd = randomBytes(8).toString('hex');
  const group4 = ((parseInt(rnd.slice(0, 1), 16) & 0x3) | 0x8).toString(16) + rnd.slice(1, 4);
  let counter = 0;
  return () => {
    const t = Date.now().toString(16).padStart(12, '0').slice(-12);
    const c = (counter++ & 0xffff).toString(16).padStart(4, '0');
    return `${t.slice(0, 8)}-${t.slice(8)}-7${c.slice(1)}-${group4}-${c.slice(0, 1)}${rnd.slice(4, 15)}`;
  };
}

/**
 * Work a caller on another thread can take off this one: the findings' sealed
 * fields packed into one batch buffer (envelope.packBatch; the findings' own
 * description, solution and evidence are then ignored).
 */
export interface Prepared {
  packed: Uint8Array;
  ends: readonly number[];
}

export interface HashedScanImport extends ScanImport {
  stage(
    findings: readonly ScannedFinding[],
    assets: Parameters<ScanImport['stage']>[1],
    prepared?: Prepared,
  ): Promise<void>;
}

export type ScanImporter = (meta: ScanMeta, sealer: FindingSealer) => Promise<HashedScanImport>;

export function createScanImporter(db: Db, lock: WriteLock): ScanImporter {
  // scan_assets: the targets the upload covers, per scanner and category.
  // fresh: the target had no finding of this scanner before this import, so
  // none of its findings can become fixed (commit skips it). (Named before
  // targets were more than hosts; a temp table, so a new name costs a
  // migration of nothing: scan_targets.)
  db.exec(`CREATE TEMP TABLE IF NOT EXISTS scan_targets (
             upload TEXT NOT NULL, scanner TEXT NOT NULL, asset TEXT NOT NULL,
             category TEXT NOT NULL, fresh INTEGER NOT NULL,
             PRIMARY KEY (upload, scanner, asset, category)
           ) WITHOUT ROWID;
           CREATE TEMP TABLE IF NOT EXISTS scan_prior (
             upload TEXT NOT NULL, seq INTEGER NOT NULL, counted TEXT NOT NULL,
             before_digest TEXT,
             PRIMARY KEY (upload, seq)
           ) WITHOUT ROWID;`);
  const prior = db.prepare<unknown[], Prior>(
    `SELECT seq, id, status, last_scan_id AS lastScanId, cves, title, severity,
            severity_raw AS severityRaw, cvss3_score AS cvss3Score, cvss3_vector AS cvss3Vector,
            cvss2_score AS cvss2Score, cvss2_vector AS cvss2Vector, service, location, analysis,
            sealed, sla_since AS slaSince
       FROM findings
      WHERE org = ? AND scanner = ? AND asset = ? AND category = ? AND plugin_id = ? AND port = ?
        AND protocol = ? AND fingerprint = ? AND vuln_id IS NULL`,
  );
  // Positional parameters: binding 20 values by name for every finding of a
  // large import costs more than the insert itself.
  const insert = db.prepare(
    `INSERT INTO findings (id, org, vuln_id, asset, scanner, category, plugin_id, port, protocol,
       fingerprint, location, analysis, title, severity, severity_raw, cvss3_score, cvss3_vector,
       cvss2_score, cvss2_vector, cves, service, sealed, status, first_seen, last_seen,
       last_scan_id, first_scan_id, sla_since, due_at, suppressed_until, prio)
     VALUES (?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?,
       ?, ?, ?, ?, ?)`,
  );
  // content_hash (schema 2) is no longer written: unchanged content is found
  // by comparison (see the top of this file); old values are cleared on rewrite.
  // The scanner's verdict suppresses only while no person's analysis is set
  // (a user's analysis wins). The ETag (rev) moves at commit, for what the
  // upload counts as updated or reopened (bumpRevs): a duplicate identity
  // rewritten and merged back to the same content keeps its ETag.
  const update = db.prepare(
    `UPDATE findings SET title = ?, severity = ?, severity_raw = ?, cvss3_score = ?,
       cvss3_vector = ?, cvss2_score = ?, cvss2_vector = ?, cves = ?, service = ?, location = ?,
       analysis = ?, content_hash = NULL, sealed = ?, status = ?, fixed_at = NULL, last_seen = ?,
       last_scan_id = ?, sla_since = ?, due_at = ?, prio = ?,
       suppressed_until = CASE WHEN triage IS NULL THEN ? ELSE suppressed_until END
     WHERE seq = ?`,
  );
  // An import's status changes (fixed, reopened) go into the finding's history.
  const statusHistory = db.prepare(
    `INSERT INTO finding_history (org, finding_seq, at, kind, from_value, to_value, scan_id)
     VALUES (?, ?, ?, 'status', ?, ?, ?)`,
  );
  const slaOf = db.prepare<[string], string>(`SELECT policy FROM sla_policies WHERE org = ?`);
  const kevOf = db.prepare<[string], number>(`SELECT 1 FROM feed_kev WHERE cve = ?`);
  const epssOf = db.prepare<[string], number>(`SELECT epss FROM feed_epss WHERE cve = ?`);
  const assetKnown = db.prepare<[string, string, string], { one: number }>(
    `SELECT 1 AS one FROM findings
      WHERE org = ? AND scanner = ? AND asset = ? AND vuln_id IS NULL LIMIT 1`,
  );
  // The unchanged findings of a batch get their new lastSeen in one statement
  // at the end of it (a JSON list of seqs), not one UPDATE each.
  const touchAll = db.prepare(
    `UPDATE findings SET last_seen = ?, last_scan_id = ?
      WHERE seq IN (SELECT value FROM json_each(?))`,
  );
  // A finding's CVE rows are found from its stored CVE list (the key is
  // (org, cve, seq)).
  const dropCves = db.prepare(
    `DELETE FROM finding_cves
      WHERE org = ? AND seq = ? AND cve IN (SELECT value FROM json_each(?))`,
  );
  const addCve = db.prepare(`INSERT OR IGNORE INTO finding_cves (org, cve, seq) VALUES (?, ?, ?)`);
  const addAsset = db.prepare(
    `INSERT OR IGNORE INTO scan_targets (upload, scanner, asset, category, fresh)
     VALUES (?, ?, ?, ?, ?)`,
  );
  // CROSS JOIN fixes the join order: from the covered assets into each one's
  // findings (findings_identity), never a walk over all the org's findings
  // probing the assets, which the planner picks otherwise (no statistics on
  // the temp table).
  const FIXED_NOW = `SELECT f.seq FROM scan_targets a
          CROSS JOIN findings f ON f.org = @org AND f.scanner = a.scanner AND f.asset = a.asset
                               AND f.category = a.category AND f.vuln_id IS NULL
         WHERE a.upload = @upload AND a.fresh = 0 AND f.status IN ('open', 'reopened')
           AND f.last_scan_id IS NOT @scanId`;
  // The history rows first (same selection, before the statuses move).
  const fixedHistory = db.prepare(
    `INSERT INTO finding_history (org, finding_seq, at, kind, from_value, to_value, scan_id)
     SELECT @org, f.seq, @now, 'status', f.status, 'fixed', @scanId
       FROM findings f WHERE f.seq IN (${FIXED_NOW})`,
  );
  const markFixed = db.prepare(
    `UPDATE findings SET status = 'fixed', fixed_at = @now, last_scan_id = @scanId, rev = rev + 1
      WHERE seq IN (${FIXED_NOW})`,
  );
  const insertScan = db.prepare(
    `INSERT INTO scans (id, org, format, principal, started_at, finished_at, received, new,
       updated, unchanged, fixed, reopened)
     VALUES (@scanId, @org, @format, @principal, @startedAt, @now, @received, @new, @updated,
       @unchanged, @fixed, @reopened)`,
  );
  const clearAssets = db.prepare(`DELETE FROM scan_targets WHERE upload = ?`);
  // What this upload counts a rewritten identity as (reopened, updated, or as
  // re-counted by a merge), and for a re-countable one the digest of its
  // content before the upload (canonicalContent + packed sealed fields).
  const setPrior = db.prepare(
    `INSERT OR REPLACE INTO scan_prior (upload, seq, counted, before_digest) VALUES (?, ?, ?, ?)`,
  );
  const getPrior = db.prepare<[string, number], { counted: Counted; before: string | null }>(
    `SELECT counted, before_digest AS before FROM scan_prior WHERE upload = ? AND seq = ?`,
  );
  const clearPrior = db.prepare(`DELETE FROM scan_prior WHERE upload = ?`);
  const bumpRevs = db.prepare(
    `UPDATE findings SET rev = rev + 1
      WHERE seq IN (SELECT seq FROM scan_prior WHERE upload = ? AND counted IN ('updated', 'reopened'))`,
  );
  const lastSeq = db.prepare<[], { seq: number }>(
    `SELECT coalesce(max(seq), 0) AS seq FROM findings`,
  );
  // The CVE rows of the findings a batch inserted (seq above the largest
  // before it: the import holds the write lock), in one statement at the end
  // of the batch instead of a bound INSERT per CVE: SQLite walks the new
  // rows' CVE lists itself. INSERT OR IGNORE: a finding merged within the
  // batch may have some already.
  const addNewCves = db.prepare(
    `INSERT OR IGNORE INTO finding_cves (org, cve, seq)
     SELECT f.org, c.value, f.seq FROM findings f, json_each(f.cves) c
      WHERE f.seq > @after`,
  );

  return async (meta, sealer) => {
    const release = await lock.acquire();
    // The temp key is private to this import, never taken from input.
    const upload = randomUUID();
    const nextId = idGenerator();
    const now = new Date().toISOString();
    const tally = new ScanTally();
    let priorRows = false;
    // The org's SLA policy (stored, else the caller's default) and a cache
    // of the feeds' answers per CVE, for dueAt and the priority score.
    let sla: SlaPolicy = meta.sla ?? DEFAULT_SLA;
    const feedCache = new Map<string, { kev: boolean; epss: number | null }>();
    const feedOf = (cve: string) => {
      let v = feedCache.get(cve);
      if (v === undefined) {
        if (feedCache.size > 100_000) feedCache.clear(); // bounded memory
        v = { kev: kevOf.get(cve) !== undefined, epss: epssOf.pluck().get(cve) ?? null };
        feedCache.set(cve, v);
      }
      return v;
    };
    const prioOf = (f: ScannedFinding, cves: readonly string[]) => {
      let kev = false;
      let epss: number | null = null;
      for (const c of cves) {
        const v = feedOf(c);
        kev ||= v.kev;
        if (v.epss !== null && (epss === null || v.epss > epss)) epss = v.epss;
      }
      return priorityScore({ kev, epss, cvss: f.cvss3Score ?? f.cvss2Score, severity: f.severity });
    };
    // Whether the current batch inserted a finding (its CVE rows: addNewCves).
    let insertedInBatch = false;
    let open = false;
    // Findings above this seq were inserted by this import.
    let seqBefore = 0;
    // Unchanged findings of the current batch, touched at its end (touchAll).
    const touched = new Set<number>();
    // Findings up to this seq have their CVE rows.
    let cvesUpTo = 0;
    try {
      db.exec('BEGIN IMMEDIATE');
      open = true;
      const stored = slaOf.pluck().get(meta.org);
      if (stored !== undefined) sla = JSON.parse(stored) as SlaPolicy;
      cvesUpTo = (lastSeq.get() as { seq: number }).seq;
      seqBefore = cvesUpTo;
    } catch (err) {
      release();
      throw storeError(err);
    }
    const finish = (sql: 'COMMIT' | 'ROLLBACK') => {
      if (!open) return;
      open = false;
      try {
        db.exec(sql);
      } finally {
        release();
      }
    };

    /** oldCves: the stored JSON list, whose rows are replaced; undefined: only add. */
    const writeCves = (seq: number, cves: readonly string[], oldCves?: string) => {
      if (oldCves !== undefined) dropCves.run(meta.org, seq, oldCves);
      for (const c of cves) addCve.run(meta.org, c, seq);
    };

    // Assets with no finding of this scanner before this import: their
    // findings are all new, so the per-finding lookup is skipped (a repeated
    // identity then hits the unique index and takes the lookup path).
    const freshAssets = new Map<string, boolean>();
    // Findings come grouped by asset: the last answer is asked again most.
    let lastScanner = '';
    let lastAsset = '';
    let lastFresh = false;
    const isFresh = (scanner: string, asset: string): boolean => {
      if (asset === lastAsset && scanner === lastScanner) return lastFresh;
      const k = `${scanner}\n${asset}`;
      let fresh = freshAssets.get(k);
      if (fresh === undefined) {
        if (freshAssets.size > 10_000) freshAssets.clear(); // bounded memory
        fresh = assetKnown.get(meta.org, scanner, asset) === undefined;
        freshAssets.set(k, fresh);
      }
      lastScanner = scanner;
      lastAsset = asset;
      lastFresh = fresh;
      return fresh;
    };

    // The finding's packed sealed fields, when the caller prepared them.
    let packedOf: ((i: number) => Buffer) | undefined;
    // Findings with packed fields carry empty description, solution and evidence.
    const packedFields = (f: ScannedFinding, packed: Buffer | undefined): Buffer =>
      packed ?? packFields(f);
    /** The stored sealed fields, packed; undefined when there are none to compare. */
    const storedPacked = (p: Prior): Buffer | undefined =>
      p.sealed === null ? undefined : sealer.openPacked(meta.org, p.id, p.sealed);
    // A digest of content, only to compare an identity's content before the
    // upload with what merging made of it: never kept beyond the upload.
    const digest = (
      c: ClearContent,
      analysis: string | null,
      cves: readonly string[],
      packed: Uint8Array | undefined,
    ) =>
      createHash('sha256')
        .update(canonicalContent(c, analysis, cves))
        .update(packed ?? NO_BYTES)
        .digest('base64url');
    const storedDigest = (p: Prior) =>
      digest(p, p.analysis, JSON.parse(p.cves) as string[], storedPacked(p));
    const seal = (id: string, f: ScannedFinding, packed: Buffer | undefined) =>
      packed ? sealer.sealPacked(meta.org, id, packed) : sealer.seal(meta.org, id, f);

    const insertNew = (f: ScannedFinding, packed: Buffer | undefined): boolean => {
      const id = nextId();
      try {
        insert.run(
          id,
          meta.org,
          f.asset,
          f.scanner,
          f.category,
          f.pluginId,
          f.port,
          f.protocol,
          f.fingerprint,
          f.location,
          analysisJson(f.analysis),
          f.title,
          f.severity,
          f.severityRaw,
          f.cvss3Score,
          f.cvss3Vector,
          f.cvss2Score,
          f.cvss2Vector,
          JSON.stringify(f.cves),
          f.service,
          seal(id, f, packed),
          now,
          now,
          meta.scanId,
          meta.scanId,
          now,
          dueAtOf(sla, f.severity, now),
          suppressedUntil(null, f.analysis),
          prioOf(f, f.cves),
        );
        tally.count('new');
        insertedInBatch = true; // its CVE rows are written at the end of the batch
        return true;
      } catch (err) {
        if (err instanceof SqliteError && err.code === 'SQLITE_CONSTRAINT_UNIQUE') return false;
        throw err;
      }
    };

    const rewrite = (
      p: Prior,
      f: ScannedFinding,
      cves: string,
      packed: Buffer | undefined,
      status: FindingStatus,
    ) => {
      // Reopened: the SLA clock starts again; else dueAt follows the severity.
      const since = status === 'reopened' && p.status === 'fixed' ? now : (p.slaSince ?? now);
      update.run(
        f.title,
        f.severity,
        f.severityRaw,
        f.cvss3Score,
        f.cvss3Vector,
        f.cvss2Score,
        f.cvss2Vector,
        cves,
        f.service,
        f.location,
        analysisJson(f.analysis),
        seal(p.id, f, packed),
        status,
        now,
        meta.scanId,
        since,
        dueAtOf(sla, f.severity, since),
        prioOf(f, JSON.parse(cves) as string[]),
        suppressedUntil(null, f.analysis),
        p.seq,
      );
    };

    const stageOne = (f: ScannedFinding, packed: Buffer | undefined) => {
      if (isFresh(f.scanner, f.asset) && insertNew(f, packed)) return;
      const p = prior.get(
        meta.org,
        f.scanner,
        f.asset,
        f.category,
        f.pluginId,
        f.port,
        f.protocol,
        f.fingerprint,
      );
      // Met earlier in this upload: it carries this scan's id, or was found
      // unchanged in this batch (touched at the batch's end).
      const again = p !== undefined && (p.lastScanId === meta.scanId || touched.has(p.seq));
      // Inserted by this upload (seq above its start): counted new. Otherwise
      // scan_prior says what it counts as; no row: unchanged (nothing rewritten).
      const was = again && p.seq <= seqBefore ? getPrior.get(upload, p.seq) : undefined;
      const earlier: Counted | null = !again
        ? null
        : p.seq > seqBefore
          ? 'new'
          : (was?.counted ?? 'unchanged');
      const sighting = classify(p === undefined ? null : p.status, earlier);
      if (sighting === 'new' || p === undefined) {
        insertNew(f, packed);
        return;
      }
      switch (sighting) {
        case 'merged': {
          const counted = earlier as Counted; // classify merges only what was met
          const cveList = unitedCves(JSON.parse(p.cves) as string[], f.cves);
          // Every report's evidence is kept (mergedEvidence): the stored
          // one (this upload's so far) opened, the two joined, repacked.
          const storedNow = storedPacked(p);
          const mine = packed ? unpackFields(packed) : { ...f, detail: f.analysis?.detail ?? '' };
          const evidence = mergedEvidence(
            storedNow ? unpackFields(storedNow).evidence : '',
            mine.evidence,
          );
          if (evidence !== mine.evidence) packed = packFields({ ...mine, evidence });
          if (recounts(counted)) {
            // No row: counted unchanged, so the stored content is still the
            // content before the upload.
            const before = was?.before ?? storedDigest(p);
            const merged = digest(f, analysisJson(f.analysis), cveList, packedFields(f, packed));
            setPrior.run(upload, p.seq, tally.merge(counted, merged === before), before);
            priorRows = true;
          }
          rewrite(p, f, JSON.stringify(cveList), packed, p.status);
          // A finding new in this batch gets its CVE rows at the end of it.
          if (counted !== 'new' || p.seq <= cvesUpTo) writeCves(p.seq, cveList);
          return;
        }
        case 'reopened': {
          rewrite(p, f, JSON.stringify(f.cves), packed, 'reopened');
          statusHistory.run(meta.org, p.seq, now, p.status, 'reopened', meta.scanId);
          writeCves(p.seq, f.cves, p.cves);
          setPrior.run(upload, p.seq, 'reopened', null);
          priorRows = true;
          tally.count('reopened');
          return;
        }
        case 'seen': {
          const cves = JSON.stringify(f.cves);
          const counted = seenAs(
            samePackedContent(
              p,
              storedPacked,
              f,
              analysisJson(f.analysis),
              cves,
              packedFields(f, packed),
            ),
          );
          tally.count(counted);
          if (counted === 'unchanged') {
            touched.add(p.seq);
            return;
          }
          setPrior.run(upload, p.seq, 'updated', storedDigest(p));
          priorRows = true;
          rewrite(p, f, cves, packed, p.status);
          writeCves(p.seq, f.cves, p.cves);
        }
      }
    };

    return {
      stage(findings, assets, prepared) {
        try {
          if (!open) throw new Error('scan import already finished');
          for (const a of assets) {
            addAsset.run(
              upload,
              a.scanner,
              a.asset,
              a.category,
              isFresh(a.scanner, a.asset) ? 1 : 0,
            );
          }
          if (prepared) {
            const bytes = Buffer.from(
              prepared.packed.buffer,
              prepared.packed.byteOffset,
              prepared.packed.byteLength,
            );
            const ends = prepared.ends;
            packedOf = (i) => bytes.subarray(i === 0 ? 0 : ends[i - 1], ends[i]);
          } else packedOf = undefined;
          const at = packedOf;
          insertedInBatch = false;
          findings.forEach((f, i) => stageOne(f, at?.(i)));
          if (touched.size > 0) {
            touchAll.run(now, meta.scanId, JSON.stringify([...touched]));
            touched.clear();
          }
          if (insertedInBatch) {
            addNewCves.run({ after: cvesUpTo });
            cvesUpTo = (lastSeq.get() as { seq: number }).seq;
          }
          return Promise.resolve();
        } catch (err) {
          return Promise.reject(storeError(err));
        }
      },
      commit(received) {
        try {
          if (!open) throw new Error('scan import already finished');
          const fixing = { upload, org: meta.org, scanId: meta.scanId, now };
          fixedHistory.run(fixing);
          tally.fixed(markFixed.run(fixing).changes);
          const counts = tally.result();
          insertScan.run({
            ...counts,
            scanId: meta.scanId,
            org: meta.org,
            format: meta.format,
            principal: meta.principal,
            startedAt: meta.startedAt,
            now: new Date().toISOString(),
            received,
          });
          clearAssets.run(upload);
          if (priorRows) {
            bumpRevs.run(upload);
            clearPrior.run(upload);
          }
          finish('COMMIT');
          return Promise.resolve(counts);
        } catch (err) {
          try {
            finish('ROLLBACK');
          } catch {
            // the connection rolls back by itself if COMMIT failed
          }
          return Promise.reject(storeError(err));
        }
      },
      abort() {
        try {
          finish('ROLLBACK');
          return Promise.resolve();
        } catch (err) {
          return Promise.reject(storeError(err));
        }
      },
    };
  };
}
