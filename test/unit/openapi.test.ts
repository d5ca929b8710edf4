import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadOpenApi, routesFromOpenApi } from '../../src/contract/load.js';
import { SCAN_FORMATS } from '../../src/formats/format.js';

describe('openapi routes', () => {
  const routes = routesFromOpenApi(loadOpenApi());

  it('builds one route per operation with its media types and schemas', () => {
    const post = routes.find((r) => r.operationId === 'postVuln');
    assert.ok(post);
    assert.equal(post.method, 'POST');
    assert.equal(post.url, '/vuln');
    assert.deepEqual(post.mediaTypes, ['application/json']);
    assert.equal(post.bodyRequired, true);
    assert.equal(post.action, 'findings:write');
    assert.ok(post.schema.body);
    assert.equal(JSON.stringify(post.schema).includes('$ref'), false, 'all $refs inlined');
  });

  it('makes query parameters a closed object with the required ones listed', () => {
    const get = routes.find((r) => r.operationId === 'getVuln');
    assert.ok(get?.schema.querystring);
    assert.equal(get.schema.querystring.additionalProperties, false);
    assert.deepEqual(get.schema.querystring.required, ['org']);
  });

  it('names the same upload formats as the parsers (ScanFormat = SCAN_FORMATS)', () => {
    const schema = loadOpenApi().components.schemas.ScanFormat as { enum: string[] };
    assert.deepEqual([...schema.enum].sort(), [...SCAN_FORMATS].sort());
  });

  it('keeps the seed record closed to unknown properties', () => {
    const schema = loadOpenApi().components.schemas.SeedVuln as { additionalProperties: boolean };
    assert.equal(schema.additionalProperties, false);
  });
});
