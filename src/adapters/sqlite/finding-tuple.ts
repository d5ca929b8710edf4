// How a finding crosses to the import worker (import-worker.ts): without its
// sealed fields, which travel packed in one transferred buffer per batch.

import type { ScannedFinding, ScannerAnalysis } from '../../core/finding.js';

/**
 * A finding without its sealed fields (those travel packed, in `prepared`),
 * as a tuple: structured clone writes no property names for it.
 */
export type FindingTuple = [
  asset: string,
  scanner: string,
  pluginId: string,
  port: number,
  protocol: string,
  title: string,
  severity: ScannedFinding['severity'],
  severityRaw: string,
  cvss3Score: number | null,
  cvss3Vector: string | null,
  cvss2Score: number | null,
  cvss2Vector: string | null,
  cves: string[],
  service: string,
  category: string,
  fingerprint: string,
  location: string,
  /** The analysis without its detail (that travels packed). */
  analysis: Omit<ScannerAnalysis, 'detail'> | null,
];

export function toTuple(f: ScannedFinding): FindingTuple {
  return [
    f.asset,
    f.scanner,
    f.pluginId,
    f.port,
    f.protocol,
    f.title,
    f.severity,
    f.severityRaw,
    f.cvss3Score,
    f.cvss3Vector,
    f.cvss2Score,
    f.cvss2Vector,
    f.cves,
    f.service,
    f.category,
    f.fingerprint,
    f.location,
    f.analysis && {
      state: f.analysis.state,
      justification: f.analysis.justification,
      response: f.analysis.response,
    },
  ];
}

export function fromTuple(t: FindingTuple): ScannedFinding {
  return {
    asset: t[0],
    scanner: t[1],
    pluginId: t[2],
    port: t[3],
    protocol: t[4],
    title: t[5],
    severity: t[6],
    severityRaw: t[7],
    cvss3Score: t[8],
    cvss3Vector: t[9],
    cvss2Score: t[10],
    cvss2Vector: t[11],
    cves: t[12],
    service: t[13],
    category: t[14],
    fingerprint: t[15],
    location: t[16],
    analysis: t[17] && { ...t[17], detail: '' },
    description: '',
    solution: '',
    evidence: '',
  };
}
