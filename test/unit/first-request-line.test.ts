import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isVersionlessRequestLine } from '../../src/edge/first-request-line.js';

const check = (s: string) => isVersionlessRequestLine(Buffer.from(s, 'latin1'));

describe('first request line', () => {
  it('finds a request line without an HTTP version (HTTP/0.9 style)', () => {
    assert.equal(check('GET /healthz\r\n'), true);
    assert.equal(check('GET /healthz\n'), true);
    assert.equal(check('GET /healthz\r\nhost: x\r\n\r\n'), true);
    assert.equal(check('\r\n\r\nPOST /vuln\r\n'), true, 'after empty lines');
    assert.equal(check('GET http://localhost/healthz\r\n'), true);
  });

  it('leaves every other line to the parser', () => {
    assert.equal(check('GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n'), false);
    assert.equal(check('GET /healthz HTTP/1.0\r\n\r\n'), false);
    assert.equal(check('GET /health'), false, 'no whole line yet');
    assert.equal(check('\r\n'), false);
    assert.equal(check('GET\r\n'), false);
    assert.equal(check('GET /a b\r\n'), false);
  });
});
