// SlaPolicies on DynamoDB (issue 16). First version: the signature the
// Lambda entry imports; the store follows.

import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SlaPolicies } from '../../core/ports.js';

export function createDynamoSlaStore(_doc: DynamoDBDocumentClient, _table: string): SlaPolicies {
  const notYet = () => Promise.reject(new Error('SLA policies are not built on DynamoDB yet'));
  return { get: notYet, set: notYet };
}
