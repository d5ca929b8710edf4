// Placeholder until branch dynamo16 lands: SLA policies on DynamoDB. Every
// method rejects.

import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SlaPolicies } from '../../core/ports.js';

export function createDynamoSlaStore(
  _doc: DynamoDBDocumentClient,
  _findingsTable: string,
): SlaPolicies {
  const notBuilt = () => Promise.reject(new Error('not built yet'));
  return { get: notBuilt, set: notBuilt };
}
