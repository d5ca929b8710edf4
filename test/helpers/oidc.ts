// A real OAuth2 authorization server for tests: oidc-provider on loopback
// HTTP, with client-credentials clients and resource indicators, so that it
// issues JWT access tokens (RFC 9068: typ at+jwt, aud = the resource). Its
// signing key is generated here, so tests can also forge tokens with it
// (expired ones) or with keys of their own.

import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import Provider, { errors } from 'oidc-provider';

export interface TestClient {
  clientId: string;
  secret: string;
  /** Scopes the client may request. */
  scope: string;
}

export interface AuthServer {
  issuer: string;
  jwksUri: string;
  /** The provider's signing key (kid `kid`), to forge tokens in tests. */
  signingKey: CryptoKey;
  publicJwk: JWK;
  kid: string;
  /** How many times the JWKS was fetched. */
  jwksFetches(): number;
  /** The URL (path and query) of every request the server received, in order. */
  requests(): string[];
  /** Client-credentials grant at the token endpoint; returns the access token. */
  token(client: TestClient, o?: { scope?: string; resource?: string }): Promise<string>;
  close(): Promise<void>;
}

export async function startAuthServer(o: {
  /** Resource indicators this server issues tokens for (the first is the default). */
  resources: string[];
  clients: TestClient[];
  ttlSeconds?: number;
}): Promise<AuthServer> {
  const http: Server = createServer();
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const port = (http.address() as AddressInfo).port;
  const issuer = `http://127.0.0.1:${port}`;

  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const kid = `k-${port}`;
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: 'ES256', use: 'sig' };
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };

  const provider = new Provider(issuer, {
    clients: o.clients.map((c) => ({
      client_id: c.clientId,
      client_secret: c.secret,
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      scope: c.scope,
      id_token_signed_response_alg: 'ES256',
    })),
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    jwks: { keys: [privateJwk] },
    scopes: ['openid', 'findings:read', 'findings:write'],
    ttl: { ClientCredentials: o.ttlSeconds ?? 300 },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => o.resources[0] as string,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resource) => {
          if (!o.resources.includes(resource)) throw new errors.InvalidTarget();
          return {
            scope: 'findings:read findings:write',
            audience: resource,
            accessTokenTTL: o.ttlSeconds ?? 300,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'ES256' } },
          };
        },
      },
    },
  });
  // Keep test output clean: the provider reports client errors as events.
  provider.on('server_error', () => undefined);
  const callback = provider.callback();
  let fetches = 0;
  const seen: string[] = [];
  http.on('request', (req, res) => {
    seen.push(req.url ?? '');
    if (req.url === '/jwks') fetches += 1;
    void callback(req, res);
  });

  return {
    issuer,
    jwksUri: `${issuer}/jwks`,
    signingKey: privateKey,
    publicJwk,
    kid,
    jwksFetches: () => fetches,
    requests: () => [...seen],
    async token(client, t = {}) {
      const body = new URLSearchParams({ grant_type: 'client_credentials' });
      if (t.scope !== undefined) body.set('scope', t.scope);
      if (t.resource !== undefined) body.set('resource', t.resource);
      const res = await fetch(`${issuer}/token`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${client.clientId}:${client.secret}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body,
      });
      const json = (await res.json()) as {
        access_token?: string;
        error?: string;
        error_description?: string;
      };
      if (res.status !== 200 || json.access_token === undefined) {
        throw new Error(
          `token endpoint answered ${res.status} ${json.error ?? ''} ${json.error_description ?? ''}`,
        );
      }
      return json.access_token;
    },
    close: () =>
      new Promise<void>((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}
