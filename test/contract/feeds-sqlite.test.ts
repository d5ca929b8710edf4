// The FeedStore contract on SQLite: the feed tables in a findings database
// (migration 6), imported on the read-write connection and read on a
// read-only one, as the CLI and the server would.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openFindingsDb, openFindingsDbReadOnly } from '../../src/adapters/sqlite/database.js';
import { createSqliteFeedStore } from '../../src/adapters/sqlite/feed-store.js';
import { feedContract } from './feed-contract.js';

feedContract('sqlite', (now) => {
  const dir = mkdtempSync(join(tmpdir(), 'vulnvault-feeds-'));
  const file = join(dir, 'findings.db');
  const db = openFindingsDb(file);
  const readDb = openFindingsDbReadOnly(file);
  return Promise.resolve({
    store: createSqliteFeedStore(db, { now }),
    reader: createSqliteFeedStore(readDb, { now }),
    close() {
      readDb.close();
      db.close();
      rmSync(dir, { recursive: true, force: true });
      return Promise.resolve();
    },
  });
});
