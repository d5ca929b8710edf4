// IAM 1.1b under attack: bearer tokens crafted with jose against a real
// authorization server (oidc-provider: the issuer and its JWKS) and a real
// vulnvault server over TLS. Each hostile token is refused with its specific
// error code and reason, and leaves an authorization-log line. Tokens that
// point at keys (jku, x5u) or carry them (jwk, x5c) are signed here with the
// issuer's own key where that makes them otherwise valid, so only the header
// is hostile; the URLs they name are a loopback server this file starts,
// which must receive nothing.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  CompactSign,
  decodeJwt,
  exportJWK,
  exportSPKI,
  generateKeyPair,
  importJWK,
  SignJWT,
  type CryptoKey,
  type JWTPayload,
} from 'jose';
import { openPolicyDb } from '../../src/adapters/sqlite/database.js';
import { createSqlitePolicyWriter } from '../../src/adapters/sqlite/policy-store.js';
import { resolvePath, type Config } from '../../src/config/config.js';
import { startAuthServer, type AuthServer, type TestClient } from '../helpers/oidc.js';
import {
  call,
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
const OTHER_API = 'https://reports.vulnvault.test';
const ui: TestClient = {
  clientId: 'ui-app',
  secret: 'ui-app-secret-0123456789abcdef',
  scope: 'findings:read findings:write',
};

/** A loopback HTTP server that records every request (and serves `body` if asked). */
async function startTrap(
  body: () => unknown,
): Promise<{ url: string; hits: string[]; close(): Promise<void> }> {
  const hits: string[] = [];
  const srv: Server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body()));
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        srv.closeAllConnections();
        srv.close(() => resolve());
      }),
  };
}

describe('hostile bearer tokens (IAM 1.1b)', () => {
  let t: TestDir;
  let as: AuthServer;
  /** A second trusted issuer whose JWKS nobody asks for unless a token gets that far. */
  let untouched: AuthServer;
  let trap: Awaited<ReturnType<typeof startTrap>>;
  let srv: RunningVault;
  let attacker: { privateKey: CryptoKey; publicKey: CryptoKey };
  const now = () => Math.floor(Date.now() / 1000);
  const claims = (over: JWTPayload = {}, iss = as.issuer): JWTPayload => ({
    iss,
    aud: API,
    sub: 'ui-app',
    client_id: 'ui-app',
    scope: 'findings:read',
    jti: `hostile-${randomBytes(6).toString('hex')}`,
    iat: now(),
    exp: now() + 300,
    ...over,
  });
  /** Signs with the issuer's key unless told otherwise: only the header is hostile. */
  const sign = (
    header: Record<string, unknown>,
    c: JWTPayload = claims(),
    key: CryptoKey | Uint8Array = as.signingKey,
    crit?: Record<string, boolean>,
  ) =>
    new SignJWT(c)
      .setProtectedHeader({ alg: 'ES256', kid: as.kid, typ: 'at+jwt', ...header })
      .sign(key, crit ? { crit } : undefined);

  const bearer = (token: string, path = '/vuln?org=org1'): Promise<Response> =>
    call(srv.port, { path, ca: t.ca.certPem, headers: { authorization: `Bearer ${token}` } });

  function assertRefused(r: Response, status: number, code: string, reason: RegExp) {
    assert.equal(r.status, status, r.text);
    assert.equal(r.json.code, code);
    assert.match(r.json.message, /^the bearer token is refused: /);
    if (status === 401) {
      assert.match(String(r.headers['www-authenticate']), /^Bearer .*error="invalid_token"/);
    }
    const lines = readAuthzLog(t.dir).filter((l) => l.requestId === r.json.requestId);
    assert.equal(lines.length, 1, 'one authorization-log line for the request');
    const line = lines[0] as Record<string, any>;
    assert.equal(line.action, 'authenticate');
    assert.equal(line.decision, 'deny');
    assert.equal(line.principal.type, 'client');
    assert.equal(line.principal.name, null);
    assert.match(String(line.reason), reason);
    return line;
  }

  /** Requests that reached the issuer or the trap while `fn` ran. */
  async function outbound(fn: () => Promise<void>): Promise<string[]> {
    const a = as.requests().length;
    const u = untouched.requests().length;
    const h = trap.hits.length;
    await fn();
    return [...as.requests().slice(a), ...untouched.requests().slice(u), ...trap.hits.slice(h)];
  }

  before(async () => {
    t = await makeTestDir();
    as = await startAuthServer({ resources: [API, OTHER_API], clients: [ui] });
    untouched = await startAuthServer({ resources: [API], clients: [ui] });
    attacker = await generateKeyPair('ES256', { extractable: true });
    const attackerJwk = { ...(await exportJWK(attacker.publicKey)), kid: as.kid, alg: 'ES256' };
    // Were the edge to follow jku or x5u, it would find the attacker's key here.
    trap = await startTrap(() => ({ keys: [attackerJwk] }));
    const db = openPolicyDb(resolvePath(t.config, t.config.storage.policies));
    try {
      createSqlitePolicyWriter(db).grant({
        principal: { type: 'client', name: 'ui-app' },
        action: 'findings:read',
        org: 'org1',
      });
    } finally {
      db.close();
    }
    const config: Config = {
      ...t.config,
      auth: {
        ...t.config.auth,
        methods: ['certificate', 'token'],
        tokens: {
          issuers: [
            // Default algorithms (RS256, PS256, ES256, EdDSA): an RS256 header
            // is allowed, so alg/key mismatches reach the key lookup.
            {
              issuer: as.issuer,
              jwksUri: as.jwksUri,
              audience: API,
              clockSkewSeconds: 5,
              allowHttpLoopback: true,
            },
            {
              issuer: untouched.issuer,
              jwksUri: untouched.jwksUri,
              audience: API,
              allowHttpLoopback: true,
            },
          ],
          jwksCooldownSeconds: 0,
        },
      },
    };
    srv = await startVault(config);
    assert.equal((await postJson(srv.port, t.ca.certPem, t.scanner, demoRecord())).status, 201);
    // The honest path works, and the issuer's keys are cached from here on.
    const ok = await bearer(await as.token(ui, { scope: 'findings:read' }));
    assert.equal(ok.status, 200, ok.text);
  });
  after(async () => {
    await srv.close();
    await as.close();
    await untouched.close();
    await trap.close();
    t.cleanup();
  });

  describe('headers that name or carry a key are refused, and never followed', () => {
    it('jku pointing at a JWKS that holds the attacker key: 401, nothing fetched', async () => {
      const sent = await outbound(async () => {
        for (const key of [as.signingKey, attacker.privateKey]) {
          const token = await sign({ jku: `${trap.url}/jwks.json` }, claims(), key);
          assertRefused(await bearer(token), 401, 'token_invalid', /header jku not accepted/);
        }
      });
      assert.deepEqual(sent, []);
      assert.deepEqual(trap.hits, []);
    });

    it('x5u pointing at a certificate URL: 401, nothing fetched', async () => {
      const sent = await outbound(async () => {
        const token = await sign({ x5u: `${trap.url}/cert.pem` });
        assertRefused(await bearer(token), 401, 'token_invalid', /header x5u not accepted/);
      });
      assert.deepEqual(sent, []);
      assert.deepEqual(trap.hits, []);
    });

    it('x5c carrying a certificate chain: 401, before any key lookup', async () => {
      const sent = await outbound(async () => {
        const token = await sign({ x5c: [randomBytes(300).toString('base64')] });
        assertRefused(await bearer(token), 401, 'token_invalid', /header x5c not accepted/);
      });
      assert.deepEqual(sent, []);
    });

    it('jwk embedding the attacker public key (signed with it): 401, before any key lookup', async () => {
      const sent = await outbound(async () => {
        const jwk = await exportJWK(attacker.publicKey);
        const token = await new SignJWT(claims())
          .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', jwk })
          .sign(attacker.privateKey);
        assertRefused(await bearer(token), 401, 'token_invalid', /header jwk not accepted/);
      });
      assert.deepEqual(sent, []);
    });
  });

  describe('kid values', () => {
    for (const kid of ['../../etc/passwd', "' OR 1=1 --", '%2e%2e%2fjwks?x=1#']) {
      it(`kid ${JSON.stringify(kid)}: 401 unknown kid; only the configured JWKS URL is fetched`, async () => {
        const sent = await outbound(async () => {
          const token = await sign({ kid });
          const line = assertRefused(await bearer(token), 401, 'token_invalid', /unknown kid/);
          assert.equal(JSON.stringify(line).includes(kid), false, 'the kid is not echoed');
        });
        // One refetch for an unknown kid (a rotation?), of the configured URL as is.
        assert.deepEqual(sent, ['/jwks']);
      });
    }

    it('a kid that is not 1-256 printable characters: 401 before any key lookup', async () => {
      for (const kid of ['k\r\nx-injected: 1', 'x'.repeat(257), '', 42, null]) {
        const sent = await outbound(async () => {
          const token = await sign({ kid });
          assertRefused(await bearer(token), 401, 'token_invalid', /kid is not a key id/);
        });
        assert.deepEqual(sent, [], JSON.stringify(kid));
      }
    });
  });

  it('crit naming an unknown extension: 401 token_invalid', async () => {
    const token = await sign(
      { crit: ['x-vulnvault-bind'], 'x-vulnvault-bind': 'yes' },
      claims(),
      as.signingKey,
      {
        'x-vulnvault-bind': true,
      },
    );
    assertRefused(await bearer(token), 401, 'token_invalid', /header crit not accepted/);
  });

  it('a nested JWT (cty: JWT), whether the payload is a token or claims: 401 token_invalid', async () => {
    const inner = await as.token(ui, { scope: 'findings:read' });
    const nested = await new CompactSign(new TextEncoder().encode(inner))
      .setProtectedHeader({ alg: 'ES256', kid: as.kid, typ: 'at+jwt', cty: 'JWT' })
      .sign(as.signingKey);
    assertRefused(await bearer(nested), 401, 'token_invalid', /header cty not accepted/);
    // Claims as the payload, signed by the issuer: valid but for the cty header.
    const claimsWithCty = await sign({ cty: 'JWT' });
    assertRefused(await bearer(claimsWithCty), 401, 'token_invalid', /header cty not accepted/);
  });

  it('a token larger than 8 KiB: 401 with a specific message, before any decoding or key lookup', async () => {
    const pad = (n: number) => claims({ pad: 'x'.repeat(n) }, untouched.issuer);
    const big = await new SignJWT(pad(7_000))
      .setProtectedHeader({ alg: 'ES256', kid: untouched.kid, typ: 'at+jwt' })
      .sign(untouched.signingKey);
    assert.ok(big.length > 8192, String(big.length));
    const sent = await outbound(async () => {
      const r = await bearer(big);
      const line = assertRefused(r, 401, 'token_invalid', /token larger than 8192 bytes \(8 KiB\)/);
      // Not even the issuer was read from it.
      assert.equal(line.principal.issuer, null);
    });
    assert.deepEqual(sent, []);
    assert.equal(untouched.jwksFetches(), 0);
    // Just under the limit is served.
    const fits = await new SignJWT(pad(5_500))
      .setProtectedHeader({ alg: 'ES256', kid: untouched.kid, typ: 'at+jwt' })
      .sign(untouched.signingKey);
    assert.ok(fits.length <= 8192, String(fits.length));
    const ok = await bearer(fits);
    assert.equal(ok.status, 200, ok.text);
  });

  describe('algorithm and key mismatches', () => {
    it("RS256 under the kid of the issuer's ES256 key: 401 token_invalid", async () => {
      const rsa = await generateKeyPair('RS256');
      const token = await sign({ alg: 'RS256' }, claims(), rsa.privateKey);
      assertRefused(await bearer(token), 401, 'token_invalid', /key of another type than alg/);
      const ed = await generateKeyPair('EdDSA');
      const edToken = await sign({ alg: 'EdDSA' }, claims(), ed.privateKey);
      assertRefused(await bearer(edToken), 401, 'token_invalid', /key of another type than alg/);
    });

    it("alg 'none' (unsigned): 401 token_invalid", async () => {
      const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
      for (const alg of ['none', 'None', 'NONE']) {
        const token = `${b64({ alg, kid: as.kid, typ: 'at+jwt' })}.${b64(claims())}.`;
        assertRefused(
          await bearer(token),
          401,
          'token_invalid',
          new RegExp(`algorithm ${alg} not allowed`),
        );
      }
    });

    it("HS256 keyed with the issuer's public key (PEM or JWK): 401 token_invalid", async () => {
      const pub = (await importJWK(as.publicJwk, 'ES256')) as CryptoKey;
      for (const secret of [await exportSPKI(pub), JSON.stringify(as.publicJwk)]) {
        const token = await sign({ alg: 'HS256' }, claims(), new TextEncoder().encode(secret));
        assertRefused(await bearer(token), 401, 'token_invalid', /algorithm HS256 not allowed/);
      }
    });

    it('ES256 signed by another key under the right kid: 401 signature does not verify', async () => {
      const token = await sign({}, claims(), attacker.privateKey);
      assertRefused(await bearer(token), 401, 'token_invalid', /signature does not verify/);
    });
  });

  it('iat far in the future (a pre-minted token): 401 token_invalid', async () => {
    const year = 365 * 86_400;
    const token = await sign({}, claims({ iat: now() + year, exp: now() + 300 }));
    assertRefused(await bearer(token), 401, 'token_invalid', /issued in the future \(iat\)/);
    // Within the clock skew (5 s) it is served.
    const skewed = await sign({}, claims({ iat: now() + 2 }));
    assert.equal((await bearer(skewed)).status, 200);
  });

  it('a genuine token of the same issuer replayed from another audience: 401 token_audience_invalid', async () => {
    const token = await as.token(ui, { scope: 'findings:read', resource: OTHER_API });
    assert.equal(decodeJwt(token).aud, OTHER_API);
    assertRefused(await bearer(token), 401, 'token_audience_invalid', /audience not accepted/);
    const several = await sign({}, claims({ aud: [OTHER_API, 'https://elsewhere.test'] }));
    assertRefused(await bearer(several), 401, 'token_audience_invalid', /audience not accepted/);
  });
});
