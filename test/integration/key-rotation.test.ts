// DP 1.2: `vulnvault keys rotate` (another process, as an operator runs it)
// creates a new key version and rewraps every org's data key while the
// server keeps serving reads, uploads and first writes of new orgs: zero
// failed requests. `keys status` then shows which version protects which
// orgs. Disabling the version that wraps an org's key makes the server fail
// closed (503 key_unavailable, nothing stored) until it is enabled again.

import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCliAsync, startCli, type Served } from '../helpers/cli.js';
import { rawTls } from '../helpers/edge.js';
import { get, uploadScan, type Client } from '../helpers/scans.js';
import {
  countFindings,
  demoRecord,
  makeTestDir,
  postJson,
  type TestDir,
} from '../helpers/vault.js';

function nativeOne(asset: string, evidence: string): string {
  return JSON.stringify({
    findings: [
      {
        asset,
        scanner: 'load',
        pluginId: 'p-1',
        port: 1,
        protocol: 'tcp',
        title: 'load check',
        severity: 'low',
        evidence,
      },
    ],
  });
}

describe('key rotation while serving', () => {
  let t: TestDir;
  let s: Served;
  let scanner: Client;
  let reader: Client;
  before(async () => {
    t = await makeTestDir();
    // The load below must never be throttled.
    const cfgFile = join(t.dir, 'vulnvault.json');
    const cfg = JSON.parse(readFileSync(cfgFile, 'utf8')) as Record<string, unknown>;
    cfg.throttle = {
      global: { rate: 1e6, burst: 1e6 },
      defaultPlan: 'x',
      plans: { x: { rate: 1e6, burst: 1e6 } },
      assignments: {},
    };
    writeFileSync(cfgFile, JSON.stringify(cfg));
    s = await startCli(['serve', '--dir', t.dir, '--port', '0']);
    scanner = { port: s.port, ca: t.ca.certPem, cert: t.scanner };
    reader = { port: s.port, ca: t.ca.certPem, cert: t.customer };
  });
  after(async () => {
    s.child.kill('SIGTERM');
    await s.exited;
    t.cleanup();
  });

  it('rotates with zero failed requests and reports what each version protects', async () => {
    const first = await uploadScan(
      scanner,
      'org1',
      nativeOne('h0', 'secret-0'),
      'application/json',
    );
    assert.equal(first.status, 201, first.text);
    const list = await get(reader, '/v1/orgs/org1/findings');
    const id = list.json.items[0].id as string;

    const failures: string[] = [];
    let ok = 0;
    let running = true;
    let n = 0;
    const worker = async (w: number) => {
      while (running) {
        const i = n++;
        const jobs = [
          () => get(reader, `/v1/orgs/org1/findings/${id}`),
          () => get(reader, '/v1/orgs/org1/findings?limit=50'),
          () => uploadScan(scanner, 'org1', nativeOne(`h${i}`, `secret-${i}`), 'application/json'),
          // First write of an org during the rotation: a new data key.
          () =>
            postJson(
              s.port,
              t.ca.certPem,
              t.scanner,
              demoRecord({ Org: `org${2 + (i % 5)}`, VulnID: `V-${i}` }),
            ),
        ];
        const r = await (
          jobs[(i + w) % jobs.length] as () => Promise<{ status: number; text: string }>
        )();
        if (r.status >= 200 && r.status < 300) ok++;
        else failures.push(`${r.status} ${r.text}`);
      }
    };
    const load = Promise.all([0, 1, 2].map(worker));
    await new Promise((r) => setTimeout(r, 300));
    const rot = await runCliAsync(['keys', 'rotate', '--dir', t.dir]);
    // Keep going past the server's next keyring check.
    await new Promise((r) => setTimeout(r, 1500));
    running = false;
    await load;
    assert.equal(rot.status, 0, rot.stderr);
    assert.match(
      rot.stdout,
      /rotated: version 2 is primary \(was 1\); \d+ data key\(s\) rewrapped/,
    );
    assert.deepEqual(failures, []);
    assert.ok(ok > 20, `only ${ok} requests ran`);

    const st = await runCliAsync(['keys', 'status', '--dir', t.dir, '--json']);
    assert.equal(st.status, 0, st.stderr);
    const status = JSON.parse(st.stdout) as {
      primary: number;
      versions: { version: number; state: string; primary: boolean; orgs: string[] }[];
    };
    assert.equal(status.primary, 2);
    const [v1, v2] = status.versions;
    assert.equal(v1?.state, 'enabled');
    assert.deepEqual(v1?.orgs, [], 'no data key is left under version 1');
    assert.ok(v2?.orgs.includes('org1'));
    assert.ok((v2?.orgs.length ?? 0) >= 2, 'orgs created during the rotation are rewrapped');
    const text = await runCliAsync(['keys', 'status', '--dir', t.dir]);
    assert.match(
      text.stdout,
      /version 2 \(primary\): enabled, .*protects \d+ org data key\(s\): .*org1/,
    );

    const again = await get(reader, `/v1/orgs/org1/findings/${id}`);
    assert.equal(again.status, 200);
    assert.equal(again.json.evidence, 'secret-0');
  });

  it('fails closed while the version that wraps the org key is disabled', async () => {
    const list = await get(reader, '/v1/orgs/org1/findings?limit=1');
    const id = list.json.items[0].id as string;
    const off = await runCliAsync(['keys', 'disable', '--version', '2', '--dir', t.dir]);
    assert.equal(off.status, 0, off.stderr);

    let r = await get(reader, `/v1/orgs/org1/findings/${id}`);
    for (let i = 0; i < 50 && r.status === 200; i++) {
      await new Promise((res) => setTimeout(res, 100));
      r = await get(reader, `/v1/orgs/org1/findings/${id}`);
    }
    assert.equal(r.status, 503);
    assert.equal(r.json.code, 'key_unavailable');
    assert.doesNotMatch(r.text, /secret/);
    assert.equal((await get(reader, '/v1/orgs/org1/findings')).json.code, 'key_unavailable');
    const before = countFindings(t.dir, 'org1');
    const w = await uploadScan(scanner, 'org1', nativeOne('new', 'x'), 'application/json');
    assert.equal(w.status, 503);
    assert.equal(w.json.code, 'key_unavailable');
    const seed = await postJson(s.port, t.ca.certPem, t.scanner, demoRecord({ VulnID: 'OFF-1' }));
    assert.equal(seed.json.code, 'key_unavailable');
    assert.equal(countFindings(t.dir, 'org1'), before, 'nothing stored');

    const on = await runCliAsync(['keys', 'enable', '--version', '2', '--dir', t.dir]);
    assert.equal(on.status, 0, on.stderr);
    let back = await get(reader, `/v1/orgs/org1/findings/${id}`);
    for (let i = 0; i < 50 && back.status !== 200; i++) {
      await new Promise((res) => setTimeout(res, 100));
      back = await get(reader, `/v1/orgs/org1/findings/${id}`);
    }
    assert.equal(back.status, 200);
  });

  it('stops an upload that is running when its key is disabled; nothing of it is stored', async () => {
    const body = Buffer.from(
      JSON.stringify({
        findings: Array.from({ length: 200 }, (_, i) => ({
          asset: `long-upload-${i}`,
          scanner: 'load',
          pluginId: 'p-1',
          port: 1,
          protocol: 'tcp',
          title: 'load check',
          severity: 'low',
          evidence: `secret-long-${i}`,
        })),
      }),
    );
    const before = countFindings(t.dir, 'org1');
    let timer: NodeJS.Timeout | undefined;
    let disabled: () => void = () => undefined;
    const keyOff = new Promise<void>((r) => (disabled = r));
    // All but the last piece of the body trickles in; the key is disabled
    // after 1 s, while the import (which took the key at its start) is
    // still running; the last piece is held back until the key is off and
    // the server has had time to re-read the keyring (1 s), so the import
    // cannot finish first however slow the machine is.
    const upload = rawTls(s.port, { ca: t.ca.certPem, cert: t.scanner, maxMs: 30_000 }, (sock) => {
      sock.write(
        'POST /v1/orgs/org1/scans HTTP/1.1\r\nhost: localhost\r\n' +
          `content-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`,
      );
      const piece = Math.ceil(body.length / 20);
      const held = body.length - piece;
      let sent = 0;
      let allHeldSent: () => void = () => undefined;
      const heldSent = new Promise<void>((r) => (allHeldSent = r));
      timer = setInterval(() => {
        if (sent >= held || !sock.writable) {
          clearInterval(timer);
          return allHeldSent();
        }
        sock.write(body.subarray(sent, Math.min(sent + piece, held)));
        sent = Math.min(sent + piece, held);
      }, 200);
      // The last piece goes only after every earlier piece (on a slow
      // machine the key may be off before the trickle is done) and after
      // the key is off: bytes never go out of order.
      void Promise.all([keyOff, heldSent]).then(() => {
        if (sock.writable) sock.write(body.subarray(held));
      });
    });
    await new Promise((res) => setTimeout(res, 1000));
    const off = await runCliAsync(['keys', 'disable', '--version', '2', '--dir', t.dir]);
    assert.equal(off.status, 0, off.stderr);
    setTimeout(disabled, 1500);
    const r = await upload;
    clearInterval(timer);
    assert.match(r.data, /^HTTP\/1\.1 503 /, r.data.slice(0, 200));
    assert.match(r.data, /"code":"key_unavailable"/);
    assert.equal(countFindings(t.dir, 'org1'), before, 'nothing of the upload was stored');
    const on = await runCliAsync(['keys', 'enable', '--version', '2', '--dir', t.dir]);
    assert.equal(on.status, 0, on.stderr);
  });
});
