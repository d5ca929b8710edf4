// Drives the Lambda entries as API Gateway (REST API) would: realistic
// REQUEST-authorizer and proxy events, the authorizer's Allow/Deny applied
// before the function runs, its context handed to the function. S3 is the
// one AWS part mocked (it cannot run here): FakeS3 answers GetObject for the
// truststore and CRL keys from memory and can be switched off. DynamoDB is
// the real DynamoDB Local.

import { randomUUID } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import type {
  AuthorizerEvent,
  AuthorizerResult,
  ProxyEvent,
  ProxyResult,
} from '../../src/lambda/events.js';

export const API_ARN = 'arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/prod';

export class FakeS3 {
  objects = new Map<string, Uint8Array>();
  down = false;
  reads = 0;
  asClient(): S3Client {
    return this as unknown as S3Client;
  }
  send(cmd: { input: { Bucket?: string; Key?: string } }) {
    this.reads++;
    if (this.down)
      return Promise.reject(
        Object.assign(new Error('S3 unavailable'), { name: 'ServiceUnavailable' }),
      );
    const body = this.objects.get(`${cmd.input.Bucket}/${cmd.input.Key}`);
    if (!body) return Promise.reject(Object.assign(new Error('NoSuchKey'), { name: 'NoSuchKey' }));
    return Promise.resolve({ Body: { transformToByteArray: () => Promise.resolve(body) } });
  }
}

export interface Req {
  method: 'GET' | 'POST';
  /** Resource template, e.g. /v1/orgs/{org}/findings */
  resource: string;
  pathParameters?: Record<string, string>;
  query?: Record<string, string | string[]>;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

function concretePath(r: Req): string {
  return r.resource.replace(/\{([^}]+)\}/g, (_, k: string) => r.pathParameters?.[k] ?? '');
}

function queryParts(r: Req) {
  if (!r.query) return { single: null, multi: null };
  const single: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(r.query)) {
    const list = Array.isArray(v) ? v : [v];
    single[k] = list.at(-1) as string;
    multi[k] = list;
  }
  return { single, multi };
}

export function authorizerEvent(
  r: Req,
  certPem: string | undefined,
  extra: { subjectDN?: string } = {},
): AuthorizerEvent {
  const path = concretePath(r);
  const q = queryParts(r);
  return {
    type: 'REQUEST',
    methodArn: `${API_ARN}/${r.method}${path}`,
    resource: r.resource,
    path,
    httpMethod: r.method,
    headers: r.headers ?? {},
    queryStringParameters: q.single,
    multiValueQueryStringParameters: q.multi,
    pathParameters: r.pathParameters ?? null,
    requestContext: {
      requestId: randomUUID(),
      identity: {
        sourceIp: '198.51.100.7',
        clientCert: certPem
          ? {
              clientCertPem: certPem,
              subjectDN: extra.subjectDN ?? 'CN=ignored',
              issuerDN: 'CN=ignored',
              serialNumber: '00',
              validity: { notBefore: '', notAfter: '' },
            }
          : null,
      },
    },
  };
}

export function proxyEvent(
  r: Req,
  who: { authorizer?: Record<string, string>; iam?: { userArn: string; accountId: string } },
): ProxyEvent {
  const path = concretePath(r);
  const q = queryParts(r);
  const body =
    r.body === undefined ? null : Buffer.isBuffer(r.body) ? r.body.toString('base64') : r.body;
  return {
    resource: r.resource,
    path,
    httpMethod: r.method,
    headers: r.headers ?? {},
    multiValueHeaders: Object.fromEntries(
      Object.entries(r.headers ?? {}).map(([k, v]) => [k, [v]]),
    ),
    queryStringParameters: q.single,
    multiValueQueryStringParameters: q.multi,
    pathParameters: r.pathParameters ?? null,
    body,
    isBase64Encoded: Buffer.isBuffer(r.body),
    requestContext: {
      requestId: randomUUID(),
      identity: {
        sourceIp: '198.51.100.7',
        userArn: who.iam?.userArn ?? null,
        accountId: who.iam?.accountId ?? null,
      },
      authorizer: who.authorizer ?? null,
    },
  };
}

export interface GatewayResponse {
  status: number;
  json: any;
  headers: Record<string, string>;
  authorizer: AuthorizerResult;
}

/**
 * One request through the mTLS API: authorizer first; a Deny (or an Allow
 * for another resource) is API Gateway's 403; otherwise the function runs
 * with the authorizer's context.
 */
export async function viaGateway(
  authorizer: (e: AuthorizerEvent) => Promise<AuthorizerResult>,
  fn: (e: ProxyEvent) => Promise<ProxyResult>,
  r: Req,
  certPem: string | undefined,
): Promise<GatewayResponse> {
  const ae = authorizerEvent(r, certPem);
  const decision = await authorizer(ae);
  const stmt = decision.policyDocument.Statement[0];
  if (!stmt || stmt.Effect !== 'Allow' || stmt.Resource !== ae.methodArn) {
    return {
      status: 403,
      json: { message: 'User is not authorized to access this resource' },
      headers: {},
      authorizer: decision,
    };
  }
  const res = await fn(proxyEvent(r, { authorizer: decision.context ?? {} }));
  return {
    status: res.statusCode,
    json: JSON.parse(res.body),
    headers: res.headers,
    authorizer: decision,
  };
}
