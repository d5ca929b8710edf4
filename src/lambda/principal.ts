// Who called, as the functions behind API Gateway learn it. On the mTLS API
// the authorizer has verified the certificate and hands the principal over in
// its context (set by API Gateway; a client cannot write it). On the IAM API
// (AWS_IAM, SigV4) API Gateway reports the caller's ARN; an assumed-role
// session maps to its role, which is what policies name (IAM 1.1b).

import { VaultError } from '../core/errors.js';
import type { Principal } from '../core/principal.js';
import type { ProxyEvent } from './events.js';

/** Authorizer context keys (strings only: API Gateway's limitation). */
export function principalContext(p: Principal): Record<string, string> {
  const c = p.certificate;
  return {
    principalType: p.ref.type,
    principalName: p.ref.name,
    principalId: p.id,
    ...(c
      ? {
          certSubject: c.subject,
          certIssuer: c.issuer,
          certSerial: c.serial,
          certFingerprint256: c.fingerprint256,
          certNotAfter: c.notAfter,
        }
      : {}),
  };
}

const PARTITION = '(aws|aws-cn|aws-us-gov)';
const NAME = '[\\w+=,.@-]{1,64}';
const ASSUMED_ROLE = new RegExp(
  `^arn:${PARTITION}:sts::(\\d{12}):assumed-role/(${NAME})/(${NAME})$`,
);
const IAM_ENTITY = new RegExp(
  `^arn:${PARTITION}:iam::(\\d{12}):(user|role)/([\\w+=,.@/-]{1,512})$`,
);

/**
 * The policy name of an IAM caller: an assumed-role session becomes
 * arn:<partition>:iam::<account>:role/<role> (the session ARN carries no role
 * path, so grants name roles without their path); user and role ARNs stay as
 * they are. Anything else is not a caller vulnvault recognises.
 */
export function iamPolicyName(userArn: string): string | undefined {
  const a = ASSUMED_ROLE.exec(userArn);
  if (a) return `arn:${a[1] as string}:iam::${a[2] as string}:role/${a[3] as string}`;
  return IAM_ENTITY.test(userArn) ? userArn : undefined;
}

export function principalFromIam(userArn: string, accountId: string | null): Principal {
  const name = iamPolicyName(userArn);
  if (!name) {
    throw new VaultError(
      'unauthenticated',
      'the IAM caller is not a role or user vulnvault recognises',
    );
  }
  return { ref: { type: 'iam', name }, id: userArn, iam: { arn: userArn, accountId } };
}

const str = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v : undefined);

/** The principal of a proxy event, from exactly one of: authorizer context, IAM identity. */
export function principalFromEvent(event: ProxyEvent): Principal {
  const ctx = event.requestContext.authorizer ?? undefined;
  const userArn = str(event.requestContext.identity?.userArn);
  const type = str(ctx?.principalType);
  if (type !== undefined && userArn !== undefined) {
    throw new VaultError('unauthenticated', 'the request carries two identities; refused');
  }
  if (type !== undefined) {
    const name = str(ctx?.principalName);
    if (type !== 'ou' || name === undefined) {
      throw new VaultError('unauthenticated', 'no authenticated principal');
    }
    const fingerprint = str(ctx?.certFingerprint256);
    return {
      ref: { type: 'ou', name },
      id: str(ctx?.principalId) ?? '',
      certificate:
        fingerprint === undefined
          ? undefined
          : {
              subject: str(ctx?.certSubject) ?? '',
              issuer: str(ctx?.certIssuer) ?? '',
              serial: str(ctx?.certSerial) ?? '',
              fingerprint256: fingerprint,
              notAfter: str(ctx?.certNotAfter) ?? '',
            },
    };
  }
  if (userArn !== undefined) {
    return principalFromIam(userArn, str(event.requestContext.identity?.accountId) ?? null);
  }
  throw new VaultError('unauthenticated', 'no authenticated principal');
}
