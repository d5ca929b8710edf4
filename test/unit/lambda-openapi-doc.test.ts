// The Lambda entries carry the contract as a module; it must be the contract.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadOpenApi, routesFromOpenApi } from '../../src/edge/openapi.js';
import { OPENAPI_DOC } from '../../src/lambda/openapi-doc.js';
// @ts-expect-error -- a plain .mjs build script, no type declarations
import { lambdaContract } from '../../scripts/gen-openapi-module.mjs';

describe('the contract bundled into the Lambda entries', () => {
  it('is openapi/vulnvault.yaml (run scripts/gen-openapi-module.mjs after changing it)', () => {
    assert.deepEqual(OPENAPI_DOC, lambdaContract(loadOpenApi()));
  });

  it('yields the same request routes and schemas as the full contract', () => {
    const requestParts = (doc: Parameters<typeof routesFromOpenApi>[0]) =>
      routesFromOpenApi(doc).map((r) => ({ ...r, schema: { ...r.schema, response: {} } }));
    const strip = (x: unknown): unknown =>
      JSON.parse(
        JSON.stringify(x, (k, v: unknown) =>
          ['description', 'summary', 'example', 'examples'].includes(k) && typeof v !== 'object'
            ? undefined
            : v,
        ),
      );
    assert.deepEqual(strip(requestParts(OPENAPI_DOC)), strip(requestParts(loadOpenApi())));
  });
});
