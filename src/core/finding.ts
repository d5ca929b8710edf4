// The Finding model (DESIGN.md §5) as the format parsers produce it, and the
// severity mapping every parser shares.

export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const STATUSES = ['open', 'fixed', 'reopened'] as const;
export type FindingStatus = (typeof STATUSES)[number];

/**
 * The verdicts a scanner (or, later, a person) gives a finding, in the
 * CycloneDX VEX vocabulary (CycloneDX 1.6 `analysis`).
 */
export const ANALYSIS_STATES = [
  'in_triage',
  'exploitable',
  'false_positive',
  'not_affected',
  'resolved',
] as const;
export type AnalysisState = (typeof ANALYSIS_STATES)[number];

export const ANALYSIS_JUSTIFICATIONS = [
  'code_not_present',
  'code_not_reachable',
  'requires_configuration',
  'requires_dependency',
  'requires_environment',
  'protected_by_compiler',
  'protected_at_runtime',
  'protected_at_perimeter',
  'protected_by_mitigating_control',
] as const;
export type AnalysisJustification = (typeof ANALYSIS_JUSTIFICATIONS)[number];

export const ANALYSIS_RESPONSES = [
  'can_not_fix',
  'will_not_fix',
  'update',
  'rollback',
  'workaround_available',
] as const;
export type AnalysisResponse = (typeof ANALYSIS_RESPONSES)[number];

/** A scanner's own verdict on a finding (SARIF suppressions, CycloneDX analysis). */
export interface ScannerAnalysis {
  state: AnalysisState;
  justification: AnalysisJustification | null;
  response: AnalysisResponse[];
  /** Free text (a suppression's justification, CycloneDX analysis.detail): sealed at rest. */
  detail: string;
}

/** States that take a finding out of the active count. */
export function isInactiveAnalysis(a: { state: string } | null | undefined): boolean {
  return a?.state === 'false_positive' || a?.state === 'not_affected' || a?.state === 'resolved';
}

/**
 * One finding as a scan reports it, before it meets the store.
 *
 * Identity (DESIGN.md §5): (org, asset, scanner, category, pluginId, port,
 * protocol, fingerprint). `asset` is the scan's **target**: the thing scanned
 * (a host for Nessus/OpenVAS/ZAP, a code project for SARIF/Semgrep/Gitleaks,
 * the BOM subject for CycloneDX, the artifact for Trivy/Grype). A scan covers
 * every finding of (asset, scanner, category) it declares through
 * ScanSink.asset: what it no longer reports there becomes fixed.
 *
 * `location` (file:line, purl@version, URL) is data, not identity, so a line
 * shift or a version bump is an update, not a new finding.
 */
export interface ScannedFinding {
  /** The target (see above). */
  asset: string;
  scanner: string;
  /** A sub-division of a tool's coverage of a target (SARIF automationDetails.id); '' when none. */
  category: string;
  /** Rule, plugin, check or vulnerability id. */
  pluginId: string;
  port: number;
  protocol: string;
  /** Identity beyond rule and port/protocol (SARIF fingerprints, package names); '' when none. */
  fingerprint: string;
  /** Where in the target: "src/app.py:12", "pkg:maven/a/b@1.2.3", a URL; '' when none. */
  location: string;
  /** From the rule or plugin, never from free text: it is stored in clear. */
  title: string;
  severity: Severity;
  /** The scanner's own value: Nessus 0–4, SARIF level, CycloneDX rating… */
  severityRaw: string;
  cvss3Score: number | null;
  cvss3Vector: string | null;
  cvss2Score: number | null;
  cvss2Vector: string | null;
  cves: string[];
  description: string;
  solution: string;
  evidence: string;
  service: string;
  /** The scanner's own verdict, or null. */
  analysis: ScannerAnalysis | null;
}

/** A finding with every optional field at its default: what parsers build from. */
export function newFinding(
  f: Pick<ScannedFinding, 'asset' | 'scanner' | 'pluginId' | 'title' | 'severity' | 'severityRaw'> &
    Partial<ScannedFinding>,
): ScannedFinding {
  return {
    category: '',
    port: 0,
    protocol: '',
    fingerprint: '',
    location: '',
    cvss3Score: null,
    cvss3Vector: null,
    cvss2Score: null,
    cvss2Vector: null,
    cves: [],
    description: '',
    solution: '',
    evidence: '',
    service: '',
    analysis: null,
    ...f,
  };
}

/** A target a scan covers: its open findings absent from the scan become fixed. */
export interface CoveredAsset {
  scanner: string;
  asset: string;
  /** '' for formats without categories. */
  category: string;
}

/** Upper bounds that keep one finding's memory small whatever the input. */
export const FIELD_LIMITS = {
  asset: 255,
  scanner: 128,
  category: 255,
  pluginId: 255,
  protocol: 32,
  fingerprint: 128,
  location: 1024,
  title: 1024,
  text: 65_536,
  vector: 256,
  service: 128,
  cves: 1000,
} as const;

/** Nessus 0–4 (also used for any numeric 0–4 scale). */
export function severityFromNessus(raw: string): Severity | undefined {
  const n = /^[0-4]$/.test(raw.trim()) ? Number(raw.trim()) : NaN;
  return Number.isNaN(n) ? undefined : SEVERITIES[n];
}

/** Words used by Nessus/Tenable CSV (Risk: None/Low/…), CycloneDX ratings and others. */
export function severityFromWord(raw: string): Severity | undefined {
  switch (raw.trim().toLowerCase()) {
    case 'none':
    case 'info':
    case 'informational':
      return 'info';
    case 'low':
      return 'low';
    case 'medium':
    case 'moderate':
      return 'medium';
    case 'high':
    case 'important':
      return 'high';
    case 'critical':
      return 'critical';
    default:
      return undefined;
  }
}

/** CVSS v3 qualitative rating of a base score. */
export function severityFromScore(score: number): Severity {
  if (score >= 9) return 'critical';
  if (score >= 7) return 'high';
  if (score >= 4) return 'medium';
  if (score > 0) return 'low';
  return 'info';
}

export function rankOf(s: Severity): number {
  return SEVERITIES.indexOf(s);
}

/** A CVSS score from text or JSON: a number from 0 to 10, else null. */
export function parseScore(raw: string | number | undefined | null): number | null {
  if (raw === undefined || raw === null || raw === '') return null;
  const n = typeof raw === 'number' ? raw : Number(String(raw).trim());
  return Number.isFinite(n) && n >= 0 && n <= 10 ? Math.round(n * 10) / 10 : null;
}

const CVE_RE = /CVE-\d{4}-\d{4,}/g;

/** Every CVE id in a text (a CSV cell may hold several), upper-cased, unique. */
export function cvesIn(text: string): string[] {
  return [...new Set(text.toUpperCase().match(CVE_RE) ?? [])];
}

export function clipText(s: string, max: number): string {
  return s.length > max ? s.slice(0, max) : s;
}
