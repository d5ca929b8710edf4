// What the VEX builders take: one statement per (finding, CVE) of an org's
// analysed package findings, and the options of one export. The builders
// (cyclonedx.ts, openvex.ts) are pure: they read no store and no clock.

import type {
  AnalysisJustification,
  AnalysisResponse,
  FindingStatus,
  Severity,
} from '../core/finding.js';

/**
 * The analysis states a finding can carry: the CycloneDX impact-analysis
 * states vulnvault uses, plus `risk_accepted` (a person's decision to live
 * with an exploitable finding until `expiresAt`), which neither CycloneDX nor
 * OpenVEX has and which the builders translate.
 */
export const VEX_ANALYSIS_STATES = [
  'in_triage',
  'exploitable',
  'false_positive',
  'not_affected',
  'risk_accepted',
  'resolved',
] as const;
export type VexAnalysisState = (typeof VEX_ANALYSIS_STATES)[number];

/** A finding's analysis as the store keeps it (issue 16 item 1). */
export interface VexAnalysis {
  state: VexAnalysisState;
  /** CycloneDX vocabulary; meaningful for `not_affected`. */
  justification: AnalysisJustification | null;
  response: readonly AnalysisResponse[];
  /** The customer's own words: exported only with `includeComments` (see VexOptions). */
  comment: string;
  source: 'scanner' | 'user';
  /** The principal who set it: never exported. */
  by: string | null;
  /** ISO 8601 time of the change. */
  at: string;
  /** ISO 8601; set for `risk_accepted` only. */
  expiresAt: string | null;
}

/** One vulnerability (a CVE) in one package of one finding. */
export interface VexStatement {
  /** vulnvault's finding id: used to order ties, never exported. */
  findingId: string;
  /** `CVE-YYYY-NNNN…` */
  cve: string;
  /** A package URL with its version, e.g. `pkg:maven/org.apache.logging.log4j/log4j-core@2.13.2`. */
  purl: string;
  /** The rule's or plugin's title (never free text). */
  title: string;
  severity: Severity;
  cvss3Score: number | null;
  cvss3Vector: string | null;
  /** null: nobody (neither a scanner nor a person) has given a verdict. */
  analysis: VexAnalysis | null;
  /** ISO 8601 */
  firstSeen: string;
  /** ISO 8601 */
  lastSeen: string;
  status: FindingStatus;
}

export interface VexOptions {
  /** The org exported (recorded in the document; part of its identity). */
  org: string;
  /** Who issues the document, e.g. the org's security team: OpenVEX `author`, CycloneDX `metadata.authors`. */
  author: string;
  /** The document's time (injected clock); also the instant a risk acceptance is judged expired at. */
  timestamp: Date;
  /**
   * Mixed into the document id (CycloneDX serialNumber, OpenVEX @id), which is
   * otherwise derived from the document's content: give a different seed to
   * get a different id for the same content. Default ''.
   */
  idSeed?: string | undefined;
  /**
   * Whether analysis comments go into the document (CycloneDX `analysis.detail`,
   * OpenVEX `impact_statement`/`action_statement`). Default false: comments are
   * the customer's own words, and a VEX document is made to be shared with
   * third parties (customers, suppliers, scanners). Without them the documents
   * still carry every machine-readable field and a fixed-vocabulary sentence
   * where a format requires text.
   */
  includeComments?: boolean | undefined;
}
