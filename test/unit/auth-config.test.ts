// auth.* in vulnvault.json: which credentials the edge accepts and which token
// issuers it trusts, validated at start-up with one line naming the problem.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadChangedConfig } from '../helpers/config.js';

const load = loadChangedConfig;

const issuer = (over: Record<string, unknown> = {}) => ({
  issuer: 'https://login.example/realms/vv',
  jwksUri: 'https://login.example/realms/vv/protocol/openid-connect/certs',
  audience: 'vulnvault',
  ...over,
});

const withTokens =
  (over: Record<string, unknown> = {}) =>
  (c: any) => {
    c.auth = { methods: ['certificate', 'token'], tokens: { issuers: [issuer(over)] } };
  };

describe('auth configuration', () => {
  it('defaults to certificates only, also for a config written before auth existed', () => {
    const r = load((c) => delete c.auth);
    assert.equal(r.error, undefined);
    assert.deepEqual(r.config?.auth.methods, ['certificate']);
    assert.deepEqual(r.config?.auth.tokens.issuers, []);
  });

  it('accepts an https issuer', () => {
    const r = load(withTokens());
    assert.equal(r.error, undefined);
    assert.equal(r.config?.auth.tokens.issuers[0]?.audience, 'vulnvault');
  });

  it('requires an issuer when a method is token', () => {
    const r = load((c) => (c.auth = { methods: ['token'] }));
    assert.match(r.error ?? '', /\/auth\/tokens\/issuers must name at least one issuer/);
    const route = load(
      (c) => (c.auth = { methods: ['certificate'], routes: { 'GET /healthz': ['token'] } }),
    );
    assert.match(route.error ?? '', /at least one issuer/);
  });

  it('refuses an http JWKS URI except on loopback with allowHttpLoopback', () => {
    assert.match(
      load(withTokens({ jwksUri: 'http://login.example/certs' })).error ?? '',
      /\/auth\/tokens\/issuers\/0\/jwksUri must be https/,
    );
    assert.match(
      load(withTokens({ jwksUri: 'http://127.0.0.1:8080/certs' })).error ?? '',
      /set allowHttpLoopback: true/,
    );
    assert.equal(
      load(withTokens({ jwksUri: 'http://127.0.0.1:8080/certs', allowHttpLoopback: true })).error,
      undefined,
    );
    assert.match(
      load(withTokens({ jwksUri: 'http://10.0.0.1/certs', allowHttpLoopback: true })).error ?? '',
      /must be https/,
    );
    assert.match(load(withTokens({ jwksUri: 'not a url' })).error ?? '', /jwksUri is not a URL/);
  });

  it("refuses HMAC algorithms and 'none', naming why", () => {
    assert.match(
      load(withTokens({ algorithms: ['ES256', 'HS256'] })).error ?? '',
      /algorithms 'HS256' is not allowed \(HMAC and 'none' are never accepted/,
    );
    assert.match(load(withTokens({ algorithms: ['none'] })).error ?? '', /'none' is not allowed/);
  });

  it('requires requiredClaims when an issuer has no audience (Cognito)', () => {
    assert.match(load(withTokens({ audience: null })).error ?? '', /requiredClaims must pin/);
    assert.equal(
      load(withTokens({ audience: null, requiredClaims: { token_use: 'access' } })).error,
      undefined,
    );
  });

  it('refuses unknown keys, an issuer listed twice and unknown methods', () => {
    assert.match(load(withTokens({ secret: 'x' })).error ?? '', /must NOT have additional/);
    assert.match(
      load((c) => {
        c.auth = { methods: ['token'], tokens: { issuers: [issuer(), issuer()] } };
      }).error ?? '',
      /is listed twice/,
    );
    assert.match(load((c) => (c.auth = { methods: ['password'] })).error ?? '', /\/auth\/methods/);
  });
});
