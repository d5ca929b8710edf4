import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deref, loadOpenApi, routesFromOpenApi } from '../../src/contract/load.js';
import { singleValuedQuery } from '../../src/http/query.js';
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

describe('query validation messages', () => {
  const doc = loadOpenApi();
  const route = (op: string) => {
    const r = routesFromOpenApi(doc).find((x) => x.operationId === op);
    assert.ok(r?.schema.querystring);
    return compileValidator(r.schema.querystring, 'querystring');
  };
  const message = (check: ReturnType<typeof compileValidator>, q: Record<string, unknown>) => {
    const r = check(q);
    assert.notEqual(r, true);
    return (r as { error: Error }).error.message;
  };

  it('states a numeric range in words, whichever bound failed', () => {
    const check = route('listFindings');
    for (const limit of ['0', '1001', 'abc', '1.5']) {
      assert.equal(
        message(check, { limit }),
        "query parameter 'limit' must be an integer between 1 and 1000",
      );
    }
  });

  it('lists the allowed values of an enumeration', () => {
    assert.equal(
      message(route('listFindings'), { status: 'closed' }),
      "query parameter 'status' must be one of: open, fixed, reopened",
    );
  });

  it('lists the allowed severities when one is not recognised', () => {
    assert.equal(
      message(route('listFindings'), { severity: 'HIGH' }),
      "query parameter 'severity' must be a comma-separated list of: info, low, medium, high, critical",
    );
    assert.equal(route('listFindings')({ severity: 'high,critical', limit: '5' }), true);
  });

  it('refuses a repeated parameter by name and count', () => {
    assert.throws(
      () => singleValuedQuery({ severity: ['high', 'low'] }),
      /query parameter 'severity' was given twice; give it once/,
    );
    assert.throws(() => singleValuedQuery({ q: ['a', 'b', 'c'] }), /'q' was given 3 times/);
    assert.deepEqual(singleValuedQuery({ a: 'x', b: ['y'] }), { a: 'x', b: 'y' });
  });
});
