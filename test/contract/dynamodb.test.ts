// The store contract against the real DynamoDB Local (Java, in memory, on a
// free loopback port), tables created from table-design.ts.
import { createDynamoFindingsReader } from '../../src/adapters/dynamodb/findings-reader.js';
import { createDynamoFindingsWriter } from '../../src/adapters/dynamodb/findings-writer.js';
import { createDynamoIdempotencyStore } from '../../src/adapters/dynamodb/idempotency-store.js';
import {
  createDynamoPolicyReader,
  createDynamoPolicyWriter,
} from '../../src/adapters/dynamodb/policy-store.js';
import { startDynamoLocal } from '../helpers/dynamodb-local.js';
import { storeContract } from './store-contract.js';

storeContract('dynamodb', async () => {
  const ddb = await startDynamoLocal();
  const t = await ddb.newTables();
  const policyWriter = createDynamoPolicyWriter(ddb.doc, t.policies);
  return {
    reader: createDynamoFindingsReader(ddb.doc, t.findings),
    writer: createDynamoFindingsWriter(ddb.doc, t.findings),
    idempotency: createDynamoIdempotencyStore(ddb.doc, t.idempotency),
    policies: createDynamoPolicyReader(ddb.doc, t.policies),
    grant: async (g) => void (await policyWriter.grant(g)),
    revoke: async (g) => void (await policyWriter.revoke(g)),
    close: () => ddb.stop(),
  };
});
