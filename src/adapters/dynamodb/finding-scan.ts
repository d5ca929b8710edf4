// Walks an org's findings in seq order as readers see them (finding-item.ts
// View): one Query over the partition's "F#" range (or gsi1 for the asset
// filter), each finding paired with its triage item, which sorts right after
// it; items of imports and bulk changes not yet committed resolved through
// their markers; the filter applied exactly (matches), the feeds looked up
// per Query page only when the filter needs them. Shared by the reader and
// the bulk triage, which selects findings by the same list filters.

import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { CvePriority, FeedStore } from '../../core/feeds.js';
import type { FindingFilter } from '../../core/ports.js';
import type { Item } from './client.js';
import { findingsPrefilter } from './filter-expression.js';
import {
  currentTriage,
  currentVersion,
  isTriageItem,
  matches,
  needsFeeds,
  viewOf,
  type View,
} from './finding-item.js';
import { assetGsiPk, FINDING_SK_END, findingSk, orgPk } from './keys.js';
import { markerView } from './markers.js';

export type Feeds = ReadonlyMap<string, CvePriority>;

/**
 * The feeds' answers for CVEs, looked up once per read (a read joins one
 * version of the feeds per lookup; a CVE answered once is kept for the rest
 * of the read). Without a feed store: no feed is imported.
 */
export function feedJoin(store: Pick<FeedStore, 'lookup'> | undefined) {
  const known = new Map<string, CvePriority>();
  return async (cves: Iterable<string>): Promise<Feeds> => {
    const missing = [...new Set(cves)].filter((c) => !known.has(c));
    if (store && missing.length > 0) {
      for (const [c, p] of await store.lookup(missing)) known.set(c, p);
    }
    return known;
  };
}

export type FeedJoin = ReturnType<typeof feedJoin>;

export interface WalkOptions {
  /** Findings with seq > afterSeq. */
  afterSeq: number;
  /** Items per Query call (undefined: DynamoDB's 1 MB pages). */
  pageSize?: number | undefined;
  /** The clock of active, overdue and expiry. */
  now: string;
  feeds: FeedJoin;
  projection?: { expression: string; names: Record<string, string> } | undefined;
  /** Also only seed records (listSeedRecords). */
  seedOnly?: boolean;
}

/**
 * Calls visit with every visible finding that matches, in seq order, with
 * the feeds of its CVEs when the filter needed them (else possibly without);
 * visit returns false to stop.
 */
export async function walkFindings(
  doc: DynamoDBDocumentClient,
  table: string,
  org: string,
  filter: FindingFilter,
  o: WalkOptions,
  visit: (v: View, feeds: Feeds) => boolean | void,
): Promise<void> {
  const markers = markerView(doc, table);
  const pre = findingsPrefilter(filter);
  const byAsset = filter.asset !== undefined;
  const withFeeds = needsFeeds(filter);
  // Everything but the feeds first: the lookup is then only for candidates.
  const plain: FindingFilter = { ...filter, kev: undefined, epssMin: undefined };
  const names = { ...pre?.names, ...o.projection?.names };
  let start: Record<string, unknown> | undefined;
  // A finding whose triage item may be the first item of the next Query page.
  let carry: Item | undefined;
  do {
    const r = await doc.send(
      new QueryCommand({
        TableName: table,
        ...(byAsset
          ? {
              IndexName: 'gsi1',
              KeyConditionExpression: '#gpk = :pk AND #gsk BETWEEN :from AND :to',
              ExpressionAttributeNames: { '#gpk': 'gsi1pk', '#gsk': 'gsi1sk', ...names },
              ExpressionAttributeValues: {
                ':pk': assetGsiPk(org, filter.asset as string),
                ':from': findingSk(o.afterSeq + 1),
                ':to': FINDING_SK_END,
                ...pre?.values,
              },
            }
          : {
              ConsistentRead: true,
              KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :from AND :to',
              ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk', ...names },
              ExpressionAttributeValues: {
                ':pk': orgPk(org),
                ':from': findingSk(o.afterSeq + 1),
                ':to': FINDING_SK_END,
                ...pre?.values,
              },
            }),
        ...(pre ? { FilterExpression: pre.expression } : {}),
        ...(o.projection ? { ProjectionExpression: o.projection.expression } : {}),
        ...(o.pageSize !== undefined ? { Limit: o.pageSize } : {}),
        ExclusiveStartKey: start,
      }),
    );
    start = r.LastEvaluatedKey;
    // Pair findings with their triage items (a triage item without its
    // finding on the page — the prefilter dropped it — pairs with nothing).
    const pairs: { f: Item; t: Item | undefined }[] = [];
    for (const it of r.Items ?? []) {
      if (isTriageItem(it)) {
        if (carry) pairs.push({ f: carry, t: carry.seq === it.seq ? it : undefined });
        carry = undefined;
        continue;
      }
      if (carry) pairs.push({ f: carry, t: undefined });
      carry = it;
    }
    if (!start && carry) {
      pairs.push({ f: carry, t: undefined });
      carry = undefined;
    }
    await markers.load(pairs.flatMap((p) => (p.t ? [p.f, p.t] : [p.f])));
    const views: View[] = [];
    for (const p of pairs) {
      const cur = currentVersion(p.f, markers.committed);
      if (!cur || (o.seedOnly && cur.vulnId === undefined)) continue;
      const v = viewOf(cur, currentTriage(p.t, markers.committed));
      if (matches(v, plain, o.now, EMPTY)) views.push(v);
    }
    const feeds = withFeeds
      ? await o.feeds(views.flatMap((v) => (v.cves as string[] | undefined) ?? []))
      : EMPTY;
    for (const v of views) {
      if (withFeeds && !matches(v, filter, o.now, feeds)) continue;
      if (visit(v, feeds) === false) return;
    }
  } while (start);
}

const EMPTY: Feeds = new Map();
