// Issue 3: every crafted bad upload gets a 4xx with a specific, stable code
// and a message that names where (line/column, row, byte) but never echoes the
// content, and leaves the stored findings exactly as they were.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { nativeBatch, sample, uploadScan, type Client } from '../helpers/scans.js';
import {
  countFindings,
  makeTestDir,
  startVault,
  type RunningVault,
  type TestDir,
} from '../helpers/vault.js';

const XML = 'application/vnd.tenable.nessus+xml';
const SECRET = 'S3CRET-FINDING-TEXT';
const LIMIT = 1024 * 1024;

const item = (n: number, extra = '') =>
  `<ReportItem port="443" svc_name="www" protocol="tcp" severity="2" pluginID="${n}" pluginName="check ${n}"><description>${SECRET} ${extra}</description></ReportItem>`;
const nessus = (body: string) =>
  `<?xml version="1.0" ?>\n<NessusClientData_v2><Report name="r"><ReportHost name="10.0.0.9">${body}</ReportHost></Report></NessusClientData_v2>\n`;

/** Status of every stored finding, to prove a refused upload changed none of them. */
function snapshot(dir: string): string {
  const db = new Database(join(dir, 'data', 'findings.db'), { readonly: true });
  try {
    return JSON.stringify(
      db.prepare('SELECT id, status, last_seen FROM findings ORDER BY seq').all(),
    );
  } finally {
    db.close();
  }
}

describe('refused scan uploads', () => {
  let t: TestDir;
  let srv: RunningVault;
  let scanner: Client;

  before(async () => {
    t = await makeTestDir();
    srv = await startVault({
      ...t.config,
      server: { ...t.config.server, uploadLimitBytes: LIMIT },
    });
    scanner = { port: srv.port, ca: t.ca.certPem, cert: t.scanner };
    // A baseline on the same host as the bad uploads: a bad upload must not
    // mark any of these fixed either.
    const ok = await uploadScan(scanner, 'org1', nessus(item(1) + item(2)), XML);
    assert.equal(ok.status, 201, ok.text);
  });
  after(async () => {
    await srv.close();
    t.cleanup();
  });

  async function refused(
    body: string | Buffer,
    type: string,
    status: number,
    code: string,
    message?: RegExp,
    query: { format?: string; target?: string } = {},
  ) {
    const count = countFindings(t.dir);
    const snap = snapshot(t.dir);
    const res = await uploadScan(scanner, 'org1', body, type, {}, query);
    assert.equal(res.status, status, res.text);
    assert.equal(res.json.code, code, res.text);
    assert.deepEqual(Object.keys(res.json).sort(), ['code', 'message', 'requestId']);
    assert.ok(!res.text.includes(SECRET), 'the message echoes none of the content');
    if (message) assert.match(res.json.message, message);
    assert.equal(countFindings(t.dir), count);
    assert.equal(snapshot(t.dir), snap);
    return res;
  }

  it('refuses a DOCTYPE with an external entity (XXE)', async () => {
    await refused(
      `<?xml version="1.0"?>\n<!DOCTYPE NessusClientData_v2 [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n` +
        `<NessusClientData_v2><Report name="r"><ReportHost name="h">${item(3, '&xxe;')}</ReportHost></Report></NessusClientData_v2>`,
      XML,
      400,
      'xml_doctype_forbidden',
      /line 2, column \d+/,
    );
  });

  it('refuses a billion-laughs entity bomb without expanding it', async () => {
    const lol = Array.from(
      { length: 9 },
      (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i};`.repeat(10)}">`,
    ).join('');
    await refused(
      `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol0 "lol">${lol}]><NessusClientData_v2>&lol9;</NessusClientData_v2>`,
      'application/xml',
      400,
      'xml_doctype_forbidden',
    );
  });

  it('refuses a truncated export, even though its first ReportItems were complete', async () => {
    const full = sample('nessus_with_cvssv3.nessus');
    await refused(
      full.subarray(0, Math.floor(full.length * 0.7)),
      XML,
      400,
      'xml_malformed',
      /line \d+, column \d+/,
    );
  });

  it('refuses XML whose root is not NessusClientData_v2', async () => {
    await refused(
      `<?xml version="1.0"?><NessusClientData><Report/></NessusClientData>`,
      XML,
      400,
      'xml_wrong_root',
      /at line 1, column \d+\) must be NessusClientData_v2/,
    );
  });

  it('refuses malformed XML with its line and column', async () => {
    await refused(
      nessus(item(4)).replace('</ReportHost>', '</ReportHos>'),
      XML,
      400,
      'xml_malformed',
      /line 2, column \d+/,
    );
  });

  it('refuses invalid UTF-8 with the line and column where it starts', async () => {
    const line4 =
      '<ReportItem port="1" protocol="tcp" severity="1" pluginID="9" pluginName="x"><description>ab';
    const head = Buffer.from(
      `<?xml version="1.0" ?>\n<NessusClientData_v2><Report name="r">\n<ReportHost name="h">\n${line4}`,
    );
    const bad = Buffer.from([0xc3, 0x28]);
    const tail = Buffer.from(
      `</description></ReportItem></ReportHost></Report></NessusClientData_v2>`,
    );
    await refused(
      Buffer.concat([head, bad, tail]),
      XML,
      400,
      'invalid_utf8',
      new RegExp(`line 4, column ${line4.length + 1};`),
    );
  });

  it('refuses a CSV without the required columns, naming them', async () => {
    await refused(
      `Name,Risk,Port\n${SECRET},High,443\n`,
      'text/csv',
      400,
      'csv_missing_columns',
      /"Plugin ID".*"Host"/,
      { format: 'nessus-csv' },
    );
    await refused(
      `Plugin ID,Name,Risk,Port\n1,${SECRET},High,443\n`,
      'text/csv',
      400,
      'csv_missing_columns',
      /"Host"/,
    );
  });

  it('refuses a body no format recognises with 415 unsupported_format, naming the formats', async () => {
    await refused(
      `Name,Risk,Port\n${SECRET},High,443\n`,
      'text/csv',
      415,
      'unsupported_format',
      /CSV header names no plugin column.*Trivy JSON \(trivy\)/,
    );
    await refused(
      JSON.stringify({ report: [{ text: SECRET }] }),
      'application/json',
      415,
      'unsupported_format',
      /not a known scan format/,
    );
    await refused(
      `<?xml version="1.0"?><html><body>${SECRET}</body></html>`,
      'application/xml',
      415,
      'unsupported_format',
      /root element <html>/,
    );
    await refused(
      JSON.stringify({ findings: [] }),
      'text/csv',
      415,
      'unsupported_format',
      /format trivy \(Trivy JSON\) cannot be sent as text\/csv/,
      { format: 'trivy' },
    );
  });

  it('refuses a CSV row without a host', async () => {
    await refused(
      `Plugin ID,Name,Host,Port\n1,${SECRET},10.0.0.1,443\n2,${SECRET},,443\n`,
      'text/csv',
      400,
      'scan_invalid',
      /CSV row 2: no host/,
    );
  });

  it('refuses a SARIF log that names no target when none is given, saying how to give one', async () => {
    await refused(
      JSON.stringify({
        version: '2.1.0',
        runs: [{ tool: { driver: { name: 'semgrep' } }, results: [] }],
      }),
      'application/sarif+json',
      400,
      'scan_target_missing',
      /\?target=NAME \(vulnvault upload --target NAME\)/,
    );
  });

  it('refuses a SARIF log of another version', async () => {
    await refused(
      JSON.stringify({
        version: '2.0.0',
        runs: [
          {
            tool: { driver: { name: 'x' } },
            results: [{ ruleId: 'r', message: { text: SECRET } }],
          },
        ],
      }),
      'application/sarif+json',
      400,
      'sarif_invalid',
    );
  });

  it('refuses a CycloneDX BOM without a subject when no target is given', async () => {
    await refused(
      JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.5', components: [] }),
      'application/vnd.cyclonedx+json',
      400,
      'scan_target_missing',
    );
  });

  it('refuses a JSON batch with a __proto__ key', async () => {
    await refused(
      `{"findings":[{"asset":"a","scanner":"s","pluginId":"1","title":"${SECRET}","severity":"low","__proto__":{"polluted":true}}]}`,
      'application/json',
      400,
      'invalid_json',
      /__proto__/,
    );
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('refuses a JSON batch finding with an unknown property, naming it', async () => {
    const body = JSON.parse(
      nativeBatch([
        { asset: 'a', pluginId: '1' },
        { asset: 'b', pluginId: '2' },
      ]),
    );
    body.findings[1].secret = SECRET;
    await refused(
      JSON.stringify(body),
      'application/json',
      400,
      'validation_failed',
      /findings\[1\] has unknown property 'secret'/,
    );
  });

  it('refuses invalid JSON with a byte offset', async () => {
    await refused(
      `{"findings":[{"asset": ${SECRET}}]}`,
      'application/json',
      400,
      'invalid_json',
      /at byte \d+/,
    );
  });

  it('refuses an upload over the configured limit with 413', async () => {
    const many = Array.from({ length: 10_000 }, (_, i) => item(1000 + i)).join('');
    assert.ok(many.length > LIMIT);
    await refused(nessus(many), XML, 413, 'payload_too_large', new RegExp(String(LIMIT)));
  });

  it('refuses other media types with 415 and a client without findings:write with 403', async () => {
    await refused(nessus(item(5)), 'text/plain', 415, 'unsupported_media_type');
    const count = countFindings(t.dir);
    const customer = { port: srv.port, ca: t.ca.certPem, cert: t.customer };
    const res = await uploadScan(customer, 'org1', nessus(item(6)), XML);
    assert.equal(res.status, 403);
    assert.equal(res.json.code, 'forbidden');
    assert.equal(countFindings(t.dir), count);
  });

  it('still accepts a good upload afterwards (nothing was left locked)', async () => {
    const res = await uploadScan(scanner, 'org1', nessus(item(1) + item(2)), XML);
    assert.equal(res.status, 201, res.text);
    assert.equal(res.json.unchanged, 2);
  });
});
