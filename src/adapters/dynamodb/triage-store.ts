// Placeholder until branch dynamo16 lands: FindingsTriage on DynamoDB. Every
// method rejects, so nothing can change an analysis through it.

import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { FindingsTriage } from '../../core/ports.js';

export function createDynamoTriageStore(
  _doc: DynamoDBDocumentClient,
  _findingsTable: string,
): FindingsTriage {
  const notBuilt = () => Promise.reject(new Error('not built yet'));
  return { setAnalysis: notBuilt, bulkSetAnalysis: notBuilt, sweepExpired: notBuilt };
}
