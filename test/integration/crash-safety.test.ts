// Crash safety: the real server is killed with SIGKILL at random points while
// batches are being stored, 20 times, and again 20 times while scan uploads
// are streaming in (POST /v1/orgs/{org}/scans, sealed in the import worker).
// Every batch and every upload is stored entirely or not at all, the SQLite
// file passes PRAGMA integrity_check, and after each restart (which seals any
// torn audit record) `vulnvault audit verify` passes.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { request } from 'node:https';
import { runCli, runCliAsync, startCli } from '../helpers/cli.js';
import { demoRecord, pemPair, postJson } from '../helpers/vault.js';
import type { PemPair } from '../../src/pki/issue.js';

const BATCH = 400;
const UPLOAD = 1500;

/**
 * Streams a native JSON scan of UPLOAD findings, all of scanner `scanner`,
 * in small chunks with pauses, so that a kill lands in the middle of it.
 * Resolves with the status, or undefined when the connection died.
 */
function streamUpload(
  port: number,
  ca: string,
  cert: PemPair,
  scanner: string,
): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/v1/orgs/org1/scans',
        ca,
        cert: cert.certPem,
        key: cert.keyPem,
        servername: 'localhost',
        agent: false,
        headers: { 'content-type': 'application/json' },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
        res.on('error', () => resolve(undefined));
      },
    );
    req.on('error', () => resolve(undefined));
    const item = (i: number) =>
      JSON.stringify({
        asset: `host-${i % 50}`,
        scanner,
        pluginId: `p${i}`,
        port: 443,
        protocol: 'tcp',
        title: 'crash check',
        severity: 'medium',
        description: `secret description ${i}`,
        evidence: `secret evidence ${i}`,
      });
    let i = 0;
    const pump = () => {
      if (req.destroyed) return;
      const parts: string[] = [];
      for (let k = 0; k < 100 && i < UPLOAD; k++, i++) parts.push((i === 0 ? '' : ',') + item(i));
      req.write((i <= 100 ? '{"findings":[' : '') + parts.join(''));
      if (i < UPLOAD) setTimeout(pump, 5);
      else req.end(']}');
    };
    pump();
  });
}

describe('crash safety under SIGKILL', () => {
  let work: string;
  let dir: string;
  before(() => {
    work = mkdtempSync(join(tmpdir(), 'vulnvault-crash-'));
    dir = join(work, 'vv');
    assert.equal(runCli(['init', '--dir', dir]).status, 0);
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it('keeps every batch whole, the database intact and the audit chain verifiable', async () => {
    const ca = readFileSync(join(dir, 'pki', 'ca.crt'), 'utf8');
    const scanner = pemPair(join(dir, 'pki', 'clients'), 'scanner');
    const sent: string[] = [];
    let acknowledged = 0;

    for (let round = 0; round < 20; round++) {
      const s = await startCli(['serve', '--dir', dir, '--port', '0']);
      const v = runCli(['audit', 'verify', '--dir', dir]);
      assert.equal(v.status, 0, `round ${round}: ${v.stdout}${v.stderr}`);

      let killed = false;
      const writer = async (lane: number) => {
        for (let b = 0; !killed; b++) {
          const prefix = `R${round}-L${lane}-B${b}-`;
          sent.push(prefix);
          const batch = Array.from({ length: BATCH }, (_, i) =>
            demoRecord({ VulnID: `${prefix}${i}`, Org: `org${(i % 6) + 1}` }),
          );
          try {
            const res = await postJson(s.port, ca, scanner, batch);
            if (res.status === 201) acknowledged++;
          } catch {
            return; // the server died under us
          }
        }
      };
      const lanes = [writer(0), writer(1)];
      await new Promise((r) => setTimeout(r, 50 + Math.floor(Math.random() * 400)));
      s.child.kill('SIGKILL');
      killed = true;
      await s.exited;
      await Promise.all(lanes);

      const db = new Database(join(dir, 'data', 'findings.db'));
      try {
        assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
        const count = db.prepare("SELECT count(*) AS n FROM findings WHERE vuln_id LIKE ? || '%'");
        for (const prefix of sent.filter((p) => p.startsWith(`R${round}-`))) {
          const n = (count.get(prefix) as { n: number }).n;
          assert.ok(
            n === 0 || n === BATCH,
            `round ${round}: batch ${prefix} stored ${n} of ${BATCH}`,
          );
        }
      } finally {
        db.close();
      }
    }
    assert.ok(acknowledged > 0, 'some batches were acknowledged before the kills');

    const db = new Database(join(dir, 'data', 'findings.db'), { readonly: true });
    const total = (db.prepare('SELECT count(*) AS n FROM findings').get() as { n: number }).n;
    db.close();
    assert.ok(total >= acknowledged * BATCH, 'every acknowledged batch survived');

    const last = await startCli(['serve', '--dir', dir, '--port', '0']);
    last.child.kill('SIGTERM');
    assert.equal(await last.exited, 0);
    const v = runCli(['audit', 'verify', '--dir', dir]);
    assert.equal(v.status, 0, v.stdout + v.stderr);
  });

  it('stores each streamed scan upload whole or not at all across 20 kills', async () => {
    const ca = readFileSync(join(dir, 'pki', 'ca.crt'), 'utf8');
    const scanner = pemPair(join(dir, 'pki', 'clients'), 'scanner');
    const sent: string[] = [];
    let acknowledged = 0;
    let roundsKilledMidUpload = 0;

    for (let round = 0; round < 20; round++) {
      const s = await startCli(['serve', '--dir', dir, '--port', '0']);
      const verify = runCliAsync(['audit', 'verify', '--dir', dir]);
      let killed = false;
      let midUpload = false;
      let firstAck: () => void = () => undefined;
      const acked = new Promise<void>((r) => (firstAck = r));
      const uploader = async (lane: number) => {
        for (let u = 0; !killed; u++) {
          const name = `crash-R${round}-L${lane}-U${u}`;
          sent.push(name);
          const status = await streamUpload(s.port, ca, scanner, name);
          if (status === 201) {
            acknowledged++;
            firstAck();
          }
          if (status === undefined) {
            midUpload = true;
            return;
          }
        }
      };
      const lanes = [uploader(0), uploader(1)];
      // The kill lands at a random moment once the server has acknowledged
      // an upload of this round (or after 15 s): on a slow or busy machine a
      // fixed window could pass before any upload completes, and then no
      // acknowledged upload would be put to the test.
      await Promise.race([acked, new Promise((r) => setTimeout(r, 15_000))]);
      await new Promise((r) => setTimeout(r, 200 + Math.floor(Math.random() * 600)));
      s.child.kill('SIGKILL');
      killed = true;
      await s.exited;
      await Promise.all(lanes);
      if (midUpload) roundsKilledMidUpload++;
      const v = await verify;
      assert.equal(v.status, 0, `round ${round}: ${v.stdout}${v.stderr}`);

      const db = new Database(join(dir, 'data', 'findings.db'));
      try {
        assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
        const count = db.prepare('SELECT count(*) AS n FROM findings WHERE scanner = ?');
        const plain = db.prepare(
          "SELECT count(*) AS n FROM findings WHERE sealed IS NULL OR description != '' OR evidence != ''",
        );
        for (const name of sent.filter((p) => p.startsWith(`crash-R${round}-`))) {
          const n = (count.get(name) as { n: number }).n;
          assert.ok(
            n === 0 || n === UPLOAD,
            `round ${round}: upload ${name} stored ${n} of ${UPLOAD}`,
          );
        }
        assert.equal((plain.get() as { n: number }).n, 0, 'every stored row is sealed');
      } finally {
        db.close();
      }
    }
    assert.equal(roundsKilledMidUpload, 20, 'every kill landed while an upload was streaming');
    assert.ok(acknowledged > 0, 'some uploads were acknowledged before the kills');

    const last = await startCli(['serve', '--dir', dir, '--port', '0']);
    last.child.kill('SIGTERM');
    assert.equal(await last.exited, 0);
    const v = runCli(['audit', 'verify', '--dir', dir]);
    assert.equal(v.status, 0, v.stdout + v.stderr);
  });
});
