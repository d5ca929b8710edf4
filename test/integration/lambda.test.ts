// The Lambda entries (src/lambda) driven with realistic API Gateway REST
// events against the real DynamoDB Local, with certificates and CRLs made by
// the project's PKI code. Mocked, because it cannot run here: S3 (FakeS3
// serves the truststore and CRL objects from memory). Covers the reference
// demo's six checks, the authorizer's fail-closed cases, the functions' own
// 415 and validation, and IAM (SigV4) callers on the IAM-authorized API.

import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { DynamoTables } from '../../src/adapters/dynamodb/client.js';
import { createDocumentClient } from '../../src/adapters/dynamodb/client.js';
import { createDynamoPolicyWriter } from '../../src/adapters/dynamodb/policy-store.js';
import { createStdoutAudit } from '../../src/lambda/audit-stdout.js';
import { createAuthorizer } from '../../src/lambda/authorizer.js';
import type { ProxyResult } from '../../src/lambda/events.js';
import { createIngestHandler } from '../../src/lambda/ingest.js';
import { createQueryHandler } from '../../src/lambda/query.js';
import { createTrustSource } from '../../src/lambda/trust-material.js';
import { iamPolicyName } from '../../src/lambda/principal.js';
import { createCrl } from '../../src/pki/crl.js';
import { createCa, type PemPair } from '../../src/pki/issue.js';
import { startDynamoLocal, type DynamoLocal } from '../helpers/dynamodb-local.js';
import { testCursorKeys } from '../helpers/fake-ports.js';
import { authorizerEvent, FakeS3, proxyEvent, viaGateway, type Req } from '../helpers/lambda.js';
import { nativeBatch } from '../helpers/scans.js';
import { clientCert, demoRecord } from '../helpers/vault.js';

const BUCKET = 'trust-bucket';
const day = 86_400_000;

describe('lambda entries behind API Gateway', () => {
  let ddb: DynamoLocal;
  let t: DynamoTables;
  let ca: PemPair;
  let scanner: PemPair;
  let customer: PemPair;
  const s3 = new FakeS3();
  const lines: string[] = [];
  const audit = createStdoutAudit((l) => lines.push(l));
  const log = (l: string) => lines.push(l);
  let authorizer: ReturnType<typeof createAuthorizer>;
  let query: ReturnType<typeof createQueryHandler>;
  let ingest: ReturnType<typeof createIngestHandler>;

  const putCrl = async (revokedSerials: string[], nextUpdate = new Date(Date.now() + day)) => {
    const pem = await createCrl(
      ca,
      revokedSerials.map((serial) => ({ serial, revokedAt: new Date() })),
      nextUpdate,
    );
    s3.objects.set(`${BUCKET}/crl.pem`, Buffer.from(pem));
  };
  const serialOf = (p: PemPair) => new X509Certificate(p.certPem).serialNumber;
  const authzLines = () => lines.map((l) => JSON.parse(l)).filter((e) => e.log === 'authz');
  const body = (r: ProxyResult) => JSON.parse(r.body);

  before(async () => {
    ddb = await startDynamoLocal();
    t = await ddb.newTables();
    ca = await createCa(
      { cn: 'vulnvault test CA', o: 'vulnvault-demo' },
      new Date(Date.now() + 30 * day),
    );
    scanner = await clientCert(ca, { cn: 'nessus-1', o: 'vulnvault-demo', ou: ['scanner'] });
    customer = await clientCert(ca, { cn: 'customer-1', o: 'vulnvault-demo', ou: ['customer'] });
    s3.objects.set(`${BUCKET}/truststore.pem`, Buffer.from(ca.certPem));
    await putCrl([]);
    const policies = createDynamoPolicyWriter(ddb.doc, t.policies);
    for (let i = 1; i <= 6; i++) {
      await policies.grant({
        principal: { type: 'ou', name: 'scanner' },
        action: 'findings:write',
        org: `org${i}`,
      });
    }
    await policies.grant({
      principal: { type: 'ou', name: 'customer' },
      action: 'findings:read',
      org: 'org1',
    });
    await policies.grant({
      principal: { type: 'iam', name: 'arn:aws:iam::123456789012:role/vulnvault-reader' },
      action: 'findings:read',
      org: 'org1',
    });
    await policies.grant({
      principal: { type: 'iam', name: 'arn:aws:iam::123456789012:role/nessus-uploader' },
      action: 'findings:write',
      org: 'org2',
    });
    authorizer = createAuthorizer({
      // ttl 0: every decision reads S3 again, so the tests can change the CRL.
      trust: createTrustSource(
        s3.asClient(),
        { bucket: BUCKET, truststoreKey: 'truststore.pem', crlKey: 'crl.pem' },
        0,
      ),
      doc: ddb.doc,
      policyTable: t.policies,
      audit,
    });
    query = createQueryHandler({
      doc: ddb.doc,
      findingsTable: t.findings,
      policyTable: t.policies,
      audit,
      cursors: testCursorKeys(),
      log,
    });
    ingest = createIngestHandler({
      doc: ddb.doc,
      findingsTable: t.findings,
      policyTable: t.policies,
      idempotencyTable: t.idempotency,
      audit,
      log,
    });
  });
  after(async () => {
    await ddb.stop();
  });

  const postVuln = (record: unknown): Req => ({
    method: 'POST',
    resource: '/vuln',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(record),
  });
  const getVuln = (org: string): Req => ({ method: 'GET', resource: '/vuln', query: { org } });

  describe('the reference demo checks', () => {
    it('(a) denies a client certificate from another CA', async () => {
      const other = await createCa(
        { cn: 'evil CA', o: 'vulnvault-demo' },
        new Date(Date.now() + day),
      );
      const impostor = await clientCert(other, {
        cn: 'nessus-1',
        o: 'vulnvault-demo',
        ou: ['scanner'],
      });
      const r = await viaGateway(
        authorizer,
        ingest,
        postVuln(demoRecord({ VulnID: 'A-1' })),
        impostor.certPem,
      );
      assert.equal(r.status, 403);
      assert.equal(r.authorizer.policyDocument.Statement[0]?.Effect, 'Deny');
      assert.ok(
        authzLines().some((e) => /not issued directly by the configured CA/.test(e.reason)),
      );
    });

    it('(b) denies a certificate signed by a client (leaf) certificate', async () => {
      const child = await clientCert(scanner, {
        cn: 'child',
        o: 'vulnvault-demo',
        ou: ['scanner'],
      });
      const r = await viaGateway(
        authorizer,
        ingest,
        postVuln(demoRecord({ VulnID: 'B-1' })),
        child.certPem,
      );
      assert.equal(r.status, 403);
      assert.equal(r.authorizer.policyDocument.Statement[0]?.Effect, 'Deny');
    });

    it("(c) stores the scanner's POST of the demo record", async () => {
      const r = await viaGateway(authorizer, ingest, postVuln(demoRecord()), scanner.certPem);
      assert.equal(r.status, 201, JSON.stringify(r.json));
      assert.deepEqual(r.json, { stored: 1 });
      assert.equal(r.headers['x-request-id']?.length, 36);
    });

    it("(d) refuses the customer's POST with 403 forbidden", async () => {
      const r = await viaGateway(
        authorizer,
        ingest,
        postVuln(demoRecord({ VulnID: 'D-1' })),
        customer.certPem,
      );
      assert.equal(r.status, 403);
      assert.equal(r.json.code, 'forbidden');
      assert.equal(r.json.requestId, r.headers['x-request-id']);
    });

    it("(e) returns the record on the customer's GET for org1", async () => {
      const r = await viaGateway(authorizer, query, getVuln('org1'), customer.certPem);
      assert.equal(r.status, 200);
      assert.deepEqual(r.json, { org: 'org1', items: [demoRecord()], next: null });
    });

    it("(f) denies the customer's GET for org5 at the authorizer, and again in the function", async () => {
      const r = await viaGateway(authorizer, query, getVuln('org5'), customer.certPem);
      assert.equal(r.status, 403);
      assert.equal(r.authorizer.policyDocument.Statement[0]?.Effect, 'Deny');
      // Defense in depth: even with a (cached) Allow for /vuln, the function re-checks the org.
      const allowOrg1 = await authorizer(authorizerEvent(getVuln('org1'), customer.certPem));
      const res = await query(proxyEvent(getVuln('org5'), { authorizer: allowOrg1.context ?? {} }));
      assert.equal(res.statusCode, 403);
      assert.equal(body(res).code, 'forbidden');
      assert.equal(body(res).items, undefined);
    });
  });

  describe('the authorizer', () => {
    const listOrg1: Req = {
      method: 'GET',
      resource: '/v1/orgs/{org}/findings',
      pathParameters: { org: 'org1' },
    };

    it('allows exactly the methodArn requested and hands the principal over', async () => {
      const e = authorizerEvent(listOrg1, customer.certPem);
      const r = await authorizer(e);
      assert.deepEqual(r.policyDocument.Statement, [
        { Action: 'execute-api:Invoke', Effect: 'Allow', Resource: e.methodArn },
      ]);
      assert.equal(
        e.methodArn,
        'arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/prod/GET/v1/orgs/org1/findings',
      );
      assert.equal(r.principalId, 'ou:customer');
      assert.equal(r.context?.principalName, 'customer');
      assert.equal(r.context?.principalId, 'customer-1');
      assert.match(r.context?.certFingerprint256 ?? '', /^[0-9a-f]{64}$/);
    });

    it('reads the OU from the certificate, never from subjectDN', async () => {
      const e = authorizerEvent(
        { method: 'POST', resource: '/v1/orgs/{org}/scans', pathParameters: { org: 'org1' } },
        customer.certPem,
        { subjectDN: 'CN=customer-1,OU=scanner,O=vulnvault-demo' },
      );
      assert.equal((await authorizer(e)).policyDocument.Statement[0]?.Effect, 'Deny');
    });

    it('denies a methodArn that does not name the request (another org)', async () => {
      const e = authorizerEvent(listOrg1, customer.certPem);
      e.pathParameters = { org: 'org5' };
      assert.equal((await authorizer(e)).policyDocument.Statement[0]?.Effect, 'Deny');
    });

    it('denies a revoked certificate, and every certificate of a CA whose CRL expired', async () => {
      const revoked = await clientCert(ca, {
        cn: 'lost laptop',
        o: 'vulnvault-demo',
        ou: ['customer'],
      });
      await putCrl([serialOf(revoked)]);
      try {
        assert.equal(
          (await authorizer(authorizerEvent(listOrg1, revoked.certPem))).policyDocument.Statement[0]
            ?.Effect,
          'Deny',
        );
        assert.ok(authzLines().some((e) => e.reason === 'certificate revoked'));
        assert.equal(
          (await authorizer(authorizerEvent(listOrg1, customer.certPem))).policyDocument
            .Statement[0]?.Effect,
          'Allow',
        );
        await putCrl([], new Date(Date.now() + 1000));
        await new Promise((r) => setTimeout(r, 1200));
        assert.equal(
          (await authorizer(authorizerEvent(listOrg1, customer.certPem))).policyDocument
            .Statement[0]?.Effect,
          'Deny',
        );
        assert.ok(authzLines().some((e) => e.reason === 'no valid CRL for the issuing CA'));
      } finally {
        await putCrl([]);
      }
    });

    it('denies when S3 is down, the policy table is unreachable, or the PEM is bad', async () => {
      s3.down = true;
      try {
        assert.equal(
          (await authorizer(authorizerEvent(listOrg1, customer.certPem))).policyDocument
            .Statement[0]?.Effect,
          'Deny',
        );
      } finally {
        s3.down = false;
      }
      const broken = createAuthorizer({
        trust: createTrustSource(
          s3.asClient(),
          { bucket: BUCKET, truststoreKey: 'truststore.pem', crlKey: 'crl.pem' },
          0,
        ),
        doc: createDocumentClient({
          ...ddb.config,
          endpoint: 'http://127.0.0.1:9',
          maxAttempts: 1,
        }),
        policyTable: t.policies,
        audit,
      });
      assert.equal(
        (await broken(authorizerEvent(listOrg1, customer.certPem))).policyDocument.Statement[0]
          ?.Effect,
        'Deny',
      );
      assert.ok(
        authzLines().some((e) => e.decision === 'error' && e.reason === 'policy store unavailable'),
      );
      for (const pem of [
        '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n',
        undefined,
      ]) {
        assert.equal(
          (await authorizer(authorizerEvent(listOrg1, pem))).policyDocument.Statement[0]?.Effect,
          'Deny',
        );
      }
      const expired = await clientCert(
        ca,
        { cn: 'old', o: 'vulnvault-demo', ou: ['customer'] },
        {
          notBefore: new Date(Date.now() - 2 * day),
          notAfter: new Date(Date.now() - day),
        },
      );
      assert.equal(
        (await authorizer(authorizerEvent(listOrg1, expired.certPem))).policyDocument.Statement[0]
          ?.Effect,
        'Deny',
      );
      const reasons = authzLines().map((e) => e.reason);
      for (const r of [
        'truststore or CRL unavailable',
        'certificate unparseable',
        'no certificate',
        'certificate expired',
      ]) {
        assert.ok(reasons.includes(r), `missing ${r}`);
      }
    });
  });

  describe('the functions', () => {
    const scannerCtx = async (r: Req) =>
      (await authorizer(authorizerEvent(r, scanner.certPem))).context ?? {};

    it('imports a scan and serves findings, one finding and the summary', async () => {
      const scan: Req = {
        method: 'POST',
        resource: '/v1/orgs/{org}/scans',
        pathParameters: { org: 'org1' },
        headers: { 'content-type': 'application/json', 'Idempotency-Key': 'nightly-1' },
        body: nativeBatch([
          {
            asset: 'web-01',
            pluginId: '10863',
            title: 'SSL Certificate Information',
            severity: 'high',
            cves: ['CVE-2024-0001'],
          },
          { asset: 'web-01', pluginId: '57582', title: 'SSL Self-Signed Certificate' },
        ]),
      };
      const res = await viaGateway(authorizer, ingest, scan, scanner.certPem);
      assert.equal(res.status, 201, JSON.stringify(res.json));
      assert.equal(res.json.new, 2);
      // The same key and body again: the first answer is replayed.
      const again = await ingest(proxyEvent(scan, { authorizer: await scannerCtx(scan) }));
      assert.equal(again.statusCode, 201);
      assert.equal(again.headers['idempotent-replayed'], 'true');
      assert.deepEqual(body(again), res.json);

      const list = await viaGateway(
        authorizer,
        query,
        {
          method: 'GET',
          resource: '/v1/orgs/{org}/findings',
          pathParameters: { org: 'org1' },
          query: { severity: 'high,critical' },
        },
        customer.certPem,
      );
      assert.equal(list.status, 200);
      assert.deepEqual(
        list.json.items.map((f: any) => f.title),
        ['SSL Certificate Information'],
      );
      assert.equal(list.json.items[0].evidence, undefined);
      const id = list.json.items[0].id as string;
      const one = await viaGateway(
        authorizer,
        query,
        {
          method: 'GET',
          resource: '/v1/orgs/{org}/findings/{id}',
          pathParameters: { org: 'org1', id },
        },
        customer.certPem,
      );
      assert.equal(one.status, 200);
      assert.deepEqual(one.json.cves, ['CVE-2024-0001']);
      const summary = await viaGateway(
        authorizer,
        query,
        { method: 'GET', resource: '/v1/orgs/{org}/summary', pathParameters: { org: 'org1' } },
        customer.certPem,
      );
      assert.equal(summary.status, 200);
      assert.deepEqual(summary.json.topCves, [{ cve: 'CVE-2024-0001', open: 1 }]);
      const access = lines.map((l) => JSON.parse(l)).filter((e) => e.log === 'data-access');
      assert.ok(
        access.some(
          (e) =>
            e.action === 'findings:write' &&
            e.count === 2 &&
            e.principal.name === 'scanner' &&
            e.scanId !== null,
        ),
      );
    });

    it('answers 415 for an unsupported media type, with the edge error body', async () => {
      const r = postVuln(demoRecord({ VulnID: 'M-1' }));
      r.headers = { 'content-type': 'text/plain' };
      const res = await ingest(proxyEvent(r, { authorizer: await scannerCtx(r) }));
      assert.equal(res.statusCode, 415);
      assert.deepEqual(Object.keys(body(res)).sort(), ['code', 'message', 'requestId']);
      assert.equal(body(res).code, 'unsupported_media_type');
      const scan: Req = {
        method: 'POST',
        resource: '/v1/orgs/{org}/scans',
        pathParameters: { org: 'org1' },
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'a=b',
      };
      const res2 = await ingest(proxyEvent(scan, { authorizer: await scannerCtx(scan) }));
      assert.equal(res2.statusCode, 415);
    });

    it('validates bodies, path and query against the contract and stores nothing bad', async () => {
      const ctx = await scannerCtx(postVuln({}));
      const cases: [Req, number, string][] = [
        [postVuln({ ...demoRecord({ VulnID: 'V-1' }), Extra: 1 }), 400, 'validation_failed'],
        [postVuln(demoRecord({ VulnID: 'V-2', DueDate: '02-30-2026' })), 400, 'invalid_date'],
        [{ ...postVuln({}), body: '{"VulnID": ' }, 400, 'invalid_json'],
        [{ ...postVuln({}), body: '{"__proto__": {"x": 1}}' }, 400, 'invalid_json'],
      ];
      for (const [req, status, code] of cases) {
        const res = await ingest(proxyEvent(req, { authorizer: ctx }));
        assert.equal(res.statusCode, status, res.body);
        assert.equal(body(res).code, code);
      }
      const qctx =
        (await authorizer(authorizerEvent(getVuln('org1'), customer.certPem))).context ?? {};
      const queries: Record<string, string | string[]>[] = [
        { org: 'org1', limit: '0' },
        { org: 'org1', bogus: '1' },
        { org: ['org1', 'org1'] },
      ];
      for (const q of queries) {
        const res = await query(
          proxyEvent({ method: 'GET', resource: '/vuln', query: q }, { authorizer: qctx }),
        );
        assert.equal(res.statusCode, 400, res.body);
        assert.equal(body(res).code, 'validation_failed');
      }
      const unknown = await query(
        proxyEvent({ method: 'GET', resource: '/nope' }, { authorizer: qctx }),
      );
      assert.equal(unknown.statusCode, 404);
      const list = await viaGateway(authorizer, query, getVuln('org1'), customer.certPem);
      const stored = list.json.items.map((i: any) => i.VulnID as string);
      assert.ok(stored.includes('VULN-0001'));
      for (const refused of ['V-1', 'V-2', 'M-1']) assert.ok(!stored.includes(refused), refused);
    });

    it('refuses a request without a principal (401)', async () => {
      const res = await query(proxyEvent(getVuln('org1'), {}));
      assert.equal(res.statusCode, 401);
      assert.equal(body(res).code, 'unauthenticated');
    });
  });

  describe('IAM callers (AWS_IAM API, no authorizer)', () => {
    const iam = (userArn: string) => ({ iam: { userArn, accountId: '123456789012' } });

    it('maps an assumed-role session to its role ARN', () => {
      assert.equal(
        iamPolicyName('arn:aws:sts::123456789012:assumed-role/vulnvault-reader/i-0abc123'),
        'arn:aws:iam::123456789012:role/vulnvault-reader',
      );
      assert.equal(
        iamPolicyName('arn:aws:iam::123456789012:user/alice'),
        'arn:aws:iam::123456789012:user/alice',
      );
      assert.equal(iamPolicyName('arn:aws:sts::123456789012:federated-user/bob'), undefined);
      assert.equal(iamPolicyName('arn:aws:sts::123456789012:assumed-role/a/b/c'), undefined);
    });

    it('lets a granted role read through its assumed-role session', async () => {
      const res = await query(
        proxyEvent(
          getVuln('org1'),
          iam('arn:aws:sts::123456789012:assumed-role/vulnvault-reader/lambda-session'),
        ),
      );
      assert.equal(res.statusCode, 200, res.body);
      assert.ok(body(res).items.some((i: any) => i.VulnID === 'VULN-0001'));
      const line = authzLines().findLast((e) => e.principal.type === 'iam');
      assert.equal(line.principal.name, 'arn:aws:iam::123456789012:role/vulnvault-reader');
      assert.equal(
        line.principal.subject,
        'arn:aws:sts::123456789012:assumed-role/vulnvault-reader/lambda-session',
      );
      assert.equal(line.decision, 'allow');
    });

    it('lets a granted role write only where granted', async () => {
      const uploader = iam('arn:aws:sts::123456789012:assumed-role/nessus-uploader/ec2');
      const ok = await ingest(
        proxyEvent(postVuln(demoRecord({ VulnID: 'IAM-1', Org: 'org2' })), uploader),
      );
      assert.equal(ok.statusCode, 201, ok.body);
      const no = await ingest(
        proxyEvent(postVuln(demoRecord({ VulnID: 'IAM-2', Org: 'org1' })), uploader),
      );
      assert.equal(no.statusCode, 403);
      assert.equal(body(no).code, 'forbidden');
    });

    it('denies an ungranted role, an unknown ARN form, and a request with two identities', async () => {
      const denied = await query(
        proxyEvent(getVuln('org1'), iam('arn:aws:iam::123456789012:role/someone-else')),
      );
      assert.equal(denied.statusCode, 403);
      assert.equal(body(denied).code, 'forbidden');
      const odd = await query(
        proxyEvent(getVuln('org1'), iam('arn:aws:sts::123456789012:federated-user/bob')),
      );
      assert.equal(odd.statusCode, 401);
      const e = proxyEvent(getVuln('org1'), iam('arn:aws:iam::123456789012:role/vulnvault-reader'));
      e.requestContext.authorizer = { principalType: 'ou', principalName: 'customer' };
      const both = await query(e);
      assert.equal(both.statusCode, 401);
    });
  });
});
