// Who is calling. Every authenticator (client certificate today; bearer token
// and cloud IAM later) yields one Principal, so authorization has one path.

/** What a policy entry names: today an OU from a client certificate. */
export interface PrincipalRef {
  type: 'ou';
  name: string;
}

export interface CertificateDetails {
  subject: string;
  issuer: string;
  serial: string;
  fingerprint256: string;
  notAfter: string;
}

export interface Principal {
  ref: PrincipalRef;
  /** Display id for logs, e.g. the certificate CN. */
  id: string;
  certificate: CertificateDetails;
}

/** Request context every function receives: who, from where, which request. */
export interface CallContext {
  requestId: string;
  sourceIp: string;
  principal: Principal;
}

export type Action = 'findings:read' | 'findings:write';

export const ACTIONS: readonly Action[] = ['findings:read', 'findings:write'];

/** CLI shorthand: `read` → findings:read. */
export function actionFromShort(short: string): Action | undefined {
  if (short === 'read') return 'findings:read';
  if (short === 'write') return 'findings:write';
  return undefined;
}
