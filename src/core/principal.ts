// Who is calling. Every authenticator (client certificate, bearer token, AWS
// IAM identity) yields one Principal, so authorization has one path.

/**
 * What a policy entry names: an OU from a client certificate (`ou`), an OAuth2
 * client id from a bearer token (`client`), or an AWS IAM role or user ARN
 * (`iam`). Policies name principals, never credentials.
 */
export type PrincipalType = 'ou' | 'client' | 'iam';

export const PRINCIPAL_TYPES: readonly PrincipalType[] = ['ou', 'client', 'iam'];

export interface PrincipalRef {
  type: PrincipalType;
  name: string;
}

export interface CertificateDetails {
  subject: string;
  issuer: string;
  serial: string;
  fingerprint256: string;
  notAfter: string;
}

/** A verified bearer token (OAuth2 client credentials). */
export interface TokenDetails {
  issuer: string;
  subject: string;
  clientId: string;
  /** The token's `jti`, when it has one (for the audit trail). */
  tokenId: string | null;
  expiresAt: string;
}

/** A caller signed with AWS SigV4, as API Gateway reports it. */
export interface IamDetails {
  arn: string;
  accountId: string | null;
}

export interface Principal {
  ref: PrincipalRef;
  /** Display id for logs, e.g. the certificate CN or the client id. */
  id: string;
  /** Exactly one of certificate, token and iam is set: how the caller proved who it is. */
  certificate?: CertificateDetails | undefined;
  token?: TokenDetails | undefined;
  iam?: IamDetails | undefined;
  /**
   * Actions the credential itself is limited to (e.g. a token's scopes). They
   * narrow what the policy grants and never widen it; undefined = no limit.
   */
  scopes?: readonly Action[] | undefined;
}

/** Request context every function receives: who, from where, which request. */
export interface CallContext {
  requestId: string;
  sourceIp: string;
  principal: Principal;
}

/**
 * findings:read reads an org's findings; findings:write stores them (scanners);
 * findings:triage sets people's analysis of them (issue 16).
 */
export type Action = 'findings:read' | 'findings:write' | 'findings:triage';

export const ACTIONS: readonly Action[] = ['findings:read', 'findings:write', 'findings:triage'];

/** CLI shorthand: `read` → findings:read. */
export function actionFromShort(short: string): Action | undefined {
  if (short === 'read') return 'findings:read';
  if (short === 'write') return 'findings:write';
  if (short === 'triage') return 'findings:triage';
  return undefined;
}
