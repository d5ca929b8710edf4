// The JWKS cache of one issuer (IAM 1.1b) against a real HTTP server on
// loopback, with a controlled clock: refresh after maxAge, stale keys serve a
// bounded time while the issuer is down, then fail closed.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { exportJWK, generateKeyPair, jwtVerify, SignJWT, type CryptoKey } from 'jose';
import { createJwksCache, JwksUnavailableError } from '../../src/edge/jwks-cache.js';

describe('JWKS cache', () => {
  let http: Server;
  let url: string;
  let up = true;
  let key: CryptoKey;
  let body = '';
  before(async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    key = pair.privateKey;
    body = JSON.stringify({
      keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'a', alg: 'ES256' }],
    });
    http = createServer((_req, res) => {
      if (!up) {
        res.writeHead(503).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/jwks`;
  });
  after(() => new Promise<void>((resolve) => http.close(() => resolve())));

  it('serves cached keys past maxAge while the issuer is down, for staleMs only', async () => {
    let clock = 1_000_000;
    const cache = createJwksCache(
      url,
      { maxAgeMs: 1_000, cooldownMs: 100, staleMs: 5_000, timeoutMs: 2_000 },
      () => clock,
    );
    const token = await new SignJWT({ sub: 'x' })
      .setProtectedHeader({ alg: 'ES256', kid: 'a' })
      .sign(key);
    up = true;
    await jwtVerify(token, cache.getKey);
    assert.equal(cache.fetches, 1);
    clock += 500; // fresh: no fetch
    await jwtVerify(token, cache.getKey);
    assert.equal(cache.fetches, 1);
    up = false;
    clock += 1_000; // stale, refresh fails, cached key still serves
    await jwtVerify(token, cache.getKey);
    assert.equal(cache.fetches, 2);
    clock += 5_000; // beyond maxAge + staleMs: fail closed
    await assert.rejects(jwtVerify(token, cache.getKey), JwksUnavailableError);
    up = true;
    clock += 200; // issuer back (after the cooldown): works again
    await jwtVerify(token, cache.getKey);
  });

  it('fails closed with no cached keys, and waits for the cooldown before retrying', async () => {
    let clock = 5_000_000;
    const cache = createJwksCache(
      url,
      { maxAgeMs: 1_000, cooldownMs: 10_000, staleMs: 5_000, timeoutMs: 2_000 },
      () => clock,
    );
    const token = await new SignJWT({ sub: 'x' })
      .setProtectedHeader({ alg: 'ES256', kid: 'a' })
      .sign(key);
    up = false;
    await assert.rejects(jwtVerify(token, cache.getKey), JwksUnavailableError);
    up = true;
    clock += 1_000;
    await assert.rejects(jwtVerify(token, cache.getKey), /cooldown/);
    assert.equal(cache.fetches, 1);
    clock += 10_000;
    await jwtVerify(token, cache.getKey);
    assert.equal(cache.fetches, 2);
  });
});
