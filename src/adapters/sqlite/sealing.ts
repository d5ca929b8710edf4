// Rows written before envelope encryption (schema < 3) hold description,
// solution and evidence in plaintext columns. At start the server seals them
// — never leaves them — in batches of 1,000 (a crash resumes where it
// stopped), with secure_delete on so the old bytes are zeroed, then VACUUMs
// and truncates the WAL so no page or frame keeps the plaintext.

import type { FindingSealer } from '../../crypto/envelope.js';
import type { FindingCiphers } from '../../crypto/finding-ciphers.js';
import type { Db } from './database.js';

interface Row {
  seq: number;
  id: string;
  org: string;
  description: string;
  solution: string;
  evidence: string;
}

export async function sealPlaintextFindings(db: Db, ciphers: FindingCiphers): Promise<number> {
  const orgs = db
    .prepare<[], string>(`SELECT DISTINCT org FROM findings WHERE sealed IS NULL`)
    .pluck()
    .all();
  if (orgs.length === 0) return 0;
  const sealers = new Map<string, FindingSealer>();
  for (const org of orgs) sealers.set(org, (await ciphers.forWrite(org)).sealer);

  const next = db.prepare<[number], Row>(
    `SELECT seq, id, org, description, solution, evidence FROM findings
      WHERE sealed IS NULL AND seq > ? ORDER BY seq LIMIT 1000`,
  );
  const seal = db.prepare(
    `UPDATE findings SET description = '', solution = '', evidence = '', sealed = ? WHERE seq = ?`,
  );
  const sealBatch = db.transaction((rows: Row[]) => {
    for (const r of rows) {
      seal.run((sealers.get(r.org) as FindingSealer).seal(r.org, r.id, r), r.seq);
    }
  });
  db.pragma('secure_delete = ON');
  let sealed = 0;
  try {
    for (let after = 0; ;) {
      const rows = next.all(after);
      if (rows.length === 0) break;
      sealBatch(rows);
      sealed += rows.length;
      after = (rows.at(-1) as Row).seq;
    }
    db.exec('VACUUM');
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.pragma('secure_delete = OFF');
  }
  return sealed;
}
