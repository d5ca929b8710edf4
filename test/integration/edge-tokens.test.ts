// IAM 1.1b: OAuth2 client-credentials callers, end to end. A real
// authorization server (oidc-provider, client credentials + resource
// indicators → JWT access tokens) issues the tokens; a real vulnvault server
// verifies them over real TLS sockets. Tokens that no honest server would
// issue (expired, alg none, HS256 keyed with the public key, unknown kid) are
// forged here with jose. Every refusal is checked three ways: status, error
// code, and its line in the authorization log.

import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createServer } from 'node:net';
import {
  decodeJwt,
  exportSPKI,
  generateKeyPair,
  importJWK,
  SignJWT,
  type CryptoKey,
  type JWTPayload,
} from 'jose';
import { openPolicyDb } from '../../src/adapters/sqlite/database.js';
import { createSqlitePolicyWriter } from '../../src/adapters/sqlite/policy-store.js';
import type { AuthSettings, Config } from '../../src/config/config.js';
import { resolvePath } from '../../src/config/config.js';
import type { Action } from '../../src/core/principal.js';
import { createCa } from '../../src/pki/issue.js';
import { startAuthServer, type AuthServer, type TestClient } from '../helpers/oidc.js';
import {
  call,
  clientCert,
  demoRecord,
  makeTestDir,
  postJson,
  readAuthzLog,
  startVault,
  type Response,
  type RunningVault,
  type TestDir,
} from '../helpers/vault.js';

const API = 'https://vulnvault.test';
const OTHER_API = 'https://other-api.test';
const ui: TestClient = {
  clientId: 'ui-app',
  secret: 'ui-app-secret-0123456789abcdef',
  scope: 'findings:read findings:write',
};
const stranger: TestClient = {
  clientId: 'no-grants',
  secret: 'no-grants-secret-0123456789abc',
  scope: 'findings:read findings:write',
};

function withAuth(config: Config, auth: Partial<AuthSettings>): Config {
  return { ...config, auth: { ...config.auth, ...auth } };
}

function grant(config: Config, client: string, actions: Action[], org: string): void {
  const db = openPolicyDb(resolvePath(config, config.storage.policies));
  try {
    const w = createSqlitePolicyWriter(db);
    for (const action of actions)
      w.grant({ principal: { type: 'client', name: client }, action, org });
  } finally {
    db.close();
  }
}

function bearer(
  srv: RunningVault,
  t: TestDir,
  token: string,
  o: { method?: string; path?: string; body?: unknown } = {},
): Promise<Response> {
  return call(srv.port, {
    method: o.method ?? 'GET',
    path: o.path ?? (o.method === 'POST' ? '/vuln' : '/vuln?org=org1'),
    ca: t.ca.certPem,
    headers: {
      authorization: `Bearer ${token}`,
      ...(o.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(o.body === undefined ? {} : { body: JSON.stringify(o.body) }),
  });
}

/** The authz log lines of one request. */
function authzOf(t: TestDir, r: Response): Record<string, any>[] {
  const id = (r.json as { requestId?: string } | undefined)?.requestId ?? r.headers['x-request-id'];
  return readAuthzLog(t.dir).filter((l) => l.requestId === id);
}

function assertRefused(
  t: TestDir,
  r: Response,
  status: number,
  code: string,
  reason: RegExp,
): Record<string, any> {
  assert.equal(r.status, status, r.text);
  assert.equal(r.json.code, code);
  const lines = authzOf(t, r);
  assert.equal(lines.length >= 1, true, 'an authorization log line for the request');
  const line = lines.at(-1) as Record<string, any>;
  assert.notEqual(line.decision, 'allow');
  assert.match(String(line.reason), reason);
  return line;
}

async function freePortThatRefuses(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

describe('bearer tokens from a real authorization server (IAM 1.1b)', () => {
  let t: TestDir;
  let as: AuthServer;
  let other: AuthServer;
  let srv: RunningVault;
  const now = () => Math.floor(Date.now() / 1000);
  const claims = (over: JWTPayload = {}): JWTPayload => ({
    iss: as.issuer,
    aud: API,
    sub: 'ui-app',
    client_id: 'ui-app',
    scope: 'findings:read',
    jti: `forged-${Math.random()}`,
    iat: now(),
    exp: now() + 300,
    ...over,
  });
  const forge = (key: CryptoKey | Uint8Array, header: Record<string, unknown>, c: JWTPayload) =>
    new SignJWT(c).setProtectedHeader({ typ: 'at+jwt', ...header } as never).sign(key);

  before(async () => {
    t = await makeTestDir();
    as = await startAuthServer({ resources: [API, OTHER_API], clients: [ui, stranger] });
    other = await startAuthServer({ resources: [API], clients: [ui] });
    grant(t.config, 'ui-app', ['findings:read', 'findings:write'], 'org1');
    srv = await startVault(
      withAuth(t.config, {
        methods: ['certificate', 'token'],
        routes: { 'GET /v1/orgs/{org}/summary': ['certificate'], 'GET /healthz': ['token'] },
        tokens: {
          issuers: [
            {
              issuer: as.issuer,
              jwksUri: as.jwksUri,
              audience: API,
              algorithms: ['ES256'],
              clockSkewSeconds: 5,
              allowHttpLoopback: true,
            },
          ],
          // Every unknown kid refetches here; the cooldown has its own test below.
          jwksCooldownSeconds: 0,
        },
      }),
    );
    const stored = await postJson(srv.port, t.ca.certPem, t.scanner, demoRecord());
    assert.equal(stored.status, 201);
  });
  after(async () => {
    await srv.close();
    await as.close();
    await other.close();
    t.cleanup();
  });

  it('serves a valid token: 200 with the data, audited as client with issuer and jti', async () => {
    const token = await as.token(ui, { scope: 'findings:read' });
    const r = await bearer(srv, t, token);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.items.length, 1);
    assert.equal(r.json.items[0].VulnID, 'VULN-0001');
    const line = authzOf(t, r).at(-1) as Record<string, any>;
    assert.equal(line.decision, 'allow');
    assert.equal(line.principal.type, 'client');
    assert.equal(line.principal.name, 'ui-app');
    assert.equal(line.principal.issuer, as.issuer);
    assert.equal(line.principal.serial, decodeJwt(token).jti);
    // The token itself is in no log.
    for (const f of readdirSync(join(t.dir, 'logs'))) {
      const text = readFileSync(join(t.dir, 'logs', f), 'utf8');
      assert.equal(text.includes(token.split('.')[2] as string), false, f);
    }
  });

  it('narrows by scope: a read-only token cannot write even though the client may', async () => {
    const readOnly = await as.token(ui, { scope: 'findings:read' });
    const r = await bearer(srv, t, readOnly, {
      method: 'POST',
      body: demoRecord({ VulnID: 'VULN-T1' }),
    });
    assertRefused(t, r, 403, 'forbidden', /action not in token scope/);
    const both = await as.token(ui, { scope: 'findings:read findings:write' });
    const ok = await bearer(srv, t, both, {
      method: 'POST',
      body: demoRecord({ VulnID: 'VULN-T2' }),
    });
    assert.equal(ok.status, 201, ok.text);
    const none = await as.token(ui, {});
    assertRefused(t, await bearer(srv, t, none), 403, 'forbidden', /action not in token scope/);
  });

  it('refuses a valid token of a client that no policy names (403)', async () => {
    const token = await as.token(stranger, { scope: 'findings:read' });
    const line = assertRefused(t, await bearer(srv, t, token), 403, 'forbidden', /no grant/);
    assert.equal(line.principal.name, 'no-grants');
  });

  it('refuses an expired token (401 token_expired), but takes the same token in date', async () => {
    const key = { alg: 'ES256', kid: as.kid };
    const fresh = await forge(as.signingKey, key, claims());
    assert.equal((await bearer(srv, t, fresh)).status, 200);
    const expired = await forge(as.signingKey, key, claims({ exp: now() - 60, iat: now() - 400 }));
    const r = await bearer(srv, t, expired);
    assertRefused(t, r, 401, 'token_expired', /token expired/);
    assert.match(String(r.headers['www-authenticate']), /^Bearer .*error="invalid_token"/);
  });

  it('refuses a token for another audience (401 token_audience_invalid)', async () => {
    const token = await as.token(ui, { scope: 'findings:read', resource: OTHER_API });
    assert.equal(decodeJwt(token).aud, OTHER_API);
    assertRefused(t, await bearer(srv, t, token), 401, 'token_audience_invalid', /audience/);
  });

  it('refuses a token of an issuer that is not configured (401 token_issuer_unknown)', async () => {
    const token = await other.token(ui, { scope: 'findings:read' });
    const line = assertRefused(
      t,
      await bearer(srv, t, token),
      401,
      'token_issuer_unknown',
      /issuer not trusted/,
    );
    assert.equal(line.principal.issuer, other.issuer);
  });

  it("refuses alg 'none' (401 token_invalid)", async () => {
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const token = `${b64({ alg: 'none', typ: 'at+jwt' })}.${b64(claims())}.`;
    assertRefused(t, await bearer(srv, t, token), 401, 'token_invalid', /algorithm none/);
  });

  it('refuses HS256 keyed with the issuer public key (401 token_invalid)', async () => {
    const pem = await exportSPKI((await importJWK(as.publicJwk, 'ES256')) as CryptoKey);
    const token = await forge(
      new TextEncoder().encode(pem),
      { alg: 'HS256', kid: as.kid },
      claims(),
    );
    assertRefused(t, await bearer(srv, t, token), 401, 'token_invalid', /algorithm HS256/);
  });

  it('refetches the JWKS for an unknown kid, then refuses (401 token_invalid)', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const token = await forge(privateKey, { alg: 'ES256', kid: 'rogue' }, claims());
    const before = as.jwksFetches();
    const r = await bearer(srv, t, token);
    assertRefused(t, r, 401, 'token_invalid', /unknown kid/);
    assert.equal(as.jwksFetches(), before + 1);
  });

  it("refuses a token signed by the right issuer's kid with another key", async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const token = await forge(privateKey, { alg: 'ES256', kid: as.kid }, claims());
    assertRefused(t, await bearer(srv, t, token), 401, 'token_invalid', /signature/);
  });

  it('refuses a certificate and a token on one request (401 credentials_conflict)', async () => {
    const token = await as.token(ui, { scope: 'findings:read' });
    const r = await call(srv.port, {
      path: '/vuln?org=org1',
      ca: t.ca.certPem,
      cert: t.customer,
      headers: { authorization: `Bearer ${token}` },
    });
    const line = assertRefused(t, r, 401, 'credentials_conflict', /both presented/);
    assert.notEqual(line.principal.fingerprint256, null);
  });

  it('answers a request without any credential with 401 and WWW-Authenticate: Bearer', async () => {
    const r = await call(srv.port, { path: '/vuln?org=org1', ca: t.ca.certPem });
    assertRefused(t, r, 401, 'unauthenticated', /no credentials/);
    assert.equal(r.headers['www-authenticate'], 'Bearer realm="vulnvault"');
    const basic = await call(srv.port, {
      path: '/vuln?org=org1',
      ca: t.ca.certPem,
      headers: { authorization: 'Basic dWk6cHc=' },
    });
    assertRefused(t, basic, 401, 'token_invalid', /malformed Authorization/);
  });

  it('still refuses a certificate that does not verify before HTTP', async () => {
    const foreign = await createCa({ cn: 'Foreign CA', o: 'x' }, new Date(Date.now() + 86_400_000));
    const cert = await clientCert(foreign, { cn: 'x', ou: ['scanner'] });
    await assert.rejects(call(srv.port, { path: '/healthz', ca: t.ca.certPem, cert }));
    const last = readAuthzLog(t.dir).at(-1) as Record<string, any>;
    assert.equal(last.action, 'connect');
    assert.equal(last.reason, 'unknown CA');
  });

  it('applies per-route methods: certificate-only and token-only routes', async () => {
    const token = await as.token(ui, { scope: 'findings:read' });
    const summary = await bearer(srv, t, token, { path: '/v1/orgs/org1/summary' });
    assertRefused(t, summary, 401, 'credential_not_accepted', /bearer token not accepted/);
    const certOnToken = await call(srv.port, {
      path: '/healthz',
      ca: t.ca.certPem,
      cert: t.customer,
    });
    assertRefused(t, certOnToken, 401, 'credential_not_accepted', /certificate not accepted/);
    assert.equal((await bearer(srv, t, token, { path: '/healthz' })).status, 200);
    // The certificate path is unchanged on routes that take both.
    const cert = await call(srv.port, {
      path: '/vuln?org=org1',
      ca: t.ca.certPem,
      cert: t.customer,
    });
    assert.equal(cert.status, 200);
  });
});

describe('token deployments that fail closed, and certificate-only deployments', () => {
  let t: TestDir;
  let as: AuthServer;
  let other: AuthServer;
  before(async () => {
    t = await makeTestDir();
    as = await startAuthServer({ resources: [API], clients: [ui] });
    other = await startAuthServer({ resources: [API], clients: [ui] });
    grant(t.config, 'ui-app', ['findings:read'], 'org1');
  });
  after(async () => {
    await as.close();
    await other.close();
    t.cleanup();
  });

  it('answers 503 jwks_unavailable when the JWKS cannot be fetched and no key is cached', async () => {
    const dead = await freePortThatRefuses();
    const srv = await startVault(
      withAuth(t.config, {
        methods: ['token'],
        tokens: {
          issuers: [
            {
              issuer: as.issuer,
              jwksUri: `http://127.0.0.1:${dead}/jwks`,
              audience: API,
              allowHttpLoopback: true,
            },
            {
              issuer: other.issuer,
              jwksUri: other.jwksUri,
              audience: API,
              allowHttpLoopback: true,
            },
          ],
        },
      }),
    );
    try {
      const token = await as.token(ui, { scope: 'findings:read' });
      const r = await bearer(srv, t, token);
      const line = assertRefused(t, r, 503, 'jwks_unavailable', /signing keys cannot be fetched/);
      assert.equal(line.decision, 'error');

      // With the default 30 s cooldown an unknown kid costs one fetch, not one per request.
      const { privateKey } = await generateKeyPair('ES256');
      const forged = await new SignJWT({
        iss: other.issuer,
        aud: API,
        client_id: 'ui-app',
        exp: Math.floor(Date.now() / 1000) + 60,
      })
        .setProtectedHeader({ alg: 'ES256', kid: 'rogue', typ: 'at+jwt' })
        .sign(privateKey);
      const before = other.jwksFetches();
      for (let i = 0; i < 3; i += 1) {
        assertRefused(t, await bearer(srv, t, forged), 401, 'token_invalid', /unknown kid/);
      }
      assert.equal(other.jwksFetches(), before + 1);
      // The cached keys still serve real tokens.
      const real = await other.token(ui, { scope: 'findings:read' });
      assert.equal((await bearer(srv, t, real)).status, 200);
    } finally {
      await srv.close();
    }
  });

  it('stops at start-up on auth.routes naming a route the contract does not have', async () => {
    await assert.rejects(
      startVault(withAuth(t.config, { routes: { 'GET /v1/nothing': ['certificate'] } })),
      /auth\.routes names 'GET \/v1\/nothing', which is not a route of the contract/,
    );
  });

  it('a certificate-only deployment refuses tokens and certificate-less sockets', async () => {
    const srv = await startVault(t.config); // auth.methods defaults to ["certificate"]
    try {
      const token = await as.token(ui, { scope: 'findings:read' });
      const r = await call(srv.port, {
        path: '/vuln?org=org1',
        ca: t.ca.certPem,
        cert: t.customer,
        headers: { authorization: `Bearer ${token}` },
      });
      assertRefused(t, r, 401, 'credential_not_accepted', /bearer token not accepted/);
      await assert.rejects(bearer(srv, t, token));
      const last = readAuthzLog(t.dir).at(-1) as Record<string, any>;
      assert.equal(last.reason, 'no certificate');
      const ok = await call(srv.port, {
        path: '/vuln?org=org1',
        ca: t.ca.certPem,
        cert: t.customer,
      });
      assert.equal(ok.status, 200);
    } finally {
      await srv.close();
    }
  });
});
