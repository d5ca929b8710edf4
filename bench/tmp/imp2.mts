import { openFindingsDb } from '../../src/adapters/sqlite/database.js';
import { createScanImporter } from '../../src/adapters/sqlite/scan-import.js';
import { WriteLock } from '../../src/adapters/sqlite/write-lock.js';
import { rmSync } from 'node:fs';
rmSync('/tmp/pb/db', { recursive: true, force: true });
const db = openFindingsDb('/tmp/pb/db/f.db');
db.pragma('wal_autocheckpoint=0');
const begin = createScanImporter(db, new WriteLock());
const mk = (i: number) => ({ asset: `host-${Math.floor(i / 43)}`, scanner: 'nessus', pluginId: `${10000 + (i % 43)}-1`, port: 80 + (i%43), protocol: 'tcp', title: `Synthetic check ${i} "affected certificate update"`, severity: 'high', severityRaw: '3', cvss3Score: 8.8, cvss3Vector: 'CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', cvss2Score: null, cvss2Vector: null, cves: [`CVE-2013-${i%9999}`], description: 'affected certificate update vulnerable denial response version code request service arbitrary client host execute server remote attacker protocol configuration allows cipher patch & arbitrary client host execute server remote.'.repeat(2), solution: 'Upgrade to the latest protocol configuration allows cipher <see vendor>.', evidence: `  Port 80: arbitrary client host execute server remote attacker protocol configuration allows\n  Version : 1.1.0 ${i}`, service: 'www' });
const all = Array.from({ length: 130000 }, (_, i) => mk(i));
for (let run = 0; run < 2; run++) {
  const t0 = performance.now();
  const imp = await begin({ scanId: `s${run}`, org: 'org1', format: 'nessus-xml', principal: 'x', startedAt: new Date().toISOString() });
  for (let i = 0; i < all.length; i += 2000) await imp.stage(all.slice(i, i + 2000) as any, []);
  const c = await imp.commit(all.length);
  console.log(run, (performance.now() - t0).toFixed(0), 'ms', JSON.stringify(c));
}
