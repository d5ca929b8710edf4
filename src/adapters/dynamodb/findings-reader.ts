// FindingsReader on DynamoDB. An org's findings are one partition sorted by
// seq ("F#<seq>"), so a page is one Query from the cursor on: stable order,
// no gaps or duplicates, cost per page independent of depth. The asset
// filter reads gsi1 (org+asset → seq) instead of the whole partition. Items
// of imports not yet committed are skipped (markers.ts), so a page can take
// several Query calls; it stops as soon as limit + 1 visible items are found.

import { GetCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { isInactiveAnalysis, type FindingStatus, type Severity } from '../../core/finding.js';
import type {
  Finding,
  FindingFilter,
  FindingsPage,
  FindingsReader,
  FindingsSummary,
  StoredSeedFinding,
} from '../../core/ports.js';
import { storeError, type Item } from './client.js';
import { findingsPrefilter } from './filter-expression.js';
import { binaryCompare, currentVersion, matches, toFinding } from './finding-item.js';
import { assetGsiPk, FINDING_SK_END, findingSk, orgPk, seqOfFindingId } from './keys.js';
import { markerView } from './markers.js';

const SUMMARY_PROJECTION = {
  expression:
    '#seq, #sev, #st, #asset, #cves, #an.#state, #pend, #stg.#imp, #stg.#sev, #stg.#st, #stg.#cves, #stg.#an',
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
  },
};

export function createDynamoFindingsReader(
  doc: DynamoDBDocumentClient,
  table: string,
): FindingsReader {
  /** Visible current versions with seq > afterSeq that match, at most limit + 1. */
  async function page(
    org: string,
    filter: FindingFilter,
    afterSeq: number,
    limit: number,
    seedOnly = false,
  ): Promise<{ items: Item[]; more: boolean }> {
    const markers = markerView(doc, table);
    const pre = findingsPrefilter(filter);
    const byAsset = filter.asset !== undefined;
    const out: Item[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const r = await doc.send(
        new QueryCommand({
          TableName: table,
          ...(byAsset
            ? {
                IndexName: 'gsi1',
                KeyConditionExpression: '#gpk = :pk AND #gsk BETWEEN :from AND :to',
                ExpressionAttributeNames: { '#gpk': 'gsi1pk', '#gsk': 'gsi1sk', ...pre?.names },
                ExpressionAttributeValues: {
                  ':pk': assetGsiPk(org, filter.asset as string),
                  ':from': findingSk(afterSeq + 1),
                  ':to': FINDING_SK_END,
                  ...pre?.values,
                },
              }
            : {
                ConsistentRead: true,
                KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :from AND :to',
                ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk', ...pre?.names },
                ExpressionAttributeValues: {
                  ':pk': orgPk(org),
                  ':from': findingSk(afterSeq + 1),
                  ':to': FINDING_SK_END,
                  ...pre?.values,
                },
              }),
          ...(pre ? { FilterExpression: pre.expression } : {}),
          Limit: Math.min(Math.max(limit + 1, 50), 1000),
          ExclusiveStartKey: start,
        }),
      );
      const items = r.Items ?? [];
      await markers.load(items);
      for (const it of items) {
        const cur = currentVersion(it, markers.committed);
        if (cur && matches(cur, filter) && (!seedOnly || cur.vulnId !== undefined)) out.push(cur);
        if (out.length > limit) return { items: out.slice(0, limit), more: true };
      }
      start = r.LastEvaluatedKey;
    } while (start);
    return { items: out, more: false };
  }

  const lastSeq = <T extends { seq: number }>(items: T[], more: boolean) =>
    more ? items.at(-1)?.seq : undefined;

  return {
    async listSeedRecords(org, afterSeq, limit): Promise<FindingsPage<StoredSeedFinding>> {
      try {
        const r = await page(org, {}, afterSeq, limit, true);
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
        return { items, lastSeq: lastSeq(items, r.more) };
      } catch (err) {
        throw storeError(err);
      }
    },

    async queryFindings(org, filter, after, limit): Promise<FindingsPage<Finding>> {
      if (typeof after !== 'number') {
        throw new Error('sort orders other than seq are not built on DynamoDB yet');
      }
      const afterSeq = after;
      try {
        const r = await page(org, filter, afterSeq, limit);
        const items = r.items.map(toFinding);
        return { items, lastSeq: lastSeq(items, r.more) };
      } catch (err) {
        throw storeError(err);
      }
    },

    history() {
      return Promise.reject(new Error('finding history is not built on DynamoDB yet'));
    },

    async getFinding(org, id) {
      const seq = seqOfFindingId(id);
      if (seq === undefined) return undefined;
      try {
        const r = await doc.send(
          new GetCommand({
            TableName: table,
            Key: { pk: orgPk(org), sk: findingSk(seq) },
            ConsistentRead: true,
          }),
        );
        if (!r.Item || r.Item.id !== id) return undefined;
        const markers = markerView(doc, table);
        await markers.load([r.Item]);
        const cur = currentVersion(r.Item, markers.committed);
        return cur ? toFinding(cur) : undefined;
      } catch (err) {
        throw storeError(err);
      }
    },

    async summary(org, top): Promise<FindingsSummary> {
      try {
        const markers = markerView(doc, table);
        const bySevStatus = new Map<string, number>();
        const assets = new Map<string, number>();
        const cves = new Map<string, number>();
        let inactive = 0;
        let start: Record<string, unknown> | undefined;
        do {
          const r = await doc.send(
            new QueryCommand({
              TableName: table,
              ConsistentRead: true,
              KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :from AND :to',
              ProjectionExpression: SUMMARY_PROJECTION.expression,
              ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk', ...SUMMARY_PROJECTION.names },
              ExpressionAttributeValues: {
                ':pk': orgPk(org),
                ':from': findingSk(1),
                ':to': FINDING_SK_END,
              },
              ExclusiveStartKey: start,
            }),
          );
          const items = r.Items ?? [];
          await markers.load(items);
          for (const it of items) {
            const cur = currentVersion(it, markers.committed);
            if (!cur) continue;
            if (isInactiveAnalysis(cur.analysis as { state: string } | null | undefined)) {
              inactive++;
              continue;
            }
            const k = `${cur.severity as string}\n${cur.status as string}`;
            bySevStatus.set(k, (bySevStatus.get(k) ?? 0) + 1);
            if (cur.status === 'open' || cur.status === 'reopened') {
              const a = cur.asset as string;
              assets.set(a, (assets.get(a) ?? 0) + 1);
              for (const c of new Set((cur.cves as string[] | undefined) ?? [])) {
                cves.set(c, (cves.get(c) ?? 0) + 1);
              }
            }
          }
          start = r.LastEvaluatedKey;
        } while (start);
        const ranked = (m: Map<string, number>) =>
          [...m].sort((a, b) => b[1] - a[1] || binaryCompare(a[0], b[0])).slice(0, top);
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
          // Issue 16 counts: not yet built on DynamoDB.
          active: [],
          overdue: [],
          dueSoon: 0,
          kev: 0,
          meanTimeToFix: [],
        };
      } catch (err) {
        throw storeError(err);
      }
    },
  };
}
