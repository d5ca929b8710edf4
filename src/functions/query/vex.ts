// GET /v1/orgs/{org}/vex?format=cyclonedx|openvex: the org's analysed package
// findings as a VEX document (issue 16 item 7). Asks authorize for
// findings:read first; reads through the reader port only, page by page, the
// findings with an analysis (a person's or the scanner's), a CVE and a
// versioned purl location. Comments are never exported (VEX documents are
// shared with third parties).

import { VaultError } from '../../core/errors.js';
import type { CallContext } from '../../core/principal.js';
import type { Finding, FindingsAfter } from '../../core/ports.js';
import { buildCycloneDxVex } from '../../vex/cyclonedx.js';
import { buildOpenVex } from '../../vex/openvex.js';
import type { VexAnalysis, VexStatement } from '../../vex/types.js';
import { checkStatement, purlVersion, VexInputError } from '../../vex/verdict.js';
import { dataAccessEvent } from '../data-access.js';
import type { QueryDeps } from './findings.js';

const PAGE = 1000;
const ANALYSED = [
  'in_triage',
  'exploitable',
  'false_positive',
  'not_affected',
  'risk_accepted',
  'resolved',
] as const;

function analysisOf(f: Finding): VexAnalysis | null {
  const t = f.triage;
  if (t) {
    return {
      state: t.state,
      justification: t.justification,
      response: t.response,
      comment: '',
      source: 'user',
      by: null,
      at: t.at,
      expiresAt: t.expiresAt,
    };
  }
  const a = f.analysis;
  return (
    a && {
      state: a.state,
      justification: a.justification,
      response: a.response,
      comment: '',
      source: 'scanner',
      by: null,
      at: f.lastSeen,
      expiresAt: null,
    }
  );
}

/** A versioned package URL the VEX builders accept. */
const isPackage = (location: string) =>
  /^pkg:[a-z0-9.+-]+\/./i.test(location) && purlVersion(location) !== '';

export async function getVex(
  ctx: CallContext,
  req: { org: string; format: 'cyclonedx' | 'openvex' },
  deps: QueryDeps,
): Promise<Record<string, unknown>> {
  await deps.authorize(ctx, 'findings:read', [req.org]);
  const now = (deps.clock ?? (() => new Date()))();
  const statements: VexStatement[] = [];
  let after: FindingsAfter = 0;
  let read = 0;
  for (;;) {
    const page = await deps.reader.queryFindings(
      req.org,
      { analysis: ANALYSED, now: now.toISOString() },
      after,
      PAGE,
      'list',
    );
    read += page.items.length;
    for (const f of page.items) {
      if (f.cves.length === 0 || !isPackage(f.location)) continue;
      const analysis = analysisOf(f);
      for (const cve of f.cves) {
        const s: VexStatement = {
          findingId: f.id,
          cve,
          purl: f.location,
          title: f.title,
          severity: f.severity,
          cvss3Score: f.cvss3Score,
          cvss3Vector: f.cvss3Vector,
          analysis,
          firstSeen: f.firstSeen,
          lastSeen: f.lastSeen,
          status: f.status,
        };
        // What a VEX document cannot carry (an odd purl, a CVE id out of
        // its shape) is left out rather than failing the whole export.
        try {
          checkStatement(s);
        } catch (err) {
          if (err instanceof VexInputError) continue;
          throw err;
        }
        statements.push(s);
      }
    }
    if (page.lastSeq === undefined) break;
    after = page.lastSeq;
  }
  deps.audit.dataAccess(dataAccessEvent(ctx, 'findings:read', req.org, read));
  const options = { org: req.org, author: `vulnvault (${req.org})`, timestamp: now };
  if (req.format === 'openvex') {
    if (statements.length === 0) {
      throw new VaultError(
        'not_found',
        'no analysed finding of this org has a CVE and a package URL, and an OpenVEX document needs at least one statement',
      );
    }
    return buildOpenVex(statements, options) as unknown as Record<string, unknown>;
  }
  return buildCycloneDxVex(statements, options) as unknown as Record<string, unknown>;
}
