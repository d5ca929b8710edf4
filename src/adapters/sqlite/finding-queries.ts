// The rich read side of FindingsReader on SQLite: filtered keyset pages, one
// finding by id, and the org summary. Filters are one fixed statement in which
// a NULL parameter means "no filter" — nothing is ever assembled from input.

import type { FindingStatus, Severity } from '../../core/finding.js';
import type { Finding, FindingFilter, FindingsReader } from '../../core/ports.js';
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
  status: string;
  first_seen: string;
  last_seen: string;
  fixed_at: string | null;
  due_date: string | null;
  priority: string | null;
}

const COLUMNS = `seq, id, org, vuln_id, asset, scanner, plugin_id, port, protocol, title, severity,
  severity_raw, cvss3_score, cvss3_vector, cvss2_score, cvss2_vector, cves, description, solution,
  evidence, service, status, first_seen, last_seen, fixed_at, due_date, priority`;

function toFinding(r: Row): Finding {
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
    description: r.description,
    solution: r.solution,
    evidence: r.evidence,
    service: r.service,
    status: r.status as FindingStatus,
    firstSeen: r.first_seen,
    lastSeen: r.last_seen,
    fixedAt: r.fixed_at,
    dueDate: r.due_date,
    priority: r.priority,
  };
}

type Params = Record<string, string | number | null>;

export function createFindingQueries(
  db: Db,
): Pick<FindingsReader, 'queryFindings' | 'getFinding' | 'summary'> {
  const page = db.prepare<Params, Row>(
    `SELECT ${COLUMNS} FROM findings f
      WHERE f.org = @org AND f.seq > @after
        AND (@severities IS NULL OR f.severity IN (SELECT value FROM json_each(@severities)))
        AND (@status IS NULL OR f.status = @status)
        AND (@cve IS NULL OR EXISTS (
              SELECT 1 FROM finding_cves c WHERE c.seq = f.seq AND c.cve = @cve))
        AND (@asset IS NULL OR f.asset = @asset)
        AND (@since IS NULL OR f.last_seen >= @since)
        AND (@q IS NULL OR instr(lower(f.title), lower(@q)) > 0)
      ORDER BY f.seq
      LIMIT @limit`,
  );
  const byId = db.prepare<[string, string], Row>(
    `SELECT ${COLUMNS} FROM findings WHERE org = ? AND id = ?`,
  );
  const bySevStatus = db.prepare<[string], { severity: string; status: string; count: number }>(
    `SELECT severity, status, count(*) AS count FROM findings WHERE org = ?
      GROUP BY severity, status ORDER BY severity, status`,
  );
  const topAssets = db.prepare<[string, number], { asset: string; open: number }>(
    `SELECT asset, count(*) AS open FROM findings
      WHERE org = ? AND status IN ('open', 'reopened')
      GROUP BY asset ORDER BY open DESC, asset LIMIT ?`,
  );
  const topCves = db.prepare<[string, number], { cve: string; open: number }>(
    `SELECT c.cve, count(*) AS open FROM finding_cves c JOIN findings f ON f.seq = c.seq
      WHERE c.org = ? AND f.status IN ('open', 'reopened')
      GROUP BY c.cve ORDER BY open DESC, c.cve LIMIT ?`,
  );

  return {
    queryFindings(org, filter: FindingFilter, afterSeq, limit) {
      try {
        const rows = page.all({
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
        const more = rows.length > limit;
        const items = rows.slice(0, limit).map(toFinding);
        return Promise.resolve({ items, lastSeq: more ? items.at(-1)?.seq : undefined });
      } catch (err) {
        return Promise.reject(storeError(err));
      }
    },
    getFinding(org, id) {
      try {
        const r = byId.get(org, id);
        return Promise.resolve(r ? toFinding(r) : undefined);
      } catch (err) {
        return Promise.reject(storeError(err));
      }
    },
    summary(org, top) {
      try {
        return Promise.resolve({
          bySeverityStatus: bySevStatus.all(org).map((r) => ({
            severity: r.severity as Severity,
            status: r.status as FindingStatus,
            count: r.count,
          })),
          topAssets: topAssets.all(org, top),
          topCves: topCves.all(org, top),
        });
      } catch (err) {
        return Promise.reject(storeError(err));
      }
    },
  };
}
