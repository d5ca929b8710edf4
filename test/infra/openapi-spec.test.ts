// The contract → API Gateway body transformation (no synthesis needed).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CONTRACT_PATH } from '../../infra/lib/app.js';
import {
  GATEWAY_RESPONSES,
  apiGatewaySpec,
  loadContract,
  type SpecTargets,
} from '../../infra/lib/openapi-spec.js';
import { ERROR_STATUS } from '../../src/core/errors.js';

const contract = loadContract(CONTRACT_PATH);
const mtls: SpecTargets = {
  variant: 'mtls',
  queryInvokeUri: 'uri:query',
  ingestInvokeUri: 'uri:ingest',
  triageInvokeUri: 'uri:triage',
  authorizerInvokeUri: 'uri:authorizer',
};
const ops = (spec: any) =>
  Object.entries(spec.paths as Record<string, Record<string, any>>).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => ({ path, method, op })),
  );

describe('API Gateway body from openapi/vulnvault.yaml', () => {
  it('maps reads to the query function, writes to ingest and triage to triage, by x-vulnvault-action', () => {
    const want: Record<string, string> = {
      'findings:read': 'uri:query',
      'findings:write': 'uri:ingest',
      'findings:triage': 'uri:triage',
    };
    const seen = new Set<string>();
    for (const { method, path, op } of ops(apiGatewaySpec(contract, mtls))) {
      const action = (contract as any).paths[path][method]['x-vulnvault-action'];
      seen.add(action);
      assert.equal(op['x-amazon-apigateway-integration'].uri, want[action], `${method} ${path}`);
    }
    assert.deepEqual([...seen].sort(), Object.keys(want).sort());
  });

  it('sends the triage routes, and only they, to the triage function', () => {
    const spec = apiGatewaySpec(contract, mtls) as any;
    const triage = ops(spec)
      .filter(({ op }) => op['x-amazon-apigateway-integration'].uri === 'uri:triage')
      .map(({ method, path }) => `${method} ${path}`)
      .sort();
    assert.deepEqual(triage, [
      'post /v1/orgs/{org}/findings/analysis',
      'put /v1/orgs/{org}/findings/{id}/analysis',
    ]);
    // The history and VEX export are reads.
    assert.equal(
      spec.paths['/v1/orgs/{org}/findings/{id}/history'].get['x-amazon-apigateway-integration'].uri,
      'uri:query',
    );
    assert.equal(
      spec.paths['/v1/orgs/{org}/vex'].get['x-amazon-apigateway-integration'].uri,
      'uri:query',
    );
  });

  it('leaves out the local-only public probe (GET /healthz, security: [])', () => {
    const spec = apiGatewaySpec(contract, mtls) as any;
    assert.equal(spec.paths['/healthz'], undefined);
    assert.ok(spec.paths['/vuln']);
  });

  it('refuses an operation with an unknown action instead of exposing it unauthorized', () => {
    const bad = structuredClone(contract) as any;
    bad.paths['/vuln'].get['x-vulnvault-action'] = 'findings:delete';
    assert.throws(() => apiGatewaySpec(bad, mtls), /get \/vuln has no known x-vulnvault-action/);
    bad.paths['/vuln'].get['x-vulnvault-action'] = 'toString';
    assert.throws(() => apiGatewaySpec(bad, mtls), /get \/vuln has no known x-vulnvault-action/);
  });

  it('refuses the mtls variant without an authorizer', () => {
    assert.throws(
      () => apiGatewaySpec(contract, { ...mtls, authorizerInvokeUri: undefined }),
      /needs an authorizer/,
    );
  });

  it('inlines $ref parameters and keeps their required flags (validated by API Gateway)', () => {
    const spec = apiGatewaySpec(contract, mtls) as any;
    const scans = spec.paths['/v1/orgs/{org}/scans'].post;
    const org = scans.parameters.find((p: any) => p.name === 'org');
    assert.equal(org.in, 'path');
    assert.equal(org.required, true);
    assert.ok(!JSON.stringify(scans.parameters).includes('#/components/parameters'));
  });

  it('keeps a model only for JSON bodies; streamed scan uploads (any format) reach ingest unparsed', () => {
    const spec = apiGatewaySpec(contract, mtls) as any;
    const content = spec.paths['/v1/orgs/{org}/scans'].post.requestBody.content;
    // application/json may be Trivy, Grype, SARIF… or a native batch: no model
    // (one would refuse every format but the batch); ingest checks it.
    for (const media of [
      'application/json',
      'text/csv',
      'application/xml',
      'application/vnd.tenable.nessus+xml',
      'application/vnd.cyclonedx+xml',
      'application/x-ndjson',
    ]) {
      assert.deepEqual(content[media], {}, media);
    }
    const vuln = spec.paths['/vuln'].post.requestBody.content['application/json'];
    assert.ok(vuln.schema, 'POST /vuln keeps its model');
  });

  it('turns OpenAPI nullable into JSON Schema draft 4 type lists, without touching property names', () => {
    const spec = apiGatewaySpec(contract, mtls) as any;
    const finding = spec.components.schemas.Finding;
    assert.deepEqual(finding.properties.cvss3Score.type, ['number', 'null']);
    assert.ok(!JSON.stringify(spec.components.schemas).includes('"nullable"'));
    assert.deepEqual(
      Object.keys(finding.properties),
      Object.keys((contract as any).components.schemas.Finding.properties),
    );
  });

  it("answers API Gateway's own refusals with the contract's error body and catalog codes", () => {
    for (const [type, r] of Object.entries(GATEWAY_RESPONSES) as [string, any][]) {
      const body = JSON.parse(r.responseTemplates['application/json']);
      assert.ok(body.code in ERROR_STATUS, `${type}: ${body.code} is in the error catalog`);
      assert.equal(ERROR_STATUS[body.code as keyof typeof ERROR_STATUS], r.statusCode, type);
      assert.equal(body.requestId, '$context.requestId');
    }
    assert.equal(
      (GATEWAY_RESPONSES.AUTHORIZER_FAILURE as any).statusCode,
      503,
      'authorizer errors deny',
    );
  });
});
