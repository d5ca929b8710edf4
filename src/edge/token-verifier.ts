// IAM 1.1b: OAuth2 client-credentials callers. A bearer JWT access token is
// verified with jose against the keys of the issuer named in its `iss` (only
// configured issuers; their JWKS cached in jwks-cache.ts): signature with an
// asymmetric algorithm from the issuer's allow-list (never `none`, never
// HMAC), `iss`, `aud`, `exp`/`nbf` with a small clock skew, header `typ`
// `at+jwt` (RFC 9068). The client id becomes the principal {client, id}; the
// scopes that name actions become Principal.scopes, which narrow what the
// policy grants (a token with no known scope may do nothing).
//
// Hostile tokens are refused before any key is looked up: larger than 8 KiB;
// a header naming where to get a key (jku, x5u) or carrying one (jwk, x5c):
// keys come only from the configured JWKS, nothing is ever fetched from a
// token; `crit` (no JWS extension is supported); `cty` (no nested JWT:
// the payload must be the claims); a `kid` that is not 1-256 printable
// ASCII characters. After the signature: `iat` in the future (beyond the
// clock skew). A `kid` with path or SQL characters is only ever compared
// with the JWKS entries' ids, never used as a path, URL or query.

import { decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import type { TokenAlgorithm, TokenIssuerSettings } from '../config/config.js';
import { VaultError, type ErrorCode } from '../core/errors.js';
import { ACTIONS, type Action, type Principal } from '../core/principal.js';
import { createJwksCache, JwksUnavailableError, type JwksCache } from './jwks-cache.js';

/** A refused token: the public error plus what the authorization log records. */
export class TokenRefusal extends VaultError {
  readonly reason: string;
  /** The token's `iss` as claimed (unverified), for the log. */
  readonly claimedIssuer: string | null;
  constructor(
    code: ErrorCode,
    reason: string,
    claimedIssuer: string | null,
    options?: { cause?: unknown },
  ) {
    super(code, `the bearer token is refused: ${reason}`, options);
    this.reason = reason;
    this.claimedIssuer = claimedIssuer;
  }
}

export type TokenVerifier = (token: string) => Promise<Principal>;

export interface TokenVerifierOptions {
  jwksCacheSeconds?: number | undefined;
  jwksCooldownSeconds?: number | undefined;
}

/** Same rule as `vulnvault policy grant --client`. */
const CLIENT_ID = /^[A-Za-z0-9._~:@/+=-]{1,255}$/;
const DEFAULT_ALGORITHMS: TokenAlgorithm[] = ['RS256', 'PS256', 'ES256', 'EdDSA', 'Ed25519'];
const MAX_TOKEN_BYTES = 8192;
/** Header parameters that point at or carry a key: never followed (RFC 8725 §3.10). */
const KEY_HEADERS = ['jku', 'x5u', 'jwk', 'x5c'] as const;
const KID = /^[\x20-\x7e]{1,256}$/;

interface Issuer {
  s: TokenIssuerSettings;
  jwks: JwksCache;
  algorithms: string[];
  required: string[];
}

const printable = (v: unknown, max = 64): string =>
  typeof v === 'string' ? v.replace(/[^\x20-\x7e]/g, '?').slice(0, max) : typeof v;

function scopesOf(payload: JWTPayload, s: TokenIssuerSettings): Action[] {
  const raw = payload[s.scopeClaim ?? 'scope'];
  const list =
    typeof raw === 'string'
      ? raw.split(' ')
      : Array.isArray(raw)
        ? raw.filter((x): x is string => typeof x === 'string')
        : [];
  const prefix = s.scopePrefix ?? '';
  const out = new Set<Action>();
  for (const item of list) {
    if (!item.startsWith(prefix)) continue;
    const name = item.slice(prefix.length);
    const action = ACTIONS.find((a) => a === name);
    if (action) out.add(action);
  }
  return [...out];
}

const skewOf = (s: TokenIssuerSettings): number => s.clockSkewSeconds ?? 30;

function refusalOf(err: unknown, alg: unknown, iss: string): TokenRefusal {
  const r = (code: ErrorCode, reason: string) =>
    new TokenRefusal(code, reason, iss, { cause: err });
  if (err instanceof TokenRefusal) return err;
  if (err instanceof JwksUnavailableError) {
    return r('jwks_unavailable', `the issuer's signing keys cannot be fetched (${err.message})`);
  }
  if (err instanceof errors.JWTExpired) return r('token_expired', 'token expired');
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'aud') return r('token_audience_invalid', 'audience not accepted');
    if (err.claim === 'nbf') return r('token_invalid', 'token not yet valid');
    if (err.claim === 'typ') return r('token_invalid', 'token type (typ) is not at+jwt');
    if (err.reason === 'missing') return r('token_invalid', `claim ${err.claim} missing`);
    return r('token_invalid', `claim ${err.claim} not accepted`);
  }
  if (err instanceof errors.JOSEAlgNotAllowed) {
    return r('token_invalid', `algorithm ${printable(alg, 16)} not allowed`);
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) {
    return r('token_invalid', 'signature does not verify');
  }
  if (err instanceof errors.JWKSNoMatchingKey) {
    return r(
      'token_invalid',
      'no signing key of the issuer matches the token (unknown kid, or a key of another type than alg)',
    );
  }
  if (err instanceof errors.JWKSMultipleMatchingKeys) {
    return r('token_invalid', 'several signing keys match a token without kid');
  }
  if (err instanceof errors.JOSENotSupported) {
    return r('token_invalid', 'unsupported algorithm or key type');
  }
  return r('token_invalid', 'token cannot be verified');
}

export function createTokenVerifier(
  issuers: readonly TokenIssuerSettings[],
  o: TokenVerifierOptions = {},
): TokenVerifier {
  const byIssuer = new Map<string, Issuer>();
  for (const s of issuers) {
    byIssuer.set(s.issuer, {
      s,
      jwks: createJwksCache(s.jwksUri, {
        maxAgeMs: (o.jwksCacheSeconds ?? 600) * 1000,
        cooldownMs: (o.jwksCooldownSeconds ?? 30) * 1000,
        staleMs: 3_600_000,
        timeoutMs: 5_000,
      }),
      algorithms: s.algorithms ?? DEFAULT_ALGORITHMS,
      required: ['exp', s.clientIdClaim ?? 'client_id', ...Object.keys(s.requiredClaims ?? {})],
    });
  }

  return async (token) => {
    // Before anything is decoded (the Authorization header holds ASCII only).
    if (Buffer.byteLength(token) > MAX_TOKEN_BYTES) {
      throw new TokenRefusal(
        'token_invalid',
        `token larger than ${MAX_TOKEN_BYTES} bytes (8 KiB); access tokens are far smaller`,
        null,
      );
    }
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(token);
    } catch (err) {
      throw new TokenRefusal('token_invalid', 'not a signed JWT', null, { cause: err });
    }
    // The payload is read after the header checks: a nested token (cty) has
    // no claims, and is refused for its header.
    let claimed: JWTPayload | undefined;
    let payloadError: unknown;
    try {
      claimed = decodeJwt(token);
    } catch (err) {
      payloadError = err;
    }
    const alg: unknown = header.alg;
    const iss = typeof claimed?.iss === 'string' ? claimed.iss : undefined;
    const shownIss = iss === undefined ? null : printable(iss, 256);
    const refuseHeader = (reason: string): never => {
      throw new TokenRefusal('token_invalid', reason, shownIss);
    };
    for (const name of KEY_HEADERS) {
      if (Object.hasOwn(header, name)) {
        refuseHeader(
          `header ${name} not accepted: keys come only from the issuer's configured JWKS`,
        );
      }
    }
    if (Object.hasOwn(header, 'crit'))
      refuseHeader('header crit not accepted: no JWS extension is supported');
    if (Object.hasOwn(header, 'cty')) {
      refuseHeader(
        'header cty not accepted: nested tokens are not (the payload must be the claims)',
      );
    }
    if (Object.hasOwn(header, 'kid') && (typeof header.kid !== 'string' || !KID.test(header.kid))) {
      refuseHeader('kid is not a key id (1 to 256 printable ASCII characters)');
    }
    if (claimed === undefined) {
      throw new TokenRefusal('token_invalid', 'not a signed JWT', null, { cause: payloadError });
    }
    const issuer = iss === undefined ? undefined : byIssuer.get(iss);
    if (iss === undefined || issuer === undefined) {
      throw new TokenRefusal('token_issuer_unknown', 'issuer not trusted', shownIss);
    }
    const s = issuer.s;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, issuer.jwks.getKey, {
        issuer: s.issuer,
        ...(s.audience === null ? {} : { audience: s.audience }),
        algorithms: issuer.algorithms,
        clockTolerance: skewOf(s),
        ...(s.requireAtJwtType === false ? {} : { typ: 'at+jwt' }),
        requiredClaims: issuer.required,
      }));
    } catch (err) {
      throw refusalOf(err, alg, s.issuer);
    }
    // jose checks iat only against a maximum token age; a token "issued" in
    // the future is forged or from a broken clock either way.
    const skew = skewOf(s);
    if (typeof payload.iat === 'number' && payload.iat > Date.now() / 1000 + skew) {
      throw new TokenRefusal('token_invalid', 'token issued in the future (iat)', s.issuer);
    }
    for (const [claim, want] of Object.entries(s.requiredClaims ?? {})) {
      if (payload[claim] !== want) {
        throw new TokenRefusal('token_invalid', `claim ${claim} not accepted`, s.issuer);
      }
    }
    const clientId = payload[s.clientIdClaim ?? 'client_id'];
    if (typeof clientId !== 'string' || !CLIENT_ID.test(clientId)) {
      throw new TokenRefusal('token_invalid', 'client id claim is not a valid client id', s.issuer);
    }
    return {
      ref: { type: 'client', name: clientId },
      id: clientId,
      token: {
        issuer: s.issuer,
        subject: typeof payload.sub === 'string' ? payload.sub : clientId,
        clientId,
        tokenId: typeof payload.jti === 'string' ? payload.jti.slice(0, 256) : null,
        expiresAt: new Date((payload.exp ?? 0) * 1000).toISOString(),
      },
      scopes: scopesOf(payload, s),
    };
  };
}
