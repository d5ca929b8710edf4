// Helpers for scan-upload tests: POST a body to /v1/orgs/{org}/scans and read
// the findings routes, over the same real mTLS client as every other test.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openPolicyDb } from '../../src/adapters/sqlite/database.js';
import { createSqlitePolicyWriter } from '../../src/adapters/sqlite/policy-store.js';
import type { PemPair } from '../../src/pki/issue.js';
import { call, type Response } from './vault.js';

/** Real Nessus / Tenable exports, vendored with their attribution (see SOURCES.txt there). */
export const SAMPLES = join(import.meta.dirname, '..', 'fixtures', 'nessus');

export function sample(name: string): Buffer {
  return readFileSync(join(SAMPLES, name));
}

export interface Client {
  port: number;
  ca: string;
  cert: PemPair;
}

export function uploadScan(
  c: Client,
  org: string,
  body: string | Buffer,
  contentType: string,
  headers: Record<string, string> = {},
  query: { format?: string; target?: string } = {},
): Promise<Response> {
  const q = new URLSearchParams(
    Object.entries(query).filter((e): e is [string, string] => e[1] !== undefined),
  ).toString();
  return call(c.port, {
    method: 'POST',
    path: `/v1/orgs/${org}/scans${q ? `?${q}` : ''}`,
    ca: c.ca,
    cert: c.cert,
    body,
    headers: { 'content-type': contentType, ...headers },
  });
}

export function get(c: Client, path: string): Promise<Response> {
  return call(c.port, { path, ca: c.ca, cert: c.cert });
}

/** A native batch body with one finding per entry of `items`. */
export function nativeBatch(
  items: {
    asset: string;
    pluginId: string;
    title?: string;
    severity?: string;
    cves?: string[];
    location?: string;
    fingerprint?: string;
  }[],
): string {
  return JSON.stringify({
    findings: items.map((i) => ({
      asset: i.asset,
      scanner: 'unit-scanner',
      pluginId: i.pluginId,
      port: 443,
      protocol: 'tcp',
      title: i.title ?? `check ${i.pluginId}`,
      severity: i.severity ?? 'medium',
      ...(i.cves ? { cves: i.cves } : {}),
      ...(i.location ? { location: i.location } : {}),
      ...(i.fingerprint ? { fingerprint: i.fingerprint } : {}),
    })),
  });
}

/** Grants findings:read on org to an OU, as `vulnvault policy grant` does. */
export function grantRead(dir: string, ou: string, org: string): void {
  const db = openPolicyDb(join(dir, 'data', 'policy.db'));
  try {
    createSqlitePolicyWriter(db).grant({
      principal: { type: 'ou', name: ou },
      action: 'findings:read',
      org,
    });
  } finally {
    db.close();
  }
}

/** Grants an action on org to an OU, as `vulnvault policy grant` does. */
export function grant(
  dir: string,
  ou: string,
  action: 'findings:read' | 'findings:write',
  org: string,
): void {
  const db = openPolicyDb(join(dir, 'data', 'policy.db'));
  try {
    createSqlitePolicyWriter(db).grant({ principal: { type: 'ou', name: ou }, action, org });
  } finally {
    db.close();
  }
}
