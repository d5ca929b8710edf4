// The triage contract against the real DynamoDB Local (Java, in memory, on a
// free loopback port), tables created from table-design.ts; the reader joins
// the feeds from the Feeds table, imported through the DynamoDB FeedStore.
import { createDynamoFeedStore } from '../../src/adapters/dynamodb/feed-store.js';
import { createDynamoFindingsReader } from '../../src/adapters/dynamodb/findings-reader.js';
import { createDynamoFindingsWriter } from '../../src/adapters/dynamodb/findings-writer.js';
import { createDynamoSlaStore } from '../../src/adapters/dynamodb/sla-store.js';
import { createDynamoTriageStore } from '../../src/adapters/dynamodb/triage-store.js';
import { startDynamoLocal } from '../helpers/dynamodb-local.js';
import { triageContract } from './triage-contract.js';

triageContract('dynamodb', async () => {
  const ddb = await startDynamoLocal();
  const t = await ddb.newTables();
  return {
    reader: createDynamoFindingsReader(ddb.doc, t.findings, { feedsTable: t.feeds }),
    writer: createDynamoFindingsWriter(ddb.doc, t.findings),
    triage: createDynamoTriageStore(ddb.doc, t.findings, { feedsTable: t.feeds }),
    sla: createDynamoSlaStore(ddb.doc, t.findings),
    feeds: createDynamoFeedStore(ddb.doc, t.feeds),
    close: () => ddb.stop(),
  };
});
