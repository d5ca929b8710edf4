// When a certificate is due for renewal, and the server's own renewal: the
// server process re-issues its TLS certificate (same names, same lifetime,
// a new key) from the CA once a third of its lifetime is left, writes it by
// rename and lets the TLS reloader pick it up: new connections get the new
// certificate, established ones keep theirs (no restart, like
// `pki rotate-server`). A renewal that fails (CA key unreadable, disk full)
// is logged and retried; the current certificate stays in use meanwhile.

import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { writePemPair } from './dev-pki.js';
import { issueCertificate, type Issuer } from './issue.js';
import { x509 } from './x509.js';

/** Renew when less than this share of the lifetime is left. */
export const RENEW_AT_REMAINING = 1 / 3;

export interface Due {
  due: boolean;
  /** When it becomes due (ms since epoch). */
  dueAt: number;
  notAfter: number;
  lifetimeMs: number;
}

export function renewalDue(certPem: string, now = Date.now()): Due {
  const cert = new X509Certificate(certPem);
  const notBefore = Date.parse(cert.validFrom);
  const notAfter = Date.parse(cert.validTo);
  const lifetimeMs = notAfter - notBefore;
  const dueAt = notAfter - lifetimeMs * RENEW_AT_REMAINING;
  return { due: now >= dueAt, dueAt, notAfter, lifetimeMs };
}

export interface ServerRenewalOptions {
  certFile: string;
  keyFile: string;
  /** Runs `fn` with the CA (ca-source.ts: a PEM key, or a key in a token). */
  withCa: <T>(fn: (ca: Issuer) => Promise<T>) => Promise<T>;
  /** Called after new files are written (the TLS reloader's check). */
  reload: () => void;
  log: {
    info: (fields: object, msg: string) => void;
    error: (fields: object, msg: string) => void;
  };
  /** Longest wait between two looks at the certificate. */
  maxWaitMs?: number;
  /** Wait after a failed renewal before the next try. */
  retryMs?: number;
}

/** Renews the server certificate now: same subject and names, same lifetime, a new key. */
export async function renewServerCertificate(o: ServerRenewalOptions): Promise<string> {
  const old = new x509.X509Certificate(readFileSync(o.certFile, 'utf8'));
  const lifetimeMs = old.notAfter.getTime() - old.notBefore.getTime();
  const sanExt = old.getExtension(x509.SubjectAlternativeNameExtension);
  const sans = (sanExt?.names.items ?? [])
    .filter((n) => n.type === 'dns' || n.type === 'ip')
    .map((n) => n.value);
  const cn = old.subjectName.getField('2.5.4.3')[0] ?? 'localhost';
  const org = old.subjectName.getField('2.5.4.10')[0];
  // Back-dated for clock skew, by a minute at most and never by a tenth of
  // the lifetime or more (a short-lived certificate must not start expired).
  const notBefore = new Date(Date.now() - Math.min(60_000, lifetimeMs / 10));
  const pair = await o.withCa((ca) =>
    issueCertificate(ca, {
      kind: 'server',
      subject: { cn, ...(org !== undefined ? { o: org } : {}) },
      sans: sans.length > 0 ? sans : ['localhost', '127.0.0.1', '::1'],
      notBefore,
      notAfter: new Date(notBefore.getTime() + lifetimeMs),
    }),
  );
  writePemPair(o.certFile, o.keyFile, pair);
  return new x509.X509Certificate(pair.certPem).serialNumber;
}

export function startServerRenewal(o: ServerRenewalOptions): { stop(): void } {
  const maxWait = o.maxWaitMs ?? 3_600_000;
  const retry = o.retryMs ?? 60_000;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const schedule = (ms: number) => {
    if (stopped) return;
    timer = setTimeout(tick, Math.max(250, Math.min(ms, maxWait)));
    timer.unref();
  };
  const tick = () => {
    let due: Due;
    try {
      due = renewalDue(readFileSync(o.certFile, 'utf8'));
    } catch (err) {
      o.log.error(
        { err: (err as Error).message },
        'server certificate unreadable; renewal retried',
      );
      schedule(retry);
      return;
    }
    if (!due.due) {
      schedule(due.dueAt - Date.now());
      return;
    }
    renewServerCertificate(o).then(
      (serial) => {
        o.log.info({ serial }, 'server certificate renewed');
        try {
          o.reload();
        } catch (err) {
          o.log.error({ err: (err as Error).message }, 'server certificate reload failed');
        }
        schedule(0);
      },
      (err: unknown) => {
        o.log.error(
          { err: (err as Error).message },
          'server certificate not renewed; the current one stays in use and renewal is retried',
        );
        schedule(retry);
      },
    );
  };
  schedule(0);
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
