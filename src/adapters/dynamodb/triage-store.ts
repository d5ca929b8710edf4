// FindingsTriage on DynamoDB (issue 16): people's analysis of findings.
// First version: the signature the Lambda entry imports; the store follows.

import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { FindingsTriage } from '../../core/ports.js';

export interface DynamoTriageOptions {
  /** How long a bulk change may take from its marker to its commit (ms). */
  bulkWindowMs?: number;
}

export function createDynamoTriageStore(
  _doc: DynamoDBDocumentClient,
  _findingsTable: string,
  _options: DynamoTriageOptions = {},
): FindingsTriage {
  const notYet = () => Promise.reject(new Error('triage is not built on DynamoDB yet'));
  return { setAnalysis: notYet, bulkSetAnalysis: notYet, sweepExpired: notYet };
}
