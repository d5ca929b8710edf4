// DP 1.1 acceptance: findings uploaded through every route and format with a
// unique marker in every sensitive field (description, solution, evidence)
// leave no byte of that marker in any file of the data directory — the
// SQLite file, its -wal and -shm, logs, idempotency store — while the server
// runs and after it stops; an authorized reader still gets the plaintext. A
// sealed blob copied to another row or org does not open, and a database
// from before encryption is sealed at the next start.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { sqliteFindingCiphers } from '../../src/adapters/sqlite/ciphers.js';
import { openFindingsDb, openFindingsDbReadOnly } from '../../src/adapters/sqlite/database.js';
import { createSqliteFindingsReader } from '../../src/adapters/sqlite/findings-reader.js';
import { get, grantRead, uploadScan, type Client } from '../helpers/scans.js';
import {
  demoRecord,
  makeTestDir,
  postJson,
  startVault,
  type RunningVault,
  type TestDir,
} from '../helpers/vault.js';

const MARK = `MRK${randomBytes(6).toString('hex')}`;
const m = (what: string) => `${MARK}-${what}`;

/** Every file under dir whose raw bytes contain the marker. */
function filesWithMarker(dir: string): string[] {
  const hits: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (readFileSync(p).includes(MARK)) hits.push(p);
    }
  };
  walk(dir);
  return hits;
}

const nessus = `<?xml version="1.0" ?>
<NessusClientData_v2><Report name="r">
<ReportHost name="10.0.0.1"><HostProperties></HostProperties>
<ReportItem port="443" svc_name="www" protocol="tcp" severity="3" pluginID="11111" pluginName="TLS check">
<description>${m('nessus-description')}</description>
<solution>${m('nessus-solution')}</solution>
<plugin_output>${m('nessus-plugin-output')}</plugin_output>
</ReportItem>
</ReportHost></Report></NessusClientData_v2>`;

const sarif = JSON.stringify({
  version: '2.1.0',
  runs: [
    {
      // Results before tool (Semgrep's key order): held encrypted until the rules are known.
      results: [
        {
          ruleId: 'sql-injection',
          level: 'error',
          message: { text: `SQL injection\n${m('sarif-message')}` },
          locations: [
            {
              physicalLocation: {
                artifactLocation: { uri: 'src/db.ts' },
                region: { startLine: 12, snippet: { text: m('sarif-snippet') } },
              },
            },
          ],
        },
        {
          // A secret scanner's single-line message: all of it is free text.
          ruleId: 'aws-access-key',
          message: { text: `AWS key AKIA${m('sarif-single-line')} found` },
          suppressions: [{ kind: 'inSource', justification: m('sarif-suppression') }],
          locations: [
            {
              physicalLocation: {
                artifactLocation: { uri: 'config/prod.env' },
                region: { startLine: 3 },
              },
            },
          ],
        },
      ],
      tool: {
        driver: {
          name: 'semgrep',
          rules: [
            { id: 'sql-injection', shortDescription: { text: 'SQL injection' } },
            { id: 'aws-access-key', name: 'AWS access key' },
          ],
        },
      },
      versionControlProvenance: [{ repositoryUri: 'https://git.example/acme/shop' }],
    },
  ],
});

const cyclonedx = JSON.stringify({
  bomFormat: 'CycloneDX',
  specVersion: '1.5',
  metadata: { component: { type: 'application', name: 'shop', purl: 'pkg:npm/shop@1.0.0' } },
  components: [{ 'bom-ref': 'lodash', name: 'lodash', purl: 'pkg:npm/lodash@4.17.0' }],
  vulnerabilities: [
    {
      id: 'CVE-2024-0001',
      description: `Prototype pollution\n${m('cdx-description')}`,
      detail: m('cdx-detail'),
      recommendation: m('cdx-recommendation'),
      ratings: [{ severity: 'high' }],
      affects: [{ ref: 'lodash' }],
      analysis: {
        state: 'not_affected',
        justification: 'code_not_reachable',
        detail: m('cdx-analysis'),
      },
    },
    {
      id: 'CVE-2024-0002',
      description: m('cdx-single-line'),
      ratings: [{ severity: 'low' }],
      affects: [{ ref: 'lodash' }],
    },
  ],
});

const native = JSON.stringify({
  findings: [
    {
      asset: 'host-9',
      scanner: 'custom',
      pluginId: 'c-1',
      port: 22,
      protocol: 'tcp',
      title: 'custom check',
      severity: 'low',
      description: m('native-description'),
      solution: m('native-solution'),
      evidence: m('native-evidence'),
    },
  ],
});

describe('encryption at rest', () => {
  let t: TestDir;
  let v: RunningVault;
  let scanner: Client;
  let reader: Client;
  before(async () => {
    t = await makeTestDir();
    grantRead(t.dir, 'customer', 'org2');
    v = await startVault(t.config);
    scanner = { port: v.port, ca: t.ca.certPem, cert: t.scanner };
    reader = { port: v.port, ca: t.ca.certPem, cert: t.customer };
  });
  after(async () => {
    await v?.close();
    t.cleanup();
  });

  it('stores no plaintext of a sensitive field in any file, and serves it to a reader', async () => {
    const uploads: [string, string][] = [
      [nessus, 'application/vnd.tenable.nessus+xml'],
      [sarif, 'application/sarif+json'],
      [cyclonedx, 'application/vnd.cyclonedx+json'],
      [native, 'application/json'],
    ];
    for (const [body, type] of uploads) {
      const r = await uploadScan(scanner, 'org1', body, type);
      assert.equal(r.status, 201, r.text);
    }
    // Seed records carry no sensitive field (PluginName is the queryable
    // title); their rows are sealed all the same.
    assert.equal((await postJson(v.port, t.ca.certPem, t.scanner, demoRecord())).status, 201);

    // While the server runs: the WAL holds the recent pages.
    const files = readdirSync(join(t.dir, 'data'));
    assert.ok(files.includes('findings.db-wal'), files.join(' '));
    assert.deepEqual(filesWithMarker(t.dir), []);

    const list = await get(reader, '/v1/orgs/org1/findings?limit=100');
    assert.equal(list.status, 200);
    assert.equal(list.json.items.length, 7);
    const seen = new Set<string>();
    for (const item of list.json.items as { id: string }[]) {
      const one = await get(reader, `/v1/orgs/org1/findings/${item.id}`);
      assert.equal(one.status, 200);
      for (const text of [
        one.json.description,
        one.json.solution,
        one.json.evidence,
        one.json.analysis?.detail ?? '',
      ] as string[]) {
        for (const hit of text.match(new RegExp(`${MARK}-[a-z-]+`, 'g')) ?? []) seen.add(hit);
      }
    }
    assert.deepEqual(
      [...seen].sort(),
      [
        'cdx-analysis',
        'cdx-description',
        'cdx-detail',
        'cdx-recommendation',
        'cdx-single-line',
        'native-description',
        'native-evidence',
        'native-solution',
        'nessus-description',
        'nessus-plugin-output',
        'nessus-solution',
        'sarif-message',
        'sarif-single-line',
        'sarif-snippet',
        'sarif-suppression',
      ].map(m),
    );
    const db = openFindingsDbReadOnly(join(t.dir, 'data', 'findings.db'));
    try {
      const rows = db.prepare(`SELECT count(*) AS n FROM findings WHERE sealed IS NULL`).get() as {
        n: number;
      };
      assert.equal(rows.n, 0, 'every row is sealed');
    } finally {
      db.close();
    }
  });

  it('refuses a sealed blob copied to another row or another org', async () => {
    const r = await uploadScan(scanner, 'org2', native, 'application/json');
    assert.equal(r.status, 201, r.text);
    const file = join(t.dir, 'data', 'findings.db');
    const db = new Database(file);
    const row = (org: string, plugin: string) =>
      db
        .prepare(`SELECT id, sealed FROM findings WHERE org = ? AND plugin_id = ?`)
        .get(org, plugin) as {
        id: string;
        sealed: Buffer;
      };
    const nessusRow = row('org1', '11111');
    const nativeRow = row('org1', 'c-1');
    const otherOrg = row('org2', 'c-1');
    // Same org, other row: the Nessus blob pasted over the native finding.
    db.prepare(`UPDATE findings SET sealed = ? WHERE id = ?`).run(nessusRow.sealed, nativeRow.id);
    // Other org: org1's blob pasted into org2's row of the same finding.
    db.prepare(`UPDATE findings SET sealed = ? WHERE id = ?`).run(nessusRow.sealed, otherOrg.id);
    db.close();

    const moved = await get(reader, `/v1/orgs/org1/findings/${nativeRow.id}`);
    assert.equal(moved.status, 503);
    assert.equal(moved.json.code, 'key_unavailable');
    assert.doesNotMatch(moved.text, new RegExp(MARK));
    const crossOrg = await get(reader, `/v1/orgs/org2/findings/${otherOrg.id}`);
    assert.equal(crossOrg.status, 503);
    assert.equal(crossOrg.json.code, 'key_unavailable');
    // The original row still opens.
    const ok = await get(reader, `/v1/orgs/org1/findings/${nessusRow.id}`);
    assert.equal(ok.status, 200);
    assert.match(ok.json.evidence as string, new RegExp(m('nessus-plugin-output')));
  });

  it('leaves no marker after the server stops (checkpointed file)', async () => {
    await v.close();
    assert.deepEqual(filesWithMarker(t.dir), []);
    v = await startVault(t.config);
  });
});

describe('a database from before encryption', () => {
  let t: TestDir;
  before(async () => {
    t = await makeTestDir();
  });
  after(() => t.cleanup());

  it('is sealed at the next start, leaving no plaintext behind', async () => {
    const file = join(t.dir, 'data', 'findings.db');
    // Rebuild the findings file as schema 2 (the release before encryption)
    // with plaintext rows in two orgs.
    for (const suffix of ['', '-wal', '-shm']) rmSync(file + suffix, { force: true });
    const old = openFindingsDb(file, 2);
    const insert = old.prepare(
      `INSERT INTO findings (id, org, asset, scanner, plugin_id, title, status, first_seen,
         last_seen, description, solution, evidence)
       VALUES (?, ?, 'h1', 'nessus', ?, 'old finding', 'open', 'now', 'now', ?, ?, ?)`,
    );
    for (let i = 0; i < 1500; i++) {
      insert.run(
        `id-${i}`,
        i % 2 === 0 ? 'org1' : 'org2',
        `p${i}`,
        m(`old-description-${i}`),
        m('old-solution'),
        m('old-evidence'),
      );
    }
    old.close();
    assert.notDeepEqual(filesWithMarker(t.dir), []);

    const v = await startVault(t.config);
    try {
      assert.deepEqual(filesWithMarker(t.dir), []);
      assert.ok(v.logs.some((l) => l.includes('encrypted findings stored before encryption')));
      const reader: Client = { port: v.port, ca: t.ca.certPem, cert: t.customer };
      const one = await get(reader, '/v1/orgs/org1/findings/id-42');
      assert.equal(one.status, 200, one.text);
      assert.equal(one.json.description, m('old-description-42'));
      assert.equal(one.json.evidence, m('old-evidence'));
    } finally {
      await v.close();
    }
    // Reading straight through the adapter with the keyring gives the same.
    const db = openFindingsDb(file);
    const ciphers = await sqliteFindingCiphers(t.config, db);
    try {
      const f = await createSqliteFindingsReader(db, ciphers).getFinding('org2', 'id-43');
      assert.equal(f?.description, m('old-description-43'));
    } finally {
      ciphers.close();
      db.close();
    }
  });
});
