// The Finding model (DESIGN.md §5) as the format parsers produce it, and the
// severity mapping every parser shares. Identity of a finding:
// (org, asset, scanner, pluginId, port, protocol).

export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const STATUSES = ['open', 'fixed', 'reopened'] as const;
export type FindingStatus = (typeof STATUSES)[number];

/** One finding as a scan reports it, before it meets the store. */
export interface ScannedFinding {
  asset: string;
  scanner: string;
  pluginId: string;
  port: number;
  protocol: string;
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
}

/** An asset a scan covers: its open findings absent from the scan become fixed. */
export interface CoveredAsset {
  scanner: string;
  asset: string;
}

/** Upper bounds that keep one finding's memory small whatever the input. */
export const FIELD_LIMITS = {
  asset: 255,
  scanner: 128,
  pluginId: 255,
  protocol: 32,
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
