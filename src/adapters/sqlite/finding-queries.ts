// The rich read side of FindingsReader on SQLite: filtered keyset pages, one
// finding by id, and the org summary. Filters are one fixed statement in which
// a NULL parameter means "no filter" — nothing is ever assembled from input.
// Description, solution and evidence are opened from the row's sealed blob
// with the org's data key; list pages leave them sealed (they do not show
// them) but still need the key: with the key unavailable, every read of the
// org fails closed (503 key_unavailable).

import type { FindingStatus, ScannerAnalysis, Severity } from '../../core/finding.js';
import { VaultError } from '../../core/errors.js';
import type { Finding, FindingFilter, FindingsReader } from '../../core/ports.js';
import type { FindingSealer, SealedFields } from '../../crypto/envelope.js';
import type { FindingCiphers } from '../../crypto/finding-ciphers.js';
import type { Db } from './database.js';
import { storeError } from './store-error.js';

interface Row {
  seq: number;
  id: string;
  org: string;
  vuln_id: string | null;
  asset: string;
  scanner: string;
  plugin_id: string;
  port: number;
  protocol: string;
  title: string;
  severity: string;
  severity_raw: string;
  cvss3_score: number | null;
  cvss3_vector: string | null;
  cvss2_score: number | null;
  cvss2_vector: string | null;
  cves: string;
  description: string;
  solution: string;
  evidence: string;
  service: string;
  category: string;
  fingerprint: string;
  location: string;
  analysis: string | null;
  status: string;
  first_seen: string;
  last_seen: string;
  fixed_at: string | null;
  due_date: string | null;
  priority: string | null;
  sealed: Buffer | null | undefined;
}

const COLUMNS = `seq, id, org, vuln_id, asset, scanner, plugin_id, port, protocol, title, severity,
  severity_raw, cvss3_score, cvss3_vector, cvss2_score, cvss2_vector, cves, description, solution,
  evidence, service, category, fingerprint, location, analysis, status, first_seen, last_seen,
  fixed_at, due_date, priority, sealed`;

// List pages show none of the sealed fields: reading the blob (a Buffer per
// row) only to drop it was most of a page's cost.
const LIST_COLUMNS = `seq, id, org, vuln_id, asset, scanner, plugin_id, port, protocol, title, severity,
  severity_raw, cvss3_score, cvss3_vector, cvss2_score, cvss2_vector, cves, service, category,
  fingerprint, location, analysis, status, first_seen, last_seen, fixed_at, due_date, priority`;

const UNOPENED: SealedFields = { description: '', solution: '', evidence: '', detail: '' };

// A finding counts as active unless a verdict took it out (isInactiveAnalysis).
const ACTIVE = `(analysis IS NULL OR json_extract(analysis, '$.state')
  NOT IN ('false_positive', 'not_affected', 'resolved'))`;

function toFinding(r: Row, sealer: FindingSealer | undefined): Finding {
  // sealed NULL: a row from before encryption, sealed at the next start;
  // undefined: a list page, which did not read it.
  const c: SealedFields =
    r.sealed === null
      ? { ...r, detail: '' }
      : sealer && r.sealed !== undefined
        ? sealer.open(r.org, r.id, r.sealed)
        : UNOPENED;
  return {
    seq: r.seq,
    id: r.id,
    org: r.org,
    asset: r.asset,
    scanner: r.scanner,
    pluginId: r.plugin_id,
    port: r.port,
    protocol: r.protocol,
    title: r.title,
    severity: r.severity as Severity,
    severityRaw: r.severity_raw,
    cvss3Score: r.cvss3_score,
    cvss3Vector: r.cvss3_vector,
    cvss2Score: r.cvss2_score,
    cvss2Vector: r.cvss2_vector,
    cves: JSON.parse(r.cves) as string[],
    description: c.description,
    solution: c.solution,
    evidence: c.evidence,
    service: r.service,
    category: r.category,
    fingerprint: r.fingerprint,
    location: r.location,
    analysis: r.analysis === null ? null : { ...analysisOf(r.analysis), detail: c.detail },
    status: r.status as FindingStatus,
    firstSeen: r.first_seen,
    lastSeen: r.last_seen,
    fixedAt: r.fixed_at,
    dueDate: r.due_date,
    priority: r.priority,
  };
}

type Params = Record<string, string | number | null>;

/** The stored clear part of an analysis (analysisJson). */
function analysisOf(json: string): Omit<ScannerAnalysis, 'detail'> {
  return JSON.parse(json) as Omit<ScannerAnalysis, 'detail'>;
}

/** The org's sealer; fails closed when rows exist but the key does not open. */
export async function sealerFor(
  ciphers: FindingCiphers,
  org: string,
): Promise<FindingSealer | undefined> {
  const sealer = await ciphers.forRead(org);
  if (!sealer) {
    throw new VaultError('key_unavailable', 'the encryption key for this org is unavailable', {
      cause: new Error(`org ${org} has findings but no data key`),
    });
  }
  return sealer;
}

export function createFindingQueries(
  db: Db,
  ciphers: FindingCiphers,
): Pick<FindingsReader, 'queryFindings' | 'getFinding' | 'summary'> {
  const pageOf = (columns: string) =>
    db.prepare<Params, Row>(
      `SELECT ${columns} FROM findings f
      WHERE f.org = @org AND f.seq > @after
        AND (@severities IS NULL OR f.severity IN (SELECT value FROM json_each(@severities)))
        AND (@status IS NULL OR f.status = @status)
        AND (@cve IS NULL OR EXISTS (
              SELECT 1 FROM finding_cves c
               WHERE c.org = f.org AND c.cve = @cve AND c.seq = f.seq))
        AND (@asset IS NULL OR f.asset = @asset)
        AND (@since IS NULL OR f.last_seen >= @since)
        AND (@q IS NULL OR instr(lower(f.title), lower(@q)) > 0)
      ORDER BY f.seq
      LIMIT @limit`,
    );
  const page = pageOf(COLUMNS);
  const listPage = pageOf(LIST_COLUMNS);
  const byId = db.prepare<[string, string], Row>(
    `SELECT ${COLUMNS} FROM findings WHERE org = ? AND id = ?`,
  );
  const bySevStatus = db.prepare<[string], { severity: string; status: string; count: number }>(
    `SELECT severity, status, count(*) AS count FROM findings WHERE org = ? AND ${ACTIVE}
      GROUP BY severity, status ORDER BY severity, status`,
  );
  const inactive = db.prepare<[string], number>(
    `SELECT count(*) FROM findings WHERE org = ? AND analysis IS NOT NULL AND NOT ${ACTIVE}`,
  );
  const topAssets = db.prepare<[string, number], { asset: string; open: number }>(
    `SELECT asset, count(*) AS open FROM findings
      WHERE org = ? AND status IN ('open', 'reopened') AND ${ACTIVE}
      GROUP BY asset ORDER BY open DESC, asset LIMIT ?`,
  );
  const topCves = db.prepare<[string, number], { cve: string; open: number }>(
    `SELECT c.cve, count(*) AS open FROM finding_cves c JOIN findings f ON f.seq = c.seq
      WHERE c.org = ? AND f.status IN ('open', 'reopened') AND ${ACTIVE.replaceAll('analysis', 'f.analysis')}
      GROUP BY c.cve ORDER BY open DESC, c.cve LIMIT ?`,
  );

  return {
    async queryFindings(org, filter: FindingFilter, afterSeq, limit, fields = 'full') {
      let rows: Row[];
      try {
        rows = (fields === 'list' ? listPage : page).all({
          org,
          after: afterSeq,
          severities:
            filter.severity && filter.severity.length > 0 ? JSON.stringify(filter.severity) : null,
          status: filter.status ?? null,
          cve: filter.cve ?? null,
          asset: filter.asset ?? null,
          since: filter.since ?? null,
          q: filter.q ?? null,
          limit: limit + 1,
        });
      } catch (err) {
        throw storeError(err);
      }
      const more = rows.length > limit;
      const sealer = rows.length > 0 ? await sealerFor(ciphers, org) : undefined;
      const open = fields === 'full' ? sealer : undefined;
      const items = rows.slice(0, limit).map((r) => toFinding(r, open));
      return { items, lastSeq: more ? items.at(-1)?.seq : undefined };
    },
    async getFinding(org, id) {
      let r: Row | undefined;
      try {
        r = byId.get(org, id);
      } catch (err) {
        throw storeError(err);
      }
      return r ? toFinding(r, await sealerFor(ciphers, org)) : undefined;
    },
    async summary(org, top) {
      let s: Awaited<ReturnType<FindingsReader['summary']>>;
      try {
        s = {
          bySeverityStatus: bySevStatus.all(org).map((r) => ({
            severity: r.severity as Severity,
            status: r.status as FindingStatus,
            count: r.count,
          })),
          topAssets: topAssets.all(org, top),
          topCves: topCves.all(org, top),
          inactive: inactive.pluck().get(org) as number,
        };
      } catch (err) {
        throw storeError(err);
      }
      if (s.bySeverityStatus.length > 0 || s.inactive > 0) await sealerFor(ciphers, org);
      return s;
    },
  };
}
