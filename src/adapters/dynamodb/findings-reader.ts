// FindingsReader on DynamoDB. An org's findings are one partition sorted by
// seq ("F#<seq>"), so a page in seq order is one Query from the cursor on:
// stable order, no gaps or duplicates, cost per page independent of depth.
// The asset filter reads gsi1 (org+asset → seq) instead of the whole
// partition. Items of imports not yet committed are skipped (markers.ts), so
// a page can take several Query calls; it stops as soon as limit + 1 visible
// items are found (finding-scan.ts).
//
// Issue 16. Active, overdue and expiry depend on the read's clock, and KEV
// and EPSS on the feeds' current version (Feeds table, joined at read through
// FeedStore.lookup). Nothing stored can stay exact for them: a stored
// priority would have to be rewritten on every finding of every org at each
// feed import (not atomic with the feed's switch, and a Scan of the whole
// table), and "active" moves with the clock. So kev/epssMin filters and
// sort=priority / sort=due are computed at read: pages in seq order look up
// the feeds of their candidates per Query page; sort=priority and sort=due
// walk the org's whole partition for every page, keeping only the best
// limit + 1 after the cursor (memory bounded by the page, read cost by the
// org's size: one full Query per page).

import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { FeedStore } from '../../core/feeds.js';
import { SEVERITIES, type FindingStatus, type Severity } from '../../core/finding.js';
import type {
  Finding,
  FindingFilter,
  FindingsAfter,
  FindingsPage,
  FindingsReader,
  FindingsSummary,
  StoredSeedFinding,
} from '../../core/ports.js';
import {
  isActive,
  type HistoryEntry,
  type HistoryKind,
  type UserAnalysis,
} from '../../core/triage.js';
import { batchGet, storeError, type Item } from './client.js';
import { createDynamoFeedStore } from './feed-store.js';
import { feedJoin, walkFindings, type Feeds } from './finding-scan.js';
import {
  binaryCompare,
  currentTriage,
  currentVersion,
  dueKey,
  feedsOf,
  priorityOf,
  suppressedUntilOf,
  toFinding,
  viewOf,
  type View,
} from './finding-item.js';
import { findingSk, historyEnd, historySk, orgPk, seqOfFindingId, triageSk } from './keys.js';
import { markerView } from './markers.js';

const SUMMARY_PROJECTION = {
  expression: [
    '#seq, #sev, #st, #asset, #cves, #an.#state, #pend, #vid, #kind, #trg, #trev, #due, #fix, #fs',
    '#stg.#imp, #stg.#sev, #stg.#st, #stg.#cves, #stg.#an, #stg.#due, #stg.#fix, #stg.#trg, #stg.#trev',
  ].join(', '),
  names: {
    '#seq': 'seq',
    '#sev': 'severity',
    '#st': 'status',
    '#asset': 'asset',
    '#cves': 'cves',
    '#pend': 'pend',
    '#stg': 'stg',
    '#imp': 'imp',
    '#an': 'analysis',
    '#state': 'state',
    '#vid': 'vulnId',
    '#kind': 'kind',
    '#trg': 'triage',
    '#trev': 'trev',
    '#due': 'dueAt',
    '#fix': 'fixedAt',
    '#fs': 'firstSeen',
  },
};

const DAY_MS = 86_400_000;

export interface DynamoReaderOptions {
  /** The Feeds table KEV and EPSS are joined from; without it no feed is imported. */
  feedsTable?: string | undefined;
}

export function createDynamoFindingsReader(
  doc: DynamoDBDocumentClient,
  table: string,
  options: DynamoReaderOptions = {},
): FindingsReader {
  const feedStore: FeedStore | undefined =
    options.feedsTable !== undefined ? createDynamoFeedStore(doc, options.feedsTable) : undefined;

  /** Visible views with seq > afterSeq that match, in seq order, at most limit + 1. */
  async function seqPage(
    org: string,
    filter: FindingFilter,
    afterSeq: number,
    limit: number,
    feeds: ReturnType<typeof feedJoin>,
    seedOnly = false,
  ): Promise<{ items: View[]; more: boolean }> {
    const out: View[] = [];
    await walkFindings(
      doc,
      table,
      org,
      filter,
      {
        afterSeq,
        pageSize: Math.min(Math.max(limit + 1, 50), 1000),
        now: filter.now ?? new Date().toISOString(),
        feeds,
        seedOnly,
      },
      (v) => {
        out.push(v);
        return out.length <= limit;
      },
    );
    const more = out.length > limit;
    return { items: more ? out.slice(0, limit) : out, more };
  }

  /**
   * sort=priority (key = score, highest first) or sort=due (key = dueAt in
   * epoch ms, soonest first, none last); ties by seq. The best limit + 1
   * after the cursor, kept sorted while the org's findings are walked.
   */
  async function sortedPage(
    org: string,
    filter: FindingFilter,
    sort: 'priority' | 'due',
    after: FindingsAfter,
    limit: number,
    feeds: ReturnType<typeof feedJoin>,
  ): Promise<{ items: { v: View; key: number }[]; more: boolean }> {
    const sign = sort === 'priority' ? -1 : 1;
    /** < 0: a before b. */
    const order = (a: { key: number; seq: number }, b: { key: number; seq: number }) =>
      sign * (a.key - b.key) || a.seq - b.seq;
    const cursor =
      typeof after === 'number' ? undefined : { key: Number(after.key), seq: after.seq };
    const best: { v: View; key: number; seq: number }[] = [];
    await walkFindings(
      doc,
      table,
      org,
      filter,
      { afterSeq: 0, now: filter.now ?? new Date().toISOString(), feeds },
      (v, f: Feeds) => {
        const e = {
          v,
          key: sort === 'priority' ? priorityOf(v, f) : dueKey(v.dueAt),
          seq: v.seq as number,
        };
        if (cursor && order(e, cursor) <= 0) return;
        if (best.length > limit && order(e, best[limit] as typeof e) >= 0) return;
        let lo = 0;
        let hi = best.length;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (order(best[mid] as typeof e, e) < 0) lo = mid + 1;
          else hi = mid;
        }
        best.splice(lo, 0, e);
        if (best.length > limit + 1) best.pop();
      },
    );
    const more = best.length > limit;
    return { items: best.slice(0, limit), more };
  }

  async function getView(
    org: string,
    id: string,
  ): Promise<{ v: View; markers: ReturnType<typeof markerView> } | undefined> {
    const seq = seqOfFindingId(id);
    if (seq === undefined) return undefined;
    const got = await batchGet(doc, table, [
      { pk: orgPk(org), sk: findingSk(seq) },
      { pk: orgPk(org), sk: triageSk(seq) },
    ]);
    const f = got.find((it) => it.sk === findingSk(seq));
    if (!f || f.id !== id) return undefined;
    const t = got.find((it) => it.sk === triageSk(seq));
    const markers = markerView(doc, table);
    await markers.load(t ? [f, t] : [f]);
    const cur = currentVersion(f, markers.committed);
    return cur ? { v: viewOf(cur, currentTriage(t, markers.committed)), markers } : undefined;
  }

  return {
    async listSeedRecords(org, afterSeq, limit): Promise<FindingsPage<StoredSeedFinding>> {
      try {
        const r = await seqPage(org, {}, afterSeq, limit, feedJoin(undefined), true);
        const items = r.items.map((it): StoredSeedFinding => ({
          seq: it.seq as number,
          id: it.id as string,
          vulnId: it.vulnId as string,
          org: it.org as string,
          asset: it.asset as string,
          dueDate: (it.dueDate as string | null) ?? '',
          pluginId: it.pluginId as string,
          title: it.title as string,
          priority: (it.priority as string | null) ?? '',
        }));
        return { items, lastSeq: r.more ? items.at(-1)?.seq : undefined };
      } catch (err) {
        throw storeError(err);
      }
    },

    async queryFindings(org, filter, after, limit): Promise<FindingsPage<Finding>> {
      const sort = filter.sort ?? 'seq';
      const feeds = feedJoin(feedStore);
      try {
        if (sort === 'seq') {
          const afterSeq = typeof after === 'number' ? after : after.seq;
          const r = await seqPage(org, filter, afterSeq, limit, feeds);
          const f = await feeds(r.items.flatMap((v) => (v.cves as string[] | undefined) ?? []));
          const items = r.items.map((v) => toFinding(v, f));
          return { items, lastSeq: r.more ? items.at(-1)?.seq : undefined };
        }
        const r = await sortedPage(org, filter, sort, after, limit, feeds);
        const f = await feeds(r.items.flatMap((e) => (e.v.cves as string[] | undefined) ?? []));
        const items = r.items.map((e) => toFinding(e.v, f));
        const last = r.items.at(-1);
        return r.more && last
          ? { items, lastSeq: last.v.seq as number, lastKey: last.key }
          : { items, lastSeq: undefined };
      } catch (err) {
        throw storeError(err);
      }
    },

    async getFinding(org, id) {
      try {
        const got = await getView(org, id);
        if (!got) return undefined;
        const feeds = await feedJoin(feedStore)((got.v.cves as string[] | undefined) ?? []);
        return toFinding(got.v, feeds);
      } catch (err) {
        throw storeError(err);
      }
    },

    async history(org, id, after, limit) {
      try {
        const got = await getView(org, id);
        if (!got) return undefined;
        const { v, markers } = got;
        const seq = v.seq as number;
        // 'opened' is position 0; stored entries are at their position (≥ 1).
        const entries: { pos: number; entry: HistoryEntry }[] = [];
        if (after === null) {
          entries.push({
            pos: 0,
            entry: {
              at: v.firstSeen as string,
              kind: 'opened',
              from: null,
              to: 'open',
              by: null,
              scanId: (v.firstScanId as string | null | undefined) ?? null,
              analysis: null,
            },
          });
        }
        let start: Record<string, unknown> | undefined;
        do {
          const r = await doc.send(
            new QueryCommand({
              TableName: table,
              ConsistentRead: true,
              KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :from AND :to',
              ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk' },
              ExpressionAttributeValues: {
                ':pk': orgPk(org),
                ':from': historySk(seq, (after ?? 0) + 1),
                ':to': historyEnd(seq),
              },
              Limit: Math.min(limit + 1, 1000),
              ExclusiveStartKey: start,
            }),
          );
          const items = r.Items ?? [];
          await markers.load(items);
          for (const h of items) {
            // An entry of an import or bulk change not committed (yet, or ever).
            if (typeof h.pend === 'string' && !markers.committed(h.pend)) continue;
            entries.push({ pos: h.pos as number, entry: historyEntry(h) });
          }
          start = entries.length > limit ? undefined : r.LastEvaluatedKey;
        } while (start);
        const more = entries.length > limit;
        const page = entries.slice(0, limit);
        return { items: page.map((e) => e.entry), last: more ? page.at(-1)?.pos : undefined };
      } catch (err) {
        throw storeError(err);
      }
    },

    async summary(org, top, now = new Date().toISOString()): Promise<FindingsSummary> {
      try {
        const at = Date.parse(now);
        const soon = new Date(at + 7 * DAY_MS).toISOString();
        const since90 = new Date(at - 90 * DAY_MS).toISOString();
        const bySevStatus = new Map<string, number>();
        const assets = new Map<string, number>();
        const cves = new Map<string, number>();
        const active = new Map<string, number>();
        const overdue = new Map<string, number>();
        const fixes = new Map<string, { days: number; fixed: number }>();
        const kevCandidates: string[][] = [];
        let inactive = 0;
        let dueSoon = 0;
        const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
        await walkFindings(
          doc,
          table,
          org,
          {},
          { afterSeq: 0, now, feeds: feedJoin(undefined), projection: SUMMARY_PROJECTION },
          (v) => {
            const su = suppressedUntilOf(v);
            const severity = v.severity as string;
            if (su !== null && su > now) inactive++;
            else bump(bySevStatus, `${severity}\n${v.status as string}`);
            if (v.status === 'fixed' && typeof v.fixedAt === 'string' && v.fixedAt >= since90) {
              const days = (Date.parse(v.fixedAt) - Date.parse(v.firstSeen as string)) / DAY_MS;
              const m = fixes.get(severity) ?? { days: 0, fixed: 0 };
              fixes.set(severity, { days: m.days + days, fixed: m.fixed + 1 });
            }
            if (!isActive({ status: v.status as string, suppressedUntil: su }, now)) return;
            bump(assets, v.asset as string);
            const list = (v.cves as string[] | undefined) ?? [];
            for (const c of new Set(list)) bump(cves, c);
            if (list.length > 0) kevCandidates.push(list);
            bump(active, severity);
            const due = typeof v.dueAt === 'string' ? v.dueAt : null;
            if (due !== null && due < now) bump(overdue, severity);
            if (due !== null && due >= now && due < soon) dueSoon++;
          },
        );
        // KEV: the active findings' CVEs, one lookup for the org.
        const feeds = await feedJoin(feedStore)(kevCandidates.flat());
        const kev = kevCandidates.filter((l) => feedsOf({ cves: l }, feeds).kev !== null).length;
        const ranked = (m: Map<string, number>) =>
          [...m].sort((a, b) => b[1] - a[1] || binaryCompare(a[0], b[0])).slice(0, top);
        const bySeverity = (m: Map<string, number>) =>
          [...m]
            .sort((a, b) => binaryCompare(a[0], b[0]))
            .map(([severity, count]) => ({ severity: severity as Severity, count }));
        return {
          bySeverityStatus: [...bySevStatus]
            .map(([k, count]) => {
              const [severity, status] = k.split('\n') as [Severity, FindingStatus];
              return { severity, status, count };
            })
            .sort(
              (a, b) => binaryCompare(a.severity, b.severity) || binaryCompare(a.status, b.status),
            ),
          topAssets: ranked(assets).map(([asset, open]) => ({ asset, open })),
          topCves: ranked(cves).map(([cve, open]) => ({ cve, open })),
          inactive,
          active: bySeverity(active),
          overdue: bySeverity(overdue),
          dueSoon,
          kev,
          meanTimeToFix: [...fixes]
            .filter(([s]) => (SEVERITIES as readonly string[]).includes(s))
            .sort((a, b) => binaryCompare(a[0], b[0]))
            .map(([severity, m]) => ({
              severity: severity as Severity,
              days: Math.round((m.days / m.fixed) * 10) / 10,
              fixed: m.fixed,
            })),
        };
      } catch (err) {
        throw storeError(err);
      }
    },
  };
}

/** A stored history item as the port's entry. */
function historyEntry(h: Item): HistoryEntry {
  const a = h.analysis as UserAnalysis | null | undefined;
  return {
    at: h.at as string,
    kind: h.kind as HistoryKind,
    from: (h.from as string | null | undefined) ?? null,
    to: h.to as string,
    by: (h.by as string | null | undefined) ?? null,
    scanId: (h.scanId as string | null | undefined) ?? null,
    analysis: a ? { ...a, response: [...a.response] } : null,
  };
}
