// SlaPolicies on DynamoDB: the org's policy is the item "#SLA" of its
// partition. Setting one holds the org's import lease (#LOCK, as a scan
// import does: an import rewrites whole finding items), stores the policy,
// then recomputes the due time of every scan finding of the org from when its
// SLA clock started (slaSince: first seen, or reopened) and moves its rev on;
// seed records keep their DueDate. Imports read the policy at their start.

import { PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { randomUUID } from 'node:crypto';
import type { Severity } from '../../core/finding.js';
import type { SlaPolicies } from '../../core/ports.js';
import { dueAtOf } from '../../core/triage.js';
import { batchWrite, storeError, type Item } from './client.js';
import { currentVersion, isTriageItem, settled } from './finding-item.js';
import { FINDING_SK_END, findingSk, orgPk, SLA_SK } from './keys.js';
import { markerView } from './markers.js';
import { acquireOrgLock, releaseOrgLock, storedSla } from './scan-import.js';

export function createDynamoSlaStore(doc: DynamoDBDocumentClient, table: string): SlaPolicies {
  return {
    async get(org) {
      try {
        return await storedSla(doc, table, org);
      } catch (err) {
        throw storeError(err);
      }
    },

    async set(org, policy, at) {
      const owner = `sla-${randomUUID()}`;
      try {
        await acquireOrgLock(doc, table, org, owner);
      } catch (err) {
        throw storeError(err);
      }
      try {
        await doc.send(
          new PutCommand({
            TableName: table,
            Item: { pk: orgPk(org), sk: SLA_SK, policy: { ...policy }, updatedAt: at },
          }),
        );
        // With the lease held no import stages anything: a `stg` still on an
        // item is committed (merged into the current version) or dead.
        const markers = markerView(doc, table);
        let recomputed = 0;
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
                ':from': findingSk(1),
                ':to': FINDING_SK_END,
              },
              ExclusiveStartKey: start,
            }),
          );
          const items = (r.Items ?? []).filter((it) => !isTriageItem(it));
          await markers.load(items);
          const puts: Item[] = [];
          for (const it of items) {
            const cur = currentVersion(it, markers.committed);
            if (!cur || cur.vulnId !== undefined) continue;
            const since = (cur.slaSince as string | undefined) ?? (cur.firstSeen as string);
            puts.push({
              ...settled(cur),
              slaSince: since,
              dueAt: dueAtOf(policy, cur.severity as Severity, since),
              rev: ((cur.rev as number | undefined) ?? 1) + 1,
            });
          }
          await batchWrite(
            doc,
            table,
            puts.map((Item) => ({ PutRequest: { Item } })),
          );
          recomputed += puts.length;
          start = r.LastEvaluatedKey;
        } while (start);
        return { recomputed };
      } catch (err) {
        throw storeError(err);
      } finally {
        await releaseOrgLock(doc, table, org, owner);
      }
    },
  };
}
