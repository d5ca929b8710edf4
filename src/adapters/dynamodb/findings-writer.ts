// FindingsWriter on DynamoDB. A seed batch (up to 1,000 records, any orgs) is
// far over the 100-item transaction limit, so it is staged and committed:
//
//   1. marker M#<batch> = staging, with a deadline
//   2. per record: claim V#<vulnId> (conditional put: the uniqueness check),
//      then the finding item; both carry pend = <batch> and stay invisible
//   3. commit: marker → committed, conditional on still staging and before
//      the deadline. That one write makes the whole batch visible at once.
//
// A failure before 3 (or a crash) leaves only items readers ignore; abort
// deletes them. A claim left by a batch that died can be taken over once its
// marker is fenced to aborted, so that batch can never commit afterwards.

import { randomUUID } from 'node:crypto';
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { VaultError } from '../../core/errors.js';
import type { FindingsWriter, NewSeedFinding } from '../../core/ports.js';
import { batchWrite, isConditionFailure, mapLimit, storeError, type Item } from './client.js';
import { assetGsiPk, findingSk, markerKey, newFindingId, orgPk, vulnIdSk } from './keys.js';
import { createDynamoScanImporter } from './scan-import.js';
import { reserveSeqs } from './sequence.js';

const SEED_SCANNER = 'seed';
/** How long a seed batch may take from its marker to its commit. */
const SEED_WINDOW_MS = 5 * 60_000;

type ClaimResult = 'claimed' | 'exists' | 'busy';

export function createDynamoFindingsWriter(
  doc: DynamoDBDocumentClient,
  table: string,
): FindingsWriter {
  const get = async (key: { pk: string; sk: string }) =>
    (await doc.send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true }))).Item;

  /** Claims a VulnID for this batch, taking over a claim whose batch died. */
  async function claim(org: string, vulnId: string, seq: number, batch: string) {
    const key = { pk: orgPk(org), sk: vulnIdSk(vulnId) };
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await doc.send(
          new PutCommand({
            TableName: table,
            Item: { ...key, seq, pend: batch },
            ConditionExpression: 'attribute_not_exists(#pk)',
            ExpressionAttributeNames: { '#pk': 'pk' },
          }),
        );
        return 'claimed' as ClaimResult;
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
      }
      const held = await get(key);
      if (!held) continue;
      const owner: unknown = held.pend;
      if (typeof owner !== 'string' || owner === batch) return 'exists';
      const marker = await get(markerKey(owner));
      if (marker?.state === 'committed') return 'exists';
      if (marker?.state === 'staging') {
        if ((marker.deadline as number) > Date.now()) return 'busy';
        await fence(owner);
      }
      try {
        await doc.send(
          new PutCommand({
            TableName: table,
            Item: { ...key, seq, pend: batch },
            ConditionExpression: '#pend = :old',
            ExpressionAttributeNames: { '#pend': 'pend' },
            ExpressionAttributeValues: { ':old': owner },
          }),
        );
        return 'claimed';
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
      }
    }
    return 'busy';
  }

  /** A staging batch past its deadline becomes aborted: it can never commit now. */
  async function fence(batch: string) {
    try {
      await doc.send(
        new UpdateCommand({
          TableName: table,
          Key: markerKey(batch),
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
    } catch (err) {
      // Someone else decided it first (committed or aborted): re-read decides.
      if (!isConditionFailure(err)) throw err;
    }
  }

  async function abortSeed(
    batch: string,
    staged: readonly { org: string; vulnId: string; seq: number }[],
  ) {
    await doc
      .send(
        new UpdateCommand({
          TableName: table,
          Key: markerKey(batch),
          UpdateExpression: 'SET #state = :aborted',
          ConditionExpression: '#state = :staging',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':aborted': 'aborted', ':staging': 'staging' },
        }),
      )
      .catch(() => undefined);
    // Best effort: whatever stays behind is invisible (its marker is not committed).
    await mapLimit(staged, 16, async (r) => {
      await doc
        .send(
          new DeleteCommand({
            TableName: table,
            Key: { pk: orgPk(r.org), sk: vulnIdSk(r.vulnId) },
            ConditionExpression: '#pend = :b',
            ExpressionAttributeNames: { '#pend': 'pend' },
            ExpressionAttributeValues: { ':b': batch },
          }),
        )
        .catch(() => undefined);
    });
    await batchWrite(
      doc,
      table,
      staged.map((r) => ({ DeleteRequest: { Key: { pk: orgPk(r.org), sk: findingSk(r.seq) } } })),
    ).catch(() => undefined);
  }

  async function insertSeedBatch(records: readonly NewSeedFinding[]): Promise<{ stored: number }> {
    if (records.length === 0) return { stored: 0 };
    const batch = randomUUID();
    const now = new Date().toISOString();
    await doc.send(
      new PutCommand({
        TableName: table,
        Item: { ...markerKey(batch), state: 'staging', deadline: Date.now() + SEED_WINDOW_MS },
      }),
    );
    // Sequence numbers in record order, one range per org.
    const perOrg = new Map<string, number>();
    for (const r of records) perOrg.set(r.org, (perOrg.get(r.org) ?? 0) + 1);
    const next = new Map<string, number>();
    for (const [org, count] of perOrg) next.set(org, await reserveSeqsFor(org, count));
    const staged = records.map((r) => {
      const seq = next.get(r.org) as number;
      next.set(r.org, seq + 1);
      return { ...r, seq };
    });
    try {
      const claims = await mapLimit(staged, 16, (r) => claim(r.org, r.vulnId, r.seq, batch));
      const exists = claims.indexOf('exists');
      if (exists >= 0) {
        throw new VaultError(
          'vuln_exists',
          `record ${exists}: a finding with this VulnID is already stored for its org; nothing was stored`,
        );
      }
      if (claims.includes('busy')) {
        throw new VaultError(
          'store_unavailable',
          'another request is storing the same VulnID right now; retry shortly',
        );
      }
      await batchWrite(
        doc,
        table,
        staged.map((r) => ({ PutRequest: { Item: seedItem(r, now, batch) } })),
      );
      await doc.send(
        new UpdateCommand({
          TableName: table,
          Key: markerKey(batch),
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
      return { stored: records.length };
    } catch (err) {
      await abortSeed(batch, staged);
      throw err;
    }
  }

  const reserveSeqsFor = (org: string, count: number) => reserveSeqs(doc, table, org, count);

  return {
    async insertSeedBatch(records) {
      try {
        return await insertSeedBatch(records);
      } catch (err) {
        throw storeError(err);
      }
    },
    beginScanImport: createDynamoScanImporter(doc, table),
  };
}

function seedItem(r: NewSeedFinding & { seq: number }, now: string, batch: string): Item {
  const sk = findingSk(r.seq);
  return {
    pk: orgPk(r.org),
    sk,
    gsi1pk: assetGsiPk(r.org, r.asset),
    gsi1sk: sk,
    seq: r.seq,
    id: newFindingId(r.seq),
    org: r.org,
    vulnId: r.vulnId,
    asset: r.asset,
    scanner: SEED_SCANNER,
    pluginId: r.pluginId,
    port: 0,
    protocol: '',
    title: r.title,
    severity: 'info',
    severityRaw: '',
    cvss3Score: null,
    cvss3Vector: null,
    cvss2Score: null,
    cvss2Vector: null,
    cves: [],
    description: '',
    solution: '',
    evidence: '',
    service: '',
    status: 'open',
    firstSeen: now,
    lastSeen: now,
    fixedAt: null,
    dueDate: r.dueDate,
    priority: r.priority,
    lastScanId: null,
    firstScanId: null,
    // A seed record keeps its DueDate as its SLA due time.
    slaSince: now,
    dueAt: `${r.dueDate}T00:00:00.000Z`,
    rev: 1,
    pend: batch,
  };
}
