// The signing keys of one token issuer (IAM 1.1b), fetched from its JWKS URI
// and kept in memory. jose does the key selection (createLocalJWKSet: kid,
// alg, use); this module decides when to fetch:
//   - keys older than maxAgeMs are fetched again before use; if that fetch
//     fails, the cached keys keep serving for at most staleMs more (the issuer
//     being briefly down must not lock every client out), then fail closed;
//   - a token whose kid matches no cached key causes one fetch (a key
//     rotation), but at most one per cooldownMs, so random kids cannot turn
//     the edge into a JWKS flooder;
//   - no key set and the fetch fails → JwksUnavailableError (the caller
//     answers 503: the client did nothing wrong, and nothing is allowed).

import {
  createLocalJWKSet,
  errors,
  type FlattenedJWSInput,
  type JSONWebKeySet,
  type JWSHeaderParameters,
} from 'jose';

export class JwksUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'JwksUnavailableError';
  }
}

export interface JwksCacheOptions {
  maxAgeMs: number;
  cooldownMs: number;
  /** How long cached keys may serve past maxAgeMs while the JWKS cannot be fetched. */
  staleMs: number;
  timeoutMs: number;
}

type KeyResolver = ReturnType<typeof createLocalJWKSet>;
export type GetKey = (
  header: JWSHeaderParameters,
  token: FlattenedJWSInput,
) => ReturnType<KeyResolver>;

const MAX_JWKS_BYTES = 512 * 1024;

async function fetchJwks(url: string, timeoutMs: number): Promise<JSONWebKeySet> {
  let res: Response;
  try {
    // No redirects: the configured URI is the one trusted.
    res = await fetch(url, {
      redirect: 'error',
      signal: AbortSignal.timeout(timeoutMs),
      headers: { accept: 'application/jwk-set+json, application/json' },
    });
  } catch (err) {
    throw new JwksUnavailableError('JWKS fetch failed', { cause: err });
  }
  if (res.status !== 200) {
    await res.body?.cancel();
    throw new JwksUnavailableError(`JWKS fetch answered HTTP ${res.status}`);
  }
  const text = await res.text().catch((err: unknown) => {
    throw new JwksUnavailableError('JWKS fetch failed while reading', { cause: err });
  });
  if (text.length > MAX_JWKS_BYTES) throw new JwksUnavailableError('JWKS too large');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new JwksUnavailableError('JWKS is not JSON', { cause: err });
  }
  const keys = (json as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) throw new JwksUnavailableError('JWKS has no keys array');
  return json as JSONWebKeySet;
}

export interface JwksCache {
  getKey: GetKey;
  /** Number of fetch attempts so far (for tests and diagnostics). */
  readonly fetches: number;
}

export function createJwksCache(
  url: string,
  o: JwksCacheOptions,
  now: () => number = Date.now,
): JwksCache {
  let local: KeyResolver | undefined;
  let fetchedAt = -Infinity;
  let lastAttempt = -Infinity;
  let pending: Promise<void> | undefined;
  let fetches = 0;

  // One fetch at a time; concurrent callers share it.
  const refresh = (): Promise<void> => {
    pending ??= (async () => {
      lastAttempt = now();
      fetches += 1;
      try {
        local = createLocalJWKSet(await fetchJwks(url, o.timeoutMs));
        fetchedAt = now();
      } catch (err) {
        throw err instanceof JwksUnavailableError
          ? err
          : new JwksUnavailableError('JWKS is not a valid key set', { cause: err });
      } finally {
        pending = undefined;
      }
    })();
    return pending;
  };

  const getKey: GetKey = async (header, token) => {
    const t = now();
    if (local === undefined || t - fetchedAt >= o.maxAgeMs) {
      const staleUsable = local !== undefined && t - fetchedAt < o.maxAgeMs + o.staleMs;
      if (pending !== undefined || t - lastAttempt >= o.cooldownMs) {
        try {
          await refresh();
        } catch (err) {
          // Stale keys keep serving while the issuer is down (bounded by staleMs).
          if (!staleUsable) throw err;
        }
      } else if (!staleUsable) {
        throw new JwksUnavailableError('the last JWKS fetch failed; not retried yet (cooldown)');
      }
    }
    const keys = local as KeyResolver;
    try {
      return await keys(header, token);
    } catch (err) {
      if (!(err instanceof errors.JWKSNoMatchingKey) || now() - lastAttempt < o.cooldownMs) {
        throw err;
      }
      // An unknown kid may be a key rotated in since the last fetch: fetch
      // once (at most once per cooldown), then decide.
      await refresh();
      return (local as KeyResolver)(header, token);
    }
  };

  return {
    getKey,
    get fetches() {
      return fetches;
    },
  };
}
