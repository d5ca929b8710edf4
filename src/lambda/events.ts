// The parts of API Gateway REST (v1) events vulnvault reads. Declared here
// (not from @types/aws-lambda) so the entries state exactly what they rely on.

export interface ClientCertContext {
  clientCertPem?: string | null;
  /** Present, but never used: a DN string can be spoofed (DESIGN.md §1). */
  subjectDN?: string | null;
  issuerDN?: string | null;
  serialNumber?: string | null;
  validity?: { notBefore?: string; notAfter?: string } | null;
}

export interface RequestIdentity {
  sourceIp?: string | null;
  clientCert?: ClientCertContext | null;
  /** Set by API Gateway for AWS_IAM (SigV4) callers. */
  userArn?: string | null;
  accountId?: string | null;
  caller?: string | null;
  user?: string | null;
}

type Params = Record<string, string | undefined> | null | undefined;
type MultiParams = Record<string, string[] | undefined> | null | undefined;

/** REQUEST authorizer event (REST API). */
export interface AuthorizerEvent {
  type: 'REQUEST';
  methodArn: string;
  resource: string;
  path: string;
  httpMethod: string;
  headers?: Params;
  queryStringParameters?: Params;
  multiValueQueryStringParameters?: MultiParams;
  pathParameters?: Params;
  requestContext: { requestId?: string; identity?: RequestIdentity | null };
}

export interface AuthorizerResult {
  principalId: string;
  policyDocument: {
    Version: '2012-10-17';
    Statement: { Action: 'execute-api:Invoke'; Effect: 'Allow' | 'Deny'; Resource: string }[];
  };
  context?: Record<string, string>;
}

/** Lambda proxy integration event (REST API). */
export interface ProxyEvent {
  resource: string;
  path: string;
  httpMethod: string;
  headers?: Params;
  multiValueHeaders?: MultiParams;
  queryStringParameters?: Params;
  multiValueQueryStringParameters?: MultiParams;
  pathParameters?: Params;
  body?: string | null;
  isBase64Encoded?: boolean;
  requestContext: {
    requestId: string;
    identity?: RequestIdentity | null;
    /** What the Lambda authorizer returned as context (values are strings). */
    authorizer?: Record<string, unknown> | null;
  };
}

export interface ProxyResult {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}
