// The error catalog and the contract must agree: a code the server can send
// but the OpenAPI file does not document (or the reverse) fails this test.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ERROR_CODES, ERROR_STATUS } from '../../src/core/errors.js';
import { loadOpenApi } from '../../src/contract/load.js';

describe('error catalog', () => {
  it('documents exactly the codes the code can return', () => {
    const doc = loadOpenApi();
    const documented = (doc.components.schemas.ErrorCode as { enum: string[] }).enum;
    assert.deepEqual([...documented].sort(), [...ERROR_CODES].sort());
  });

  it('gives every code a 4xx or 5xx status', () => {
    for (const code of ERROR_CODES) {
      assert.ok(ERROR_STATUS[code] >= 400 && ERROR_STATUS[code] < 600, code);
    }
  });
});
