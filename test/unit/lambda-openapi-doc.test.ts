// The Lambda entries carry the contract as a module; it must be the contract.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadOpenApi } from '../../src/edge/openapi.js';
import { OPENAPI_DOC } from '../../src/lambda/openapi-doc.js';

describe('the contract bundled into the Lambda entries', () => {
  it('equals openapi/vulnvault.yaml (run scripts/gen-openapi-module.mjs after changing it)', () => {
    assert.deepEqual(OPENAPI_DOC, loadOpenApi());
  });
});
