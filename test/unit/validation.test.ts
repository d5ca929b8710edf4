import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deref, loadOpenApi } from '../../src/contract/load.js';
import { compileValidator } from '../../src/http/validation.js';

describe('validation messages', () => {
  const doc = loadOpenApi();
  const body = (
    doc.paths['/vuln']?.post as {
      requestBody: { content: { 'application/json': { schema: object } } };
    }
  ).requestBody.content['application/json'].schema;
  const validate = compileValidator(deref(doc, body as never) as object, 'body');
  const rec = {
    VulnID: 'v',
    Org: 'o',
    AssetName: 'a',
    DueDate: '01-01-2026',
    PluginId: 1,
    PluginName: 'p',
    Priority: 'P1',
  };
  const message = (data: unknown) => {
    const r = validate(data);
    assert.notEqual(r, true);
    return (r as { error: Error }).error.message;
  };

  it('accepts a record and an array of records', () => {
    assert.equal(validate(rec), true);
    assert.equal(validate([rec, rec]), true);
  });

  it('names the deepest failing field of a single record or of an array item', () => {
    assert.match(message({ ...rec, DueDate: 'x' }), /^body\.DueDate must match pattern/);
    assert.match(message([rec, { ...rec, PluginId: -1 }]), /^body\[1\]\.PluginId must be >= 0/);
    assert.match(message('text'), /^body must be/);
  });

  it('never coerces body types', () => {
    assert.match(message({ ...rec, PluginId: '1' }), /PluginId must be integer/);
  });

  it('clips and sanitises unknown property names it reports', () => {
    const msg = message({ ...rec, ['k\n'.repeat(100)]: 1 });
    assert.ok(msg.length < 120);
    assert.doesNotMatch(msg, /\n/);
  });
});
