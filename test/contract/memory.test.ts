// The store contract against the in-memory store the unit tests use
// (test/helpers/memory-store.ts): it decides imports through classify.ts
// alone, and meets the same specification as SQLite and DynamoDB.
import { createMemoryStore } from '../helpers/memory-store.js';
import { MemoryIdempotency, MemoryPolicies } from '../helpers/fake-ports.js';
import { storeContract } from './store-contract.js';

storeContract('memory', () => {
  const store = createMemoryStore();
  const policies = new MemoryPolicies();
  return Promise.resolve({
    reader: store.reader,
    writer: store.writer,
    idempotency: new MemoryIdempotency(),
    policies,
    grant: async (g) => policies.grant(g),
    revoke: async (g) => policies.revoke(g),
    close: async () => {},
  });
});
