// Per-org sequence numbers (the ordering key of findings and cursors). One
// atomic ADD reserves a whole range, so a batch costs one write however big.

import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { orgPk, SEQ_SK } from './keys.js';

/** Reserves `count` numbers for `org`; returns the first. */
export async function reserveSeqs(
  doc: DynamoDBDocumentClient,
  table: string,
  org: string,
  count: number,
): Promise<number> {
  const r = await doc.send(
    new UpdateCommand({
      TableName: table,
      Key: { pk: orgPk(org), sk: SEQ_SK },
      UpdateExpression: 'ADD #n :c',
      ExpressionAttributeNames: { '#n': 'n' },
      ExpressionAttributeValues: { ':c': count },
      ReturnValues: 'UPDATED_NEW',
    }),
  );
  return (r.Attributes?.n as number) - count + 1;
}
