// The reference demo's post-deployment checks (a)–(f), over real TLS with
// certificates made by the project's PKI code, plus the identity attacks the
// demo was open to: an OU smuggled into the CN, several OUs, a leaf acting as
// a CA, expired / not-yet-valid / missing certificates.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createCa } from '../../src/pki/issue.js';
import {
  call,
  clientCert,
  demoRecord,
  makeTestDir,
  postJson,
  readAuthzLog,
  startVault,
  type RunningVault,
  type TestDir,
} from '../helpers/vault.js';

describe('the reference demo checks over mTLS', () => {
  let t: TestDir;
  let srv: RunningVault;

  before(async () => {
    t = await makeTestDir();
    srv = await startVault(t.config);
  });
  after(async () => {
    await srv.close();
    t.cleanup();
  });

  it('(a) refuses a client certificate from another CA', async () => {
    const otherCa = await createCa(
      { cn: 'evil CA', o: 'vulnvault-demo' },
      new Date(Date.now() + 86_400_000),
    );
    const impostor = await clientCert(otherCa, {
      cn: 'nessus-1',
      o: 'vulnvault-demo',
      ou: ['scanner'],
    });
    await assert.rejects(postJson(srv.port, t.ca.certPem, impostor, demoRecord({ VulnID: 'A-1' })));
    const denied = readAuthzLog(t.dir).filter(
      (e) => e.action === 'connect' && e.decision === 'deny',
    );
    assert.ok(
      denied.some((e) => e.reason === 'unknown CA'),
      JSON.stringify(denied),
    );
  });

  it('(b) refuses a certificate signed by a client (leaf) certificate', async () => {
    const child = await clientCert(t.scanner, {
      cn: 'child',
      o: 'vulnvault-demo',
      ou: ['scanner'],
    });
    await assert.rejects(
      call(srv.port, {
        method: 'POST',
        path: '/vuln',
        ca: t.ca.certPem,
        cert: child,
        chain: t.scanner.certPem, // a well-formed chain (PEMs end with a newline): present the full chain: leaf → scanner → CA
        body: JSON.stringify(demoRecord({ VulnID: 'B-1' })),
        headers: { 'content-type': 'application/json' },
      }),
    );
    const denied = readAuthzLog(t.dir).filter(
      (e) => e.action === 'connect' && e.decision === 'deny',
    );
    assert.ok(
      denied.some((e) =>
        ['chain contains a non-CA issuer', 'invalid certificate chain'].includes(
          e.reason as string,
        ),
      ),
      JSON.stringify(denied.map((e) => e.reason)),
    );
  });

  it("(c) stores the scanner's POST of the demo record", async () => {
    const res = await postJson(srv.port, t.ca.certPem, t.scanner, demoRecord());
    assert.equal(res.status, 201, res.text);
    assert.deepEqual(res.json, { stored: 1 });
  });

  it("(d) refuses the customer's POST with 403", async () => {
    const res = await postJson(srv.port, t.ca.certPem, t.customer, demoRecord({ VulnID: 'D-1' }));
    assert.equal(res.status, 403);
    assert.equal(res.json.code, 'forbidden');
    assert.equal(res.json.requestId, res.headers['x-request-id']);
  });

  it("(e) returns the record on the customer's GET for org1", async () => {
    const res = await call(srv.port, {
      path: '/vuln?org=org1',
      ca: t.ca.certPem,
      cert: t.customer,
    });
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { org: 'org1', items: [demoRecord()], next: null });
  });

  it("(f) refuses the customer's GET for org5 with 403", async () => {
    const res = await call(srv.port, {
      path: '/vuln?org=org5',
      ca: t.ca.certPem,
      cert: t.customer,
    });
    assert.equal(res.status, 403);
    assert.equal(res.json.code, 'forbidden');
    assert.equal(res.json.items, undefined);
  });

  it('gives no write access to an OU smuggled into the CN', async () => {
    const smuggler = await clientCert(t.ca, { cn: 'x, OU=scanner', o: 'vulnvault-demo' });
    const res = await postJson(srv.port, t.ca.certPem, smuggler, demoRecord({ VulnID: 'S-1' }));
    assert.equal(res.status, 403);
    assert.equal(res.json.code, 'certificate_identity_invalid');
    const smuggler2 = await clientCert(t.ca, {
      cn: 'x, OU=scanner',
      o: 'vulnvault-demo',
      ou: ['customer'],
    });
    const res2 = await postJson(srv.port, t.ca.certPem, smuggler2, demoRecord({ VulnID: 'S-2' }));
    assert.equal(res2.status, 403);
    assert.equal(res2.json.code, 'forbidden');
  });

  it('gives no write access to a certificate with two OUs', async () => {
    const two = await clientCert(t.ca, {
      cn: 'two',
      o: 'vulnvault-demo',
      ou: ['customer', 'scanner'],
    });
    const res = await postJson(srv.port, t.ca.certPem, two, demoRecord({ VulnID: 'T-1' }));
    assert.equal(res.status, 403);
    assert.equal(res.json.code, 'certificate_identity_invalid');
    const log = readAuthzLog(t.dir).filter((e) => e.action === 'authenticate');
    assert.ok(log.some((e) => /exactly one OU/.test(e.reason as string)));
  });

  it('refuses expired, not-yet-valid and missing certificates', async () => {
    const day = 86_400_000;
    const expired = await clientCert(
      t.ca,
      { cn: 'old', o: 'vulnvault-demo', ou: ['scanner'] },
      { notBefore: new Date(Date.now() - 2 * day), notAfter: new Date(Date.now() - day) },
    );
    const future = await clientCert(
      t.ca,
      { cn: 'new', o: 'vulnvault-demo', ou: ['scanner'] },
      { notBefore: new Date(Date.now() + day), notAfter: new Date(Date.now() + 2 * day) },
    );
    for (const cert of [expired, future, undefined]) {
      await assert.rejects(
        postJson(srv.port, t.ca.certPem, cert as never, demoRecord({ VulnID: 'E-1' })),
      );
    }
    const reasons = readAuthzLog(t.dir)
      .filter((e) => e.action === 'connect')
      .map((e) => e.reason);
    for (const r of ['certificate expired', 'certificate not yet valid', 'no certificate']) {
      assert.ok(reasons.includes(r), `missing ${r} in ${JSON.stringify(reasons)}`);
    }
  });

  it('stored nothing from any refused request', async () => {
    const scannerRead = await clientCert(t.ca, {
      cn: 'auditor',
      o: 'vulnvault-demo',
      ou: ['customer'],
    });
    const res = await call(srv.port, {
      path: '/vuln?org=org1',
      ca: t.ca.certPem,
      cert: scannerRead,
    });
    assert.equal(res.status, 200);
    assert.deepEqual(
      res.json.items.map((i: { VulnID: string }) => i.VulnID),
      ['VULN-0001'],
    );
  });

  it('logs every decision with the principal taken from the certificate', () => {
    const allow = readAuthzLog(t.dir).find(
      (e) => e.decision === 'allow' && e.action === 'findings:write',
    );
    assert.ok(allow);
    assert.equal(allow.principal.ou, 'scanner');
    assert.equal(allow.principal.id, 'nessus-1');
    assert.match(allow.principal.fingerprint256, /^[0-9a-f]{64}$/);
    assert.match(allow.principal.serial, /^[0-9A-F]+$/);
    assert.equal(allow.sourceIp, '127.0.0.1');
    assert.equal(allow.org, 'org1');
    assert.match(allow.requestId, /^[0-9a-f-]{36}$/);
  });
});
