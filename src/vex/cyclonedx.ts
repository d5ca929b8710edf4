// CycloneDX 1.6 VEX (JSON): one component per package version (bom-ref = its
// purl) and one vulnerability per (CVE, package) with its impact analysis.
// States map onto CycloneDX's impactAnalysisState one to one, except
// risk_accepted, which CycloneDX lacks: it is `exploitable` with the response
// will_not_fix (can_not_fix when the analysis gave it) and the expiry in
// `detail`. A fixed finding without a person's analysis is `resolved`; a
// lapsed acceptance is `exploitable` again (verdict.ts). Justifications are
// CycloneDX's own vocabulary and pass through (for not_affected).

import {
  severityFromScore,
  type AnalysisJustification,
  type AnalysisResponse,
  type Severity,
} from '../core/finding.js';
import { purlName } from '../formats/purl.js';
import { contentUrn } from './document-id.js';
import type { VexAnalysisState, VexOptions, VexStatement } from './types.js';
import { NVD_URL, purlNamespace, purlVersion, verdicts, type Verdict } from './verdict.js';

/** CycloneDX 1.6 impactAnalysisState (resolved_with_pedigree is never produced: we hold no pedigree). */
export type CycloneDxState =
  | 'resolved'
  | 'resolved_with_pedigree'
  | 'exploitable'
  | 'in_triage'
  | 'false_positive'
  | 'not_affected';

/** vulnvault state → CycloneDX state. */
export const CYCLONEDX_STATE: Readonly<Record<VexAnalysisState, CycloneDxState>> = {
  in_triage: 'in_triage',
  exploitable: 'exploitable',
  false_positive: 'false_positive',
  not_affected: 'not_affected',
  // Not in CycloneDX: a known exploitable vulnerability its owner decided to
  // live with; the decision is the response (will_not_fix / can_not_fix) and
  // its end date goes in detail.
  risk_accepted: 'exploitable',
  resolved: 'resolved',
};

export interface CycloneDxRating {
  score?: number;
  severity: Severity;
  method: 'CVSSv3' | 'CVSSv31' | 'other';
  vector?: string;
}

export interface CycloneDxVulnerability {
  id: string;
  source: { name: string; url: string };
  ratings: CycloneDxRating[];
  description: string;
  analysis: {
    state: CycloneDxState;
    justification?: AnalysisJustification;
    response?: AnalysisResponse[];
    detail?: string;
    firstIssued: string;
    lastUpdated: string;
  };
  affects: { ref: string }[];
}

export interface CycloneDxComponent {
  type: 'library';
  'bom-ref': string;
  group?: string;
  name: string;
  version: string;
  purl: string;
}

export interface CycloneDxVexBom {
  bomFormat: 'CycloneDX';
  specVersion: '1.6';
  serialNumber: string;
  version: 1;
  metadata: {
    timestamp: string;
    tools: { components: { type: 'application'; name: string }[] };
    authors: { name: string }[];
    properties: { name: string; value: string }[];
  };
  components: CycloneDxComponent[];
  vulnerabilities: CycloneDxVulnerability[];
}

function ratingOf(v: Verdict): CycloneDxRating {
  if (v.cvss3Score === null && v.cvss3Vector === null)
    return { severity: v.severity, method: 'other' };
  return {
    ...(v.cvss3Score === null ? {} : { score: v.cvss3Score }),
    severity: v.cvss3Score === null ? v.severity : severityFromScore(v.cvss3Score),
    method: v.cvss3Vector?.startsWith('CVSS:3.1/') === true ? 'CVSSv31' : 'CVSSv3',
    ...(v.cvss3Vector === null ? {} : { vector: v.cvss3Vector }),
  };
}

/** Fixed sentences about the analysis, then the comment when includeComments put one in the verdict. */
function detailOf(v: Verdict): string {
  const parts: string[] = [];
  if (v.expiresAt !== null) parts.push(`Risk accepted until ${v.expiresAt}.`);
  if (v.acceptanceExpiredAt !== null)
    parts.push(`Risk acceptance expired at ${v.acceptanceExpiredAt}.`);
  if (v.comment !== '') parts.push(v.comment);
  return parts.join('\n\n');
}

function vulnerabilityOf(v: Verdict): CycloneDxVulnerability {
  const detail = detailOf(v);
  return {
    id: v.cve,
    source: { name: 'NVD', url: NVD_URL + v.cve },
    ratings: [ratingOf(v)],
    description: v.title,
    analysis: {
      state: CYCLONEDX_STATE[v.state],
      ...(v.justification === null ? {} : { justification: v.justification }),
      ...(v.response.length === 0 ? {} : { response: v.response }),
      ...(detail === '' ? {} : { detail }),
      firstIssued: v.firstIssued,
      lastUpdated: v.lastUpdated,
    },
    affects: [{ ref: v.purl }],
  };
}

function componentOf(purl: string): CycloneDxComponent {
  const group = purlNamespace(purl);
  return {
    type: 'library',
    'bom-ref': purl,
    ...(group === '' ? {} : { group }),
    name: purlName(purl),
    version: purlVersion(purl),
    purl,
  };
}

/**
 * A CycloneDX 1.6 VEX BOM of the statements. Deterministic: the same
 * statements (in any order) and options give the same document, its
 * serialNumber included (document-id.ts). Analysis comments are the
 * customer's own words and go into `analysis.detail` only with
 * `options.includeComments` (default false): VEX documents are shared with
 * third parties. Principals and finding ids are never written.
 * Throws VexInputError on a statement that is not a CVE in a versioned purl,
 * or on times that are not ISO 8601.
 */
export function buildCycloneDxVex(
  statements: readonly VexStatement[],
  options: VexOptions,
): CycloneDxVexBom {
  const vs = verdicts(statements, options);
  const purls = [...new Set(vs.map((v) => v.purl))].sort();
  const body = {
    metadata: {
      timestamp: options.timestamp.toISOString(),
      tools: { components: [{ type: 'application' as const, name: 'vulnvault' }] },
      authors: [{ name: options.author }],
      properties: [{ name: 'vulnvault:org', value: options.org }],
    },
    components: purls.map(componentOf),
    vulnerabilities: vs.map(vulnerabilityOf),
  };
  return {
    bomFormat: 'CycloneDX',
    specVersion: '1.6',
    serialNumber: contentUrn('cyclonedx', options.idSeed ?? '', JSON.stringify(body)),
    version: 1,
    ...body,
  };
}
