// Lambda REQUEST authorizer for the mTLS API (IAM 1.1/1.2). API Gateway has
// already checked the client certificate's chain against the truststore; this
// re-reads the certificate from its PEM (never the subjectDN string), pins the
// issuer, checks validity and the CRL from S3 (API Gateway does not check
// revocation), and evaluates the same policy as the local edge. The Allow it
// returns names exactly the methodArn requested — one method, one concrete
// path, so one org — so a cached decision can never grant more. Any error
// denies.

import { X509Certificate } from 'node:crypto';
import { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../adapters/dynamodb/client.js';
import { createDynamoPolicyReader } from '../adapters/dynamodb/policy-store.js';
import { isVaultError } from '../core/errors.js';
import type { Action, CallContext, Principal } from '../core/principal.js';
import type { AuditSink, AuthzEvent } from '../core/ports.js';
import { createAuthorize } from '../functions/authorize.js';
import { normalizeSerial } from '../pki/crl.js';
import { principalFromCertificate } from '../pki/identity.js';
import { createStdoutAudit } from './audit-stdout.js';
import { readEnv } from './env.js';
import type { AuthorizerEvent, AuthorizerResult } from './events.js';
import { principalContext } from './principal.js';
import { OPENAPI_DOC } from '../contract/bundle.js';
import { routesFromOpenApi } from '../contract/routes.js';
import { createTrustSource, type TrustMaterial } from './trust-material.js';

export interface AuthorizerDeps {
  trust: () => Promise<TrustMaterial>;
  doc: DynamoDBDocumentClient;
  policyTable: string;
  audit: AuditSink;
}

/** Every contract route by "METHOD /resource/{param}", as API Gateway names resources. */
const ROUTES = new Map(routesFromOpenApi(OPENAPI_DOC).map((r) => [`${r.method} ${r.path}`, r]));

function result(principalId: string, effect: 'Allow' | 'Deny', methodArn: string, p?: Principal) {
  const r: AuthorizerResult = {
    principalId,
    policyDocument: {
      Version: '2012-10-17',
      Statement: [{ Action: 'execute-api:Invoke', Effect: effect, Resource: methodArn }],
    },
  };
  if (p) r.context = principalContext(p);
  return r;
}

/**
 * The methodArn must name this very request: its method and the route with
 * the request's path parameters filled in (the path after a custom domain's
 * base path, which is what the ARN carries).
 */
function arnMatches(event: AuthorizerEvent): boolean {
  const parts = event.methodArn.split('/');
  if (parts.length < 4 || parts[2] !== event.httpMethod) return false;
  let arnPath: string;
  try {
    arnPath = decodeURIComponent(`/${parts.slice(3).join('/')}`);
  } catch {
    return false;
  }
  const params = event.pathParameters ?? {};
  const expected = event.resource.replace(/\{([^}]+)\}/g, (_, k: string) => params[k] ?? '\u0000');
  return arnPath === expected || (arnPath === '/' && expected === '');
}

export function createAuthorizer(deps: AuthorizerDeps) {
  const authorize = createAuthorize({
    policies: createDynamoPolicyReader(deps.doc, deps.policyTable),
    audit: deps.audit,
  });

  return async (event: AuthorizerEvent): Promise<AuthorizerResult> => {
    const requestId = event.requestContext?.requestId ?? null;
    const sourceIp = event.requestContext?.identity?.sourceIp ?? '';
    const methodArn = typeof event.methodArn === 'string' ? event.methodArn : '';
    let leaf: X509Certificate | undefined;
    const refuse = (
      action: AuthzEvent['action'],
      reason: string,
      decision: AuthzEvent['decision'] = 'deny',
    ) => {
      deps.audit.authz({
        time: new Date().toISOString(),
        requestId,
        sourceIp,
        principal: {
          id: null,
          type: null,
          name: null,
          ou: null,
          subject: null,
          issuer: null,
          serial: leaf?.serialNumber ?? null,
          fingerprint256: leaf ? leaf.fingerprint256.replaceAll(':', '').toLowerCase() : null,
        },
        action,
        org: null,
        decision,
        reason,
      });
      return result('anonymous', 'Deny', methodArn || '*');
    };

    try {
      if (!methodArn || !arnMatches(event))
        return refuse('authenticate', 'methodArn does not match the request');
      const pem = event.requestContext?.identity?.clientCert?.clientCertPem;
      if (!pem) return refuse('authenticate', 'no certificate');
      try {
        leaf = new X509Certificate(pem);
      } catch {
        return refuse('authenticate', 'certificate unparseable');
      }
      const now = Date.now();
      if (now < Date.parse(leaf.validFrom))
        return refuse('authenticate', 'certificate not yet valid');
      if (now > Date.parse(leaf.validTo)) return refuse('authenticate', 'certificate expired');

      let trust: TrustMaterial;
      try {
        trust = await deps.trust();
      } catch {
        return refuse('authenticate', 'truststore or CRL unavailable', 'error');
      }
      let principal: Principal;
      try {
        principal = principalFromCertificate(leaf, trust.cas);
      } catch (err) {
        return refuse('authenticate', isVaultError(err) ? err.message : 'invalid certificate');
      }
      const issuer = trust.cas.find((ca) => leaf?.checkIssued(ca) && leaf.verify(ca.publicKey));
      const revoked = issuer && trust.revoked.get(issuer.fingerprint256);
      if (!revoked) return refuse('authenticate', 'no valid CRL for the issuing CA');
      if (revoked.has(normalizeSerial(leaf.serialNumber)))
        return refuse('authenticate', 'certificate revoked');

      const op = ROUTES.get(`${event.httpMethod} ${event.resource}`);
      if (!op) return refuse('authenticate', 'unknown route');
      const action = op.action as Action | undefined;
      const org = orgOf(event);
      if (org === null) return refuse('authenticate', 'org given more than once');
      if (action !== undefined && org !== undefined) {
        const ctx: CallContext = { requestId: requestId ?? '', sourceIp, principal };
        try {
          await authorize(ctx, action, [org]); // logs the decision
        } catch {
          return result(`${principal.ref.type}:${principal.ref.name}`, 'Deny', methodArn);
        }
      }
      // Without an org in the path or query (POST /vuln: the orgs are in the
      // body) only authentication happens here; the function authorizes
      // every record's org before it writes.
      return result(`${principal.ref.type}:${principal.ref.name}`, 'Allow', methodArn, principal);
    } catch {
      return refuse('authenticate', 'authorizer error', 'error');
    }
  };
}

/** The org a request names in its path or query; null when ambiguous. */
function orgOf(event: AuthorizerEvent): string | undefined | null {
  const fromPath = event.pathParameters?.org;
  if (fromPath !== undefined) return fromPath;
  const multi = event.multiValueQueryStringParameters?.org;
  if (multi && multi.length > 1) return null;
  return event.queryStringParameters?.org ?? undefined;
}

let live: ReturnType<typeof createAuthorizer> | undefined;

export async function handler(event: AuthorizerEvent): Promise<AuthorizerResult> {
  if (!live) {
    try {
      const env = readEnv(['policyTable', 'trustBucket', 'truststoreKey', 'crlKey']);
      live = createAuthorizer({
        trust: createTrustSource(new S3Client({}), {
          bucket: env.trustBucket,
          truststoreKey: env.truststoreKey,
          crlKey: env.crlKey,
        }),
        doc: createDocumentClient(),
        policyTable: env.policyTable,
        audit: createStdoutAudit(),
      });
    } catch {
      // Misconfigured: deny everything rather than fail open.
      return result(
        'anonymous',
        'Deny',
        typeof event?.methodArn === 'string' ? event.methodArn : '*',
      );
    }
  }
  return live(event);
}
