// FindingsTriage on DynamoDB: people's analysis of findings. The analysis is
// a triage item of its own, "F#<seq>#T" (finding-item.ts), never part of the
// finding item, which imports rewrite whole: an import running meanwhile can
// neither lose nor overwrite it. The finding's ETag is its rev (imports,
// SLA changes) plus the triage item's trev (people).
//
// setAnalysis: one transaction — the finding unchanged since it was read
// (rev and staged version; a staged import still staging, by its marker),
// the triage item unchanged (trev, staged version), the new triage item, a
// history item. A change in between cancels it; it is read and checked
// again, so a moved rev ends in precondition_failed and nothing changes.
//
// bulkSetAnalysis: up to 10,000 findings, far over the 100 items of a
// transaction, so it is staged like a scan import (markers.ts): marker
// M#<bulk> = staging with a deadline, every triage item given its next
// version in `stg` (conditional on the version read) and a history item with
// pend = <bulk>, then one conditional write of the marker to committed makes
// all of them current at once. Any failure before that marks the bulk
// aborted: readers never see any of it. A triage item held by a bulk still
// staging refuses other changes until that bulk commits, aborts, or passes
// its deadline (then it is fenced to aborted, as seed batches are).
//
// sweepExpired: risk acceptances are indexed by expiresAt in gsi2 (sparse,
// EXPIRY_SHARDS partitions "X#<n>"); the sweep reads the due ones there and
// records each expiry like a single change.

import { randomInt, randomUUID } from 'node:crypto';
import {
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { VaultError } from '../../core/errors.js';
import type { FindingsTriage, TriageMeta } from '../../core/ports.js';
import type { TriageChange, TriageState, UserAnalysis } from '../../core/triage.js';
import {
  batchGet,
  batchWrite,
  isConditionFailure,
  mapLimit,
  storeError,
  type Item,
} from './client.js';
import { createDynamoFeedStore } from './feed-store.js';
import { feedJoin, walkFindings } from './finding-scan.js';
import { currentTriage, currentVersion, TRIAGE_KIND, type CurrentTriage } from './finding-item.js';
import {
  assetGsiPk,
  EXPIRY_SHARDS,
  expiryGsiPk,
  findingSk,
  historySk,
  markerKey,
  orgPk,
  seqOfFindingId,
  triageSk,
} from './keys.js';
import { markerView, type MarkerView } from './markers.js';

export interface DynamoTriageOptions {
  /** The Feeds table, for bulk changes by a filter with kev or epssMin. */
  feedsTable?: string | undefined;
  /** How long a bulk change may take from its marker to its commit (ms). */
  bulkWindowMs?: number | undefined;
}

const BULK_WINDOW_MS = 5 * 60_000;
/** Attempts of one change whose transaction a concurrent write cancelled. */
const ATTEMPTS = 4;

/** A finding about to be changed, as read. */
interface Target {
  org: string;
  seq: number;
  id: string;
  /** The finding item as stored, and its current version. */
  f: Item;
  cur: Item;
  /** The triage item as stored (absent: none yet), and its current version. */
  t: Item | undefined;
  tcur: CurrentTriage;
}

const busy = () =>
  new VaultError(
    'store_unavailable',
    'another change to this finding is being stored right now; nothing was changed — retry shortly',
  );

const stale = () =>
  new VaultError(
    'precondition_failed',
    'the finding changed since its ETag was read (If-Match is stale); nothing was changed — GET it again and retry',
  );

/** The effective state before a change: the person's, else the scanner's, else none. */
function stateOf(t: Target): TriageState | null {
  const scanner = (t.cur.analysis as { state: string } | null | undefined)?.state;
  return t.tcur.triage?.state ?? (scanner as TriageState | undefined) ?? null;
}

/** gsi2 attributes: the earliest expiresAt of the risk acceptances among these versions. */
function expiryIndex(seq: number, ...versions: (UserAnalysis | null)[]): Item {
  const at = versions
    .filter((v): v is UserAnalysis => v?.state === 'risk_accepted' && v.expiresAt !== null)
    .map((v) => v.expiresAt as string)
    .sort()[0];
  return at === undefined ? {} : { gsi2pk: expiryGsiPk(seq % EXPIRY_SHARDS), gsi2sk: at };
}

/** A history position: the write time (epoch ms · 1000) and a suffix 1–999 (imports use 0). */
const newPos = () => Date.now() * 1000 + randomInt(1, 1000);

/** The condition that a stored item is still the version read (fixed fragments, bound values). */
function unchanged(
  it: Item | undefined,
  revName: 'rev' | 'trev',
): { expr: string; names: Record<string, string>; values: Record<string, unknown> } {
  if (!it) {
    return { expr: 'attribute_not_exists(#pk)', names: { '#pk': 'pk' }, values: {} };
  }
  const names: Record<string, string> = { '#rev': revName, '#stg': 'stg' };
  const values: Record<string, unknown> = {};
  const parts: string[] = [];
  if (typeof it[revName] === 'number') {
    parts.push('#rev = :rev');
    values[':rev'] = it[revName];
  } else parts.push('attribute_not_exists(#rev)');
  const imp: unknown = (it.stg as Item | undefined)?.imp;
  if (typeof imp === 'string') {
    parts.push('#stg.#imp = :imp');
    names['#imp'] = 'imp';
    values[':imp'] = imp;
  } else parts.push('attribute_not_exists(#stg)');
  return { expr: parts.join(' AND '), names, values };
}

export function createDynamoTriageStore(
  doc: DynamoDBDocumentClient,
  findingsTable: string,
  options: DynamoTriageOptions = {},
): FindingsTriage {
  const table = findingsTable;
  const window = options.bulkWindowMs ?? BULK_WINDOW_MS;
  const feedStore =
    options.feedsTable !== undefined ? createDynamoFeedStore(doc, options.feedsTable) : undefined;

  /** Reads findings and their triage items by seq; undefined for what is not visible. */
  async function read(
    org: string,
    wanted: readonly { seq: number; id: string }[],
  ): Promise<{ targets: (Target | undefined)[]; markers: MarkerView }> {
    const pk = orgPk(org);
    const got = await batchGet(
      doc,
      table,
      wanted.flatMap((w) => [
        { pk, sk: findingSk(w.seq) },
        { pk, sk: triageSk(w.seq) },
      ]),
    );
    const bySk = new Map(got.map((it) => [it.sk as string, it]));
    const markers = markerView(doc, table);
    await markers.load(got);
    const targets = wanted.map((w): Target | undefined => {
      const f = bySk.get(findingSk(w.seq));
      if (!f || f.id !== w.id) return undefined;
      const cur = currentVersion(f, markers.committed);
      if (!cur) return undefined;
      const t = bySk.get(triageSk(w.seq));
      return { org, seq: w.seq, id: w.id, f, cur, t, tcur: currentTriage(t, markers.committed) };
    });
    return { targets, markers };
  }

  /**
   * Whether a triage item is free to change: not held by a bulk change still
   * staging (one past its deadline is fenced to aborted first).
   */
  async function free(t: Target, markers: MarkerView): Promise<boolean> {
    const imp: unknown = (t.t?.stg as Item | undefined)?.imp;
    if (typeof imp !== 'string' || markers.state(imp) !== 'staging') return true;
    try {
      await doc.send(
        new UpdateCommand({
          TableName: table,
          Key: markerKey(imp),
          UpdateExpression: 'SET #state = :aborted',
          ConditionExpression: '#state = :staging AND #deadline < :now',
          ExpressionAttributeNames: { '#state': 'state', '#deadline': 'deadline' },
          ExpressionAttributeValues: {
            ':aborted': 'aborted',
            ':staging': 'staging',
            ':now': Date.now(),
          },
        }),
      );
      return true;
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      return false;
    }
  }

  const userAnalysis = (change: TriageChange, meta: TriageMeta): UserAnalysis => ({
    state: change.state,
    justification: change.justification,
    response: [...change.response],
    comment: change.comment,
    expiresAt: change.expiresAt,
    by: meta.by,
    at: meta.at,
  });

  /** The triage item with `triage` as its current version (a staged one settled). */
  const triageItem = (t: Target, triage: UserAnalysis): Item => ({
    pk: orgPk(t.org),
    sk: triageSk(t.seq),
    kind: TRIAGE_KIND,
    seq: t.seq,
    gsi1pk: assetGsiPk(t.org, t.cur.asset as string),
    gsi1sk: triageSk(t.seq),
    triage,
    trev: t.tcur.trev + 1,
    ...expiryIndex(t.seq, triage),
  });

  const historyItem = (
    t: Target,
    kind: 'analysis' | 'expired',
    from: string | null,
    a: UserAnalysis,
    pend?: string,
  ): Item => {
    const pos = newPos();
    return {
      pk: orgPk(t.org),
      sk: historySk(t.seq, pos),
      seq: t.seq,
      pos,
      kind,
      at: a.at,
      from,
      to: a.state,
      by: a.by,
      scanId: null,
      analysis: a,
      ...(pend !== undefined ? { pend } : {}),
    };
  };

  /**
   * One change in one transaction, conditional on the finding and its triage
   * item being as read; false when a concurrent write cancelled it.
   */
  async function writeOne(
    t: Target,
    markers: MarkerView,
    triage: UserAnalysis,
    kind: 'analysis' | 'expired',
  ): Promise<boolean> {
    const f = unchanged(t.f, 'rev');
    const tc = unchanged(t.t, 'trev');
    const fImp: unknown = (t.f.stg as Item | undefined)?.imp;
    try {
      await doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              ConditionCheck: {
                TableName: table,
                Key: { pk: orgPk(t.org), sk: findingSk(t.seq) },
                ConditionExpression: f.expr,
                ExpressionAttributeNames: f.names,
                ...(Object.keys(f.values).length > 0
                  ? { ExpressionAttributeValues: f.values }
                  : {}),
              },
            },
            // An import staging a version of the finding: still not committed.
            ...(typeof fImp === 'string' && markers.state(fImp) === 'staging'
              ? [
                  {
                    ConditionCheck: {
                      TableName: table,
                      Key: markerKey(fImp),
                      ConditionExpression: '#state = :staging',
                      ExpressionAttributeNames: { '#state': 'state' },
                      ExpressionAttributeValues: { ':staging': 'staging' },
                    },
                  },
                ]
              : []),
            {
              Put: {
                TableName: table,
                Item: triageItem(t, triage),
                ConditionExpression: tc.expr,
                ExpressionAttributeNames: tc.names,
                ...(Object.keys(tc.values).length > 0
                  ? { ExpressionAttributeValues: tc.values }
                  : {}),
              },
            },
            {
              Put: {
                TableName: table,
                Item: historyItem(t, kind, stateOf(t), triage),
                ConditionExpression: 'attribute_not_exists(#pk)',
                ExpressionAttributeNames: { '#pk': 'pk' },
              },
            },
          ],
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  async function abortBulk(bulk: string) {
    await doc
      .send(
        new UpdateCommand({
          TableName: table,
          Key: markerKey(bulk),
          UpdateExpression: 'SET #state = :aborted',
          ConditionExpression: '#state = :staging',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':aborted': 'aborted', ':staging': 'staging' },
        }),
      )
      .catch(() => undefined);
  }

  /** Stages every change under one marker and commits them at once, or none. */
  async function bulk(targets: readonly Target[], triage: UserAnalysis): Promise<void> {
    const id = randomUUID();
    await doc.send(
      new PutCommand({
        TableName: table,
        Item: { ...markerKey(id), state: 'staging', deadline: Date.now() + window },
      }),
    );
    try {
      await mapLimit(targets, 16, async (t) => {
        const cond = unchanged(t.t, 'trev');
        const stg = { imp: id, triage, trev: t.tcur.trev + 1 };
        // The current version settles at the top level; the bulk's waits in stg.
        const item: Item = {
          pk: orgPk(t.org),
          sk: triageSk(t.seq),
          kind: TRIAGE_KIND,
          seq: t.seq,
          gsi1pk: assetGsiPk(t.org, t.cur.asset as string),
          gsi1sk: triageSk(t.seq),
          triage: t.tcur.triage,
          trev: t.tcur.trev,
          stg,
          ...expiryIndex(t.seq, t.tcur.triage, triage),
        };
        try {
          await doc.send(
            new PutCommand({
              TableName: table,
              Item: item,
              ConditionExpression: cond.expr,
              ExpressionAttributeNames: cond.names,
              ...(Object.keys(cond.values).length > 0
                ? { ExpressionAttributeValues: cond.values }
                : {}),
            }),
          );
        } catch (err) {
          if (isConditionFailure(err)) {
            throw new VaultError(
              'store_unavailable',
              'a finding changed while the bulk change was being stored; nothing was changed — retry',
              { cause: err },
            );
          }
          throw err;
        }
      });
      await batchWrite(
        doc,
        table,
        targets.map((t) => ({
          PutRequest: { Item: historyItem(t, 'analysis', stateOf(t), triage, id) },
        })),
      );
      try {
        await doc.send(
          new UpdateCommand({
            TableName: table,
            Key: markerKey(id),
            UpdateExpression: 'SET #state = :committed',
            ConditionExpression: '#state = :staging AND #deadline > :now',
            ExpressionAttributeNames: { '#state': 'state', '#deadline': 'deadline' },
            ExpressionAttributeValues: {
              ':committed': 'committed',
              ':staging': 'staging',
              ':now': Date.now(),
            },
          }),
        );
      } catch (err) {
        if (isConditionFailure(err)) {
          throw new VaultError(
            'store_unavailable',
            'the bulk change took longer than its window; nothing was changed — retry',
            { cause: err },
          );
        }
        throw err;
      }
    } catch (err) {
      // Whatever was staged stays invisible (the marker never says committed);
      // the next change of each triage item settles it away.
      await abortBulk(id);
      throw err;
    }
  }

  return {
    async setAnalysis(org, id, change, meta) {
      const seq = seqOfFindingId(id);
      if (seq === undefined)
        throw new VaultError('not_found', 'no finding with this id in this org');
      try {
        for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
          const { targets, markers } = await read(org, [{ seq, id }]);
          const t = targets[0];
          if (!t) throw new VaultError('not_found', 'no finding with this id in this org');
          const rev = ((t.cur.rev as number | undefined) ?? 1) + t.tcur.trev;
          if (rev !== meta.ifRev) throw stale();
          if (!(await free(t, markers))) throw busy();
          const from = stateOf(t);
          if (await writeOne(t, markers, userAnalysis(change, meta), 'analysis')) {
            return { rev: rev + 1, from };
          }
        }
        throw busy();
      } catch (err) {
        throw storeError(err);
      }
    },

    async bulkSetAnalysis(org, target, change, meta) {
      try {
        let wanted: { seq: number; id: string; index: number }[];
        if ('ids' in target) {
          if (target.ids.length > meta.max) {
            throw new VaultError(
              'triage_too_many',
              `at most ${meta.max} findings per change; nothing was changed`,
            );
          }
          const seen = new Set<string>();
          wanted = [];
          target.ids.forEach((id, index) => {
            const seq = seqOfFindingId(id);
            if (seq === undefined) {
              throw new VaultError(
                'not_found',
                `ids[${index}]: no finding with this id in this org; nothing was changed`,
              );
            }
            if (!seen.has(id)) wanted.push({ seq, id, index });
            seen.add(id);
          });
        } else {
          const found: { seq: number; id: string; index: number }[] = [];
          const filter = target.filter;
          await walkFindings(
            doc,
            table,
            org,
            filter,
            {
              afterSeq: 0,
              now: filter.now ?? new Date().toISOString(),
              feeds: feedJoin(feedStore),
            },
            (v) => {
              found.push({ seq: v.seq as number, id: v.id as string, index: found.length });
              return found.length <= meta.max;
            },
          );
          if (found.length > meta.max) {
            throw new VaultError(
              'triage_too_many',
              `the filter matches more than ${meta.max} findings; narrow it (nothing was changed)`,
            );
          }
          wanted = found;
        }
        const { targets, markers } = await read(org, wanted);
        const ready: Target[] = [];
        targets.forEach((t, i) => {
          const w = wanted[i] as (typeof wanted)[number];
          if (!t) {
            throw new VaultError(
              'not_found',
              'ids' in target
                ? `ids[${w.index}]: no finding with this id in this org; nothing was changed`
                : 'a finding matched by the filter is gone; nothing was changed',
            );
          }
          ready.push(t);
        });
        for (const t of ready) if (!(await free(t, markers))) throw busy();
        if (ready.length > 0) await bulk(ready, userAnalysis(change, meta));
        return { changes: ready.map((t) => ({ id: t.id, from: stateOf(t) })) };
      } catch (err) {
        throw storeError(err);
      }
    },

    async sweepExpired(now) {
      try {
        const due: { pk: string; sk: string }[] = [];
        for (let shard = 0; shard < EXPIRY_SHARDS; shard++) {
          let start: Record<string, unknown> | undefined;
          do {
            const r = await doc.send(
              new QueryCommand({
                TableName: table,
                IndexName: 'gsi2',
                KeyConditionExpression: '#gpk = :pk AND #gsk <= :now',
                ExpressionAttributeNames: { '#gpk': 'gsi2pk', '#gsk': 'gsi2sk' },
                ExpressionAttributeValues: { ':pk': expiryGsiPk(shard), ':now': now },
                ExclusiveStartKey: start,
              }),
            );
            for (const k of r.Items ?? []) due.push({ pk: k.pk as string, sk: k.sk as string });
            start = r.LastEvaluatedKey;
          } while (start);
        }
        const done = await mapLimit(due, 8, async (k) => {
          // The index is eventually consistent: the item itself decides.
          const r = await doc.send(
            new GetCommand({ TableName: table, Key: k, ConsistentRead: true }),
          );
          const it = r.Item;
          if (!it) return false;
          const org = k.pk.slice(2);
          const seq = it.seq as number;
          const got = await batchGet(doc, table, [{ pk: k.pk, sk: findingSk(seq) }]);
          const f = got[0];
          if (!f) return false;
          const markers = markerView(doc, table);
          await markers.load([f, it]);
          const cur = currentVersion(f, markers.committed);
          const tcur = currentTriage(it, markers.committed);
          const a = tcur.triage;
          if (!cur || a?.state !== 'risk_accepted' || a.expiresAt === null || a.expiresAt > now) {
            return false;
          }
          const t: Target = { org, seq, id: f.id as string, f, cur, t: it, tcur };
          if (!(await free(t, markers))) return false;
          // A concurrent change wins; the next sweep looks again.
          return writeOne(
            t,
            markers,
            {
              state: 'in_triage',
              justification: null,
              response: [],
              comment: '',
              expiresAt: null,
              by: 'vulnvault',
              at: a.expiresAt,
            },
            'expired',
          );
        });
        return done.filter(Boolean).length;
      } catch (err) {
        throw storeError(err);
      }
    },
  };
}
