// The rich read side of FindingsReader on SQLite: filtered keyset pages, one
// finding by id, and the org summary. Filters are one fixed statement in which
// a NULL parameter means "no filter" — nothing is ever assembled from input.
// Description, solution and evidence are opened from the row's sealed blob
// with the org's data key; list pages leave them sealed (they do not show
// them) but still need the key: with the key unavailable, every read of the
// org fails closed (503 key_unavailable).

import type { FindingStatus, ScannerAnalysis, Severity } from '../../core/finding.js';
import { VaultError } from '../../core/errors.js';
import type { Finding, FindingFilter, FindingsAfter, FindingsReader } from '../../core/ports.js';
import type { HistoryEntry, HistoryKind, StoredTriage, UserAnalysis } from '../../core/triage.js';
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
  triage: string | null;
  triage_sealed: Buffer | null | undefined;
  rev: number;
  suppressed_until: string | null;
  due_at: string | null;
  first_scan_id: string | null;
  prio: number;
  /** JSON {dateAdded, dueDate, ransomware} of the first KEV entry of its CVEs, or null. */
  kev: string | null;
  epss: number | null;
  epss_pct: number | null;
}

// The feeds joined at read through the finding's own CVE list (a short JSON
// array): the KEV entry with the earliest due date, the highest EPSS score.
const FEED_COLUMNS = `
  (SELECT json_object('dateAdded', k.date_added, 'dueDate', k.due_date,
                      'ransomware', json(CASE WHEN k.ransomware THEN 'true' ELSE 'false' END))
     FROM json_each(f.cves) c JOIN feed_kev k ON k.cve = c.value
    ORDER BY k.due_date, k.cve LIMIT 1) AS kev,
  (SELECT max(e.epss) FROM json_each(f.cves) c JOIN feed_epss e ON e.cve = c.value) AS epss,
  (SELECT max(e.percentile) FROM json_each(f.cves) c JOIN feed_epss e ON e.cve = c.value)
    AS epss_pct`;

const BASE_COLUMNS = `f.seq, f.id, f.org, f.vuln_id, f.asset, f.scanner, f.plugin_id, f.port,
  f.protocol, f.title, f.severity, f.severity_raw, f.cvss3_score, f.cvss3_vector, f.cvss2_score,
  f.cvss2_vector, f.cves, f.service, f.category, f.fingerprint, f.location, f.analysis, f.status,
  f.first_seen, f.last_seen, f.fixed_at, f.due_date, f.priority, f.triage, f.rev,
  f.suppressed_until, f.due_at, f.first_scan_id, f.prio, ${FEED_COLUMNS}`;

const COLUMNS = `${BASE_COLUMNS}, f.description, f.solution, f.evidence, f.sealed, f.triage_sealed`;

// List pages show none of the sealed fields: reading the blob (a Buffer per
// row) only to drop it was most of a page's cost.
const LIST_COLUMNS = BASE_COLUMNS;

const UNOPENED: SealedFields = { description: '', solution: '', evidence: '', detail: '' };

/** Not suppressed at @now by an analysis (triage.suppressedUntil). */
const UNSUPPRESSED = `(f.suppressed_until IS NULL OR f.suppressed_until <= @now)`;
/** Active at @now: open or reopened, and not suppressed (triage.isActive). */
export const ACTIVE = `(f.status IN ('open', 'reopened') AND ${UNSUPPRESSED})`;
/**
 * ACTIVE for a finding reached by seq on findings_seq_state: `+f.status`
 * keeps the status out of the index search (one seek per finding on seq,
 * not one per status value); the same findings.
 */
const ACTIVE_BY_SEQ = `(+f.status IN ('open', 'reopened') AND ${UNSUPPRESSED})`;

/**
 * Every list filter (FindingFilter) as one static condition on `findings f`:
 * a NULL parameter means "no filter". Shared by the read path and the bulk
 * triage (which selects the same findings on the write connection).
 */
export const FILTER_SQL = filterSql(
  `(@severities IS NULL OR f.severity IN (SELECT value FROM json_each(@severities)))`,
);

/**
 * FILTER_SQL for exactly one severity (@severity): `f.severity = @severity`
 * lets a list in seq order walk findings_org_severity (migration 8) instead
 * of every finding of the org. A second static statement, chosen by the
 * filter's shape only; the same findings as FILTER_SQL with
 * @severities = [@severity].
 */
const FILTER_ONE_SEVERITY_SQL = filterSql(`f.severity = @severity`);

function filterSql(severityTerm: string): string {
  return `f.org = @org
        AND ${severityTerm}
        AND (@status IS NULL OR f.status = @status)
        AND (@cve IS NULL OR EXISTS (
              SELECT 1 FROM finding_cves c
               WHERE c.org = f.org AND c.cve = @cve AND c.seq = f.seq))
        AND (@asset IS NULL OR f.asset = @asset)
        AND (@since IS NULL OR f.last_seen >= @since)
        AND (@q IS NULL OR instr(lower(f.title), lower(@q)) > 0)
        AND (@active IS NULL OR @active = ${ACTIVE})
        AND (@analysis IS NULL OR coalesce(json_extract(f.triage, '$.state'),
              json_extract(f.analysis, '$.state'), 'none')
              IN (SELECT value FROM json_each(@analysis)))
        AND (@overdue IS NULL OR @overdue = (${ACTIVE} AND f.due_at IS NOT NULL AND f.due_at < @now))
        AND (@dueBefore IS NULL OR f.due_at < @dueBefore)
        AND (@kev IS NULL OR @kev = EXISTS (
              SELECT 1 FROM json_each(f.cves) c JOIN feed_kev k ON k.cve = c.value))
        AND (@epssMin IS NULL OR EXISTS (
              SELECT 1 FROM json_each(f.cves) c JOIN feed_epss e ON e.cve = c.value
               WHERE e.epss >= @epssMin))`;
}

/** The bound parameters of FILTER_SQL. */
export function filterParams(org: string, filter: FindingFilter): Params {
  const bool = (b: boolean | undefined) => (b === undefined ? null : b ? 1 : 0);
  return {
    org,
    severities:
      filter.severity && filter.severity.length > 0 ? JSON.stringify(filter.severity) : null,
    status: filter.status ?? null,
    cve: filter.cve ?? null,
    asset: filter.asset ?? null,
    since: filter.since ?? null,
    q: filter.q ?? null,
    active: bool(filter.active),
    analysis:
      filter.analysis && filter.analysis.length > 0 ? JSON.stringify(filter.analysis) : null,
    overdue: bool(filter.overdue),
    dueBefore: filter.dueBefore ?? null,
    kev: bool(filter.kev),
    epssMin: filter.epssMin ?? null,
    now: filter.now ?? new Date().toISOString(),
  };
}

/** A due time as the sort key of sort=due: epoch ms, findings without one last. */
const NO_DUE = '9999-12-31T23:59:59.999Z';
export const dueKey = (dueAt: string | null): number => Date.parse(dueAt ?? NO_DUE);

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
    triage: r.triage === null ? null : triageOf(r, sealer),
    rev: r.rev,
    suppressedUntil: r.suppressed_until,
    dueAt: r.due_at,
    firstScanId: r.first_scan_id,
    kev: r.kev === null ? null : (JSON.parse(r.kev) as Finding['kev']),
    epss: r.epss,
    epssPercentile: r.epss_pct,
  };
}

/** The person's analysis: clear part from `triage`, comment opened from `triage_sealed`. */
function triageOf(r: Row, sealer: FindingSealer | undefined): UserAnalysis {
  const stored = JSON.parse(r.triage as string) as StoredTriage;
  const comment =
    sealer && r.triage_sealed ? sealer.open(r.org, triageAad(r.id), r.triage_sealed).detail : '';
  return { ...stored, comment };
}

/** What a triage comment is sealed to: its finding, as the triage (not the finding's own blob). */
export const triageAad = (id: string) => `${id}#triage`;
/** What a history entry's comment is sealed to: its finding and entry. */
export const historyAad = (id: string, hseq: number) => `${id}#h${hseq}`;

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
): Omit<FindingsReader, 'listSeedRecords'> {
  const pageOf = (columns: string, sort: 'seq' | 'priority' | 'due', filterSql = FILTER_SQL) => {
    const [after, order] =
      sort === 'seq'
        ? ['f.seq > @after', 'f.seq']
        : sort === 'priority'
          ? ['(f.prio < @key OR (f.prio = @key AND f.seq > @after))', 'f.prio DESC, f.seq']
          : [
              `(coalesce(f.due_at, '${NO_DUE}') > @key
                OR (coalesce(f.due_at, '${NO_DUE}') = @key AND f.seq > @after))`,
              `coalesce(f.due_at, '${NO_DUE}'), f.seq`,
            ];
    if (sort === 'priority') {
      // Two index ranges, not one OR: the rest of the cursor's tie (prio =
      // key, seq after it) and then the lower scores. With one OR condition
      // SQLite narrows on prio <= key only, and a cursor deep in a large tie
      // (every finding scored 0) stepped over the whole tie before it.
      return db.prepare<Params, Row>(
        `SELECT * FROM (
           SELECT * FROM (SELECT ${columns} FROM findings f
             WHERE ${filterSql} AND f.prio = @key AND f.seq > @after
             ORDER BY f.seq LIMIT @limit)
           UNION ALL
           SELECT * FROM (SELECT ${columns} FROM findings f
             WHERE ${filterSql} AND f.prio < @key
             ORDER BY f.prio DESC, f.seq LIMIT @limit))
         ORDER BY prio DESC, seq
         LIMIT @limit`,
      );
    }
    return db.prepare<Params, Row>(
      `SELECT ${columns} FROM findings f
      WHERE ${filterSql} AND ${after}
      ORDER BY ${order}
      LIMIT @limit`,
    );
  };
  const SORTS = ['seq', 'priority', 'due'] as const;
  const pages = Object.fromEntries(
    SORTS.map((sort) => [sort, { full: pageOf(COLUMNS, sort), list: pageOf(LIST_COLUMNS, sort) }]),
  ) as Record<
    (typeof SORTS)[number],
    { full: ReturnType<typeof pageOf>; list: ReturnType<typeof pageOf> }
  >;
  // sort=seq with one severity (the list of critical findings, overdue or
  // not): in seq order along findings_org_severity. Other sorts keep their
  // own index (prio, due) and test the severity on the way.
  const oneSeverity = {
    full: pageOf(COLUMNS, 'seq', FILTER_ONE_SEVERITY_SQL),
    list: pageOf(LIST_COLUMNS, 'seq', FILTER_ONE_SEVERITY_SQL),
  };
  const byId = db.prepare<[string, string], Row>(
    `SELECT ${COLUMNS} FROM findings f WHERE f.org = ? AND f.id = ?`,
  );
  // The counts by severity × status (not suppressed), the suppressed
  // (inactive), active and overdue ones, in one pass over the covering index
  // findings_org_state (migration 8) instead of four passes over the rows.
  const stateCounts = db.prepare<
    Params,
    {
      severity: string;
      status: string;
      shown: number;
      hidden: number;
      active: number;
      overdue: number;
    }
  >(
    `SELECT severity, status,
            count(*) FILTER (WHERE ${UNSUPPRESSED}) AS shown,
            count(*) FILTER (WHERE NOT ${UNSUPPRESSED}) AS hidden,
            count(*) FILTER (WHERE ${ACTIVE}) AS active,
            count(*) FILTER (WHERE ${ACTIVE} AND f.due_at < @now) AS overdue
       FROM findings f WHERE org = @org
      GROUP BY severity, status ORDER BY severity, status`,
  );
  const topAssets = db.prepare<Params, { asset: string; open: number }>(
    `SELECT asset, count(*) AS open FROM findings f
      WHERE org = @org AND ${ACTIVE}
      GROUP BY asset ORDER BY open DESC, asset LIMIT @top`,
  );
  // The active check on the covering findings_seq_state (INDEXED BY, as kevCount).
  const topCves = db.prepare<Params, { cve: string; open: number }>(
    `SELECT c.cve, count(*) AS open FROM finding_cves c
       JOIN findings f INDEXED BY findings_seq_state ON f.seq = c.seq
      WHERE c.org = @org AND ${ACTIVE_BY_SEQ}
      GROUP BY c.cve ORDER BY open DESC, c.cve LIMIT @top`,
  );
  const dueSoon = db.prepare<Params, number>(
    `SELECT count(*) FROM findings f
      WHERE org = @org AND ${ACTIVE} AND f.due_at >= @now AND f.due_at < @soon`,
  );
  // From the KEV catalog through finding_cves (the rows of the findings' CVE
  // lists, each with its finding's org) to the findings, their active check
  // on the covering findings_seq_state: no pass over every finding parsing
  // its CVE list. INDEXED BY: without statistics (the server never runs
  // ANALYZE) the planner reads the ~1 KB rows instead.
  const kevCount = db.prepare<Params, number>(
    `SELECT count(*) FROM findings f INDEXED BY findings_seq_state
      WHERE f.seq IN (SELECT c.seq FROM feed_kev k JOIN finding_cves c
                       ON c.org = @org AND c.cve = k.cve)
        AND ${ACTIVE_BY_SEQ}`,
  );
  const meanTimeToFix = db.prepare<Params, { severity: string; days: number; fixed: number }>(
    `SELECT severity, avg(julianday(fixed_at) - julianday(first_seen)) AS days, count(*) AS fixed
       FROM findings f
      WHERE org = @org AND status = 'fixed' AND fixed_at >= @since90
      GROUP BY severity ORDER BY severity`,
  );
  const findingRef = db.prepare<
    [string, string],
    { seq: number; id: string; first_seen: string; first_scan_id: string | null }
  >(`SELECT seq, id, first_seen, first_scan_id FROM findings WHERE org = ? AND id = ?`);
  const historyRows = db.prepare<
    [number, number, number],
    {
      hseq: number;
      at: string;
      kind: string;
      from_value: string | null;
      to_value: string;
      by_whom: string | null;
      scan_id: string | null;
      analysis: string | null;
      sealed: Buffer | null;
    }
  >(
    `SELECT hseq, at, kind, from_value, to_value, by_whom, scan_id, analysis, sealed
       FROM finding_history WHERE finding_seq = ? AND hseq > ? ORDER BY hseq LIMIT ?`,
  );

  return {
    async queryFindings(org, filter: FindingFilter, after: FindingsAfter, limit, fields = 'full') {
      const sort = filter.sort ?? 'seq';
      let rows: Row[];
      try {
        const params = filterParams(org, filter);
        const seq = typeof after === 'number' ? after : after.seq;
        const key =
          typeof after === 'number'
            ? sort === 'priority'
              ? Number.MAX_SAFE_INTEGER
              : ''
            : sort === 'due'
              ? new Date(Number(after.key)).toISOString()
              : Number(after.key);
        const one =
          sort === 'seq' && filter.severity?.length === 1 ? filter.severity[0] : undefined;
        const statements = one === undefined ? pages[sort] : oneSeverity;
        rows = statements[fields === 'list' ? 'list' : 'full'].all({
          ...(one === undefined ? {} : { severity: one }),
          ...params,
          after: seq,
          key,
          limit: limit + 1,
        });
      } catch (err) {
        throw storeError(err);
      }
      const more = rows.length > limit;
      const sealer = rows.length > 0 ? await sealerFor(ciphers, org) : undefined;
      const open = fields === 'full' ? sealer : undefined;
      const page = rows.slice(0, limit);
      const items = page.map((r) => toFinding(r, open));
      const last = page.at(-1);
      return {
        items,
        lastSeq: more ? last?.seq : undefined,
        ...(more && last && sort !== 'seq'
          ? { lastKey: sort === 'priority' ? last.prio : dueKey(last.due_at) }
          : {}),
      };
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
    async summary(org, top, now = new Date().toISOString()) {
      const at = Date.parse(now);
      const p: Params = {
        org,
        top,
        now,
        soon: new Date(at + 7 * 86_400_000).toISOString(),
        since90: new Date(at - 90 * 86_400_000).toISOString(),
      };
      const bySeverity = (rows: { severity: string; count: number }[]) =>
        rows.map((r) => ({ severity: r.severity as Severity, count: r.count }));
      let s: Awaited<ReturnType<FindingsReader['summary']>>;
      try {
        const pick = (keys: string[]) => Object.fromEntries(keys.map((k) => [k, p[k] ?? null]));
        const states = stateCounts.all(pick(['org', 'now']));
        // Per severity (in the rows' order), the severities with a count only.
        const perSeverity = (count: (r: (typeof states)[number]) => number) => {
          const out: { severity: string; count: number }[] = [];
          for (const r of states) {
            const last = out.at(-1);
            if (last?.severity === r.severity) last.count += count(r);
            else out.push({ severity: r.severity, count: count(r) });
          }
          return out.filter((x) => x.count > 0);
        };
        s = {
          bySeverityStatus: states
            .filter((r) => r.shown > 0)
            .map((r) => ({
              severity: r.severity as Severity,
              status: r.status as FindingStatus,
              count: r.shown,
            })),
          topAssets: topAssets.all(pick(['org', 'now', 'top'])),
          topCves: topCves.all(pick(['org', 'now', 'top'])),
          inactive: states.reduce((n, r) => n + r.hidden, 0),
          active: bySeverity(perSeverity((r) => r.active)),
          overdue: bySeverity(perSeverity((r) => r.overdue)),
          dueSoon: dueSoon.pluck().get(pick(['org', 'now', 'soon'])) as number,
          kev: kevCount.pluck().get(pick(['org', 'now'])) as number,
          meanTimeToFix: meanTimeToFix.all(pick(['org', 'since90'])).map((r) => ({
            severity: r.severity as Severity,
            days: Math.round(r.days * 10) / 10,
            fixed: r.fixed,
          })),
        };
      } catch (err) {
        throw storeError(err);
      }
      if (s.bySeverityStatus.length > 0 || s.inactive > 0) await sealerFor(ciphers, org);
      return s;
    },
    async history(org, id, after, limit) {
      let ref: ReturnType<typeof findingRef.get>;
      let rows: ReturnType<typeof historyRows.all>;
      // The 'opened' entry is position 0; stored entries are at their hseq (≥ 1).
      const withOpened = after === null;
      try {
        ref = findingRef.get(org, id);
        if (!ref) return undefined;
        rows = historyRows.all(ref.seq, after ?? 0, limit + 1 - (withOpened ? 1 : 0));
      } catch (err) {
        throw storeError(err);
      }
      const sealer = rows.some((r) => r.sealed) ? await sealerFor(ciphers, org) : undefined;
      const entries: { pos: number; entry: HistoryEntry }[] = [];
      if (withOpened) {
        entries.push({
          pos: 0,
          entry: {
            at: ref.first_seen,
            kind: 'opened',
            from: null,
            to: 'open',
            by: null,
            scanId: ref.first_scan_id,
            analysis: null,
          },
        });
      }
      for (const r of rows) {
        const stored = r.analysis === null ? null : (JSON.parse(r.analysis) as StoredTriage);
        const comment =
          sealer && r.sealed ? sealer.open(org, historyAad(ref.id, r.hseq), r.sealed).detail : '';
        entries.push({
          pos: r.hseq,
          entry: {
            at: r.at,
            kind: r.kind as HistoryKind,
            from: r.from_value,
            to: r.to_value,
            by: r.by_whom,
            scanId: r.scan_id,
            analysis: stored && { ...stored, comment },
          },
        });
      }
      const more = entries.length > limit;
      const page = entries.slice(0, limit);
      return { items: page.map((e) => e.entry), last: more ? page.at(-1)?.pos : undefined };
    },
  };
}
