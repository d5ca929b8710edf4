// The authorizer's trust material (IAM 1.1): the CA bundle (the same object
// API Gateway's mTLS truststore uses) and the CRL, read from S3 and kept for
// a few minutes. API Gateway checks the chain but not revocation, so every
// CRL is verified here: signed by its CA, not past nextUpdate. A CA without
// a valid CRL, or an S3 read that fails, denies (fail closed).

import type { X509Certificate } from 'node:crypto';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { loadCaBundle } from '../pki/identity.js';
import { normalizeSerial, parseCrls } from '../pki/crl.js';
import { x509 } from '../pki/x509.js';

export interface TrustMaterial {
  cas: X509Certificate[];
  /** Revoked serials per CA subject; a CA with no entry has no valid CRL. */
  revoked: Map<string, Set<string>>;
  /** When the earliest CRL expires (ms): the material is stale after it. */
  validUntil: number;
}

export interface TrustLocation {
  bucket: string;
  truststoreKey: string;
  crlKey: string;
}

async function readObject(s3: S3Client, bucket: string, key: string): Promise<Uint8Array> {
  const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  if (!r.Body) throw new Error('S3 object has no body');
  return r.Body.transformToByteArray();
}

function crlsOf(bytes: Uint8Array): x509.X509Crl[] {
  const text = Buffer.from(bytes).toString('latin1');
  if (text.includes('-----BEGIN')) return parseCrls(text);
  return [new x509.X509Crl(bytes)]; // DER
}

export async function buildTrustMaterial(
  caPem: string,
  crlBytes: Uint8Array,
  now = Date.now(),
): Promise<TrustMaterial> {
  const cas = loadCaBundle(caPem);
  if (cas.length === 0) throw new Error('truststore holds no certificate');
  const revoked = new Map<string, Set<string>>();
  let validUntil = Infinity;
  for (const crl of crlsOf(crlBytes)) {
    for (const ca of cas) {
      const caCert = new x509.X509Certificate(ca.raw);
      if (crl.issuer !== caCert.subject) continue;
      if (!(await crl.verify({ publicKey: caCert.publicKey }))) continue;
      const next = crl.nextUpdate?.getTime();
      if (next === undefined || next < now) continue; // expired: this CA's clients are denied
      validUntil = Math.min(validUntil, next);
      // Keyed by the CA's fingerprint, not its name: two CAs with one name
      // (a re-keyed CA during a rollover) never share a revocation list.
      const set = revoked.get(ca.fingerprint256) ?? new Set<string>();
      for (const e of crl.entries) set.add(normalizeSerial(e.serialNumber));
      revoked.set(ca.fingerprint256, set);
    }
  }
  return { cas, revoked, validUntil };
}

/** Loads from S3 at most every `ttlMs`; a failed load throws (the caller denies). */
export function createTrustSource(s3: S3Client, where: TrustLocation, ttlMs = 5 * 60_000) {
  let cached: { material: TrustMaterial; loadedAt: number } | undefined;
  return async (): Promise<TrustMaterial> => {
    const now = Date.now();
    if (cached && now - cached.loadedAt < ttlMs && now < cached.material.validUntil) {
      return cached.material;
    }
    cached = undefined;
    const [ca, crl] = await Promise.all([
      readObject(s3, where.bucket, where.truststoreKey),
      readObject(s3, where.bucket, where.crlKey),
    ]);
    const material = await buildTrustMaterial(Buffer.from(ca).toString('utf8'), crl, now);
    cached = { material, loadedAt: now };
    return material;
  };
}
