// One verdict per (CVE, package): what both VEX builders render. It decides
// which analysis counts (a person's over a scanner's, a fixed finding without
// one is resolved, a lapsed risk acceptance is exploitable again) and merges
// the findings that name the same CVE in the same package version (several
// assets, several scanners) into the most cautious of their verdicts, since a
// VEX document speaks of the package, not of the asset it was found on.

import {
  ANALYSIS_RESPONSES,
  FIELD_LIMITS,
  type AnalysisJustification,
  type AnalysisResponse,
} from '../core/finding.js';
import { isPurl, purlName } from '../formats/purl.js';
import type { VexAnalysisState, VexOptions, VexStatement } from './types.js';

/** Input the builders refuse rather than export wrongly (a programming or data error). */
export class VexInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VexInputError';
  }
}

/** What a statement says of the vulnerability and package, and the verdict in force. */
export interface Verdict extends Pick<
  VexStatement,
  'cve' | 'purl' | 'title' | 'severity' | 'cvss3Score' | 'cvss3Vector'
> {
  /** The state in force at the document's time (never `risk_accepted` once lapsed). */
  state: VexAnalysisState;
  /** Kept for `not_affected` only, the one state the vocabularies define it for. */
  justification: AnalysisJustification | null;
  /** Unique, in ANALYSIS_RESPONSES order; `risk_accepted` in force has will_not_fix or can_not_fix. */
  response: AnalysisResponse[];
  /** `risk_accepted` in force: until when (ISO). */
  expiresAt: string | null;
  /** A risk acceptance that lapsed at or before the document's time (ISO); state is then `exploitable`. */
  acceptanceExpiredAt: string | null;
  /** The analysis comment when includeComments, else ''. */
  comment: string;
  /** ISO: when the finding was first seen (triage starts then). */
  firstIssued: string;
  /** ISO: the analysis' time, or the finding's last sighting when it has none. */
  lastUpdated: string;
}

/**
 * The most cautious first: when findings of the same CVE and package disagree,
 * the document says what the least reassuring of them says, so that a VEX
 * statement never clears a package that is still exploitable somewhere.
 */
const CAUTION: readonly VexAnalysisState[] = [
  'exploitable',
  'risk_accepted',
  'in_triage',
  'not_affected',
  'false_positive',
  'resolved',
];

/** Where a CVE is documented: the vulnerabilities' `source` / `@id`. */
export const NVD_URL = 'https://nvd.nist.gov/vuln/detail/';

const CVE_RE = /^CVE-\d{4}-\d{4,19}$/;
const ISO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/;
/** Printable ASCII without spaces: a purl percent-encodes everything else, and the formats need an IRI. */
const PURL_CHARS_RE = /^[\x21-\x7e]+$/;

function iso(s: string | null, what: string, finding: string): string {
  const t = s === null || !ISO_RE.test(s) ? NaN : Date.parse(s);
  if (Number.isNaN(t))
    throw new VexInputError(`finding ${finding}: ${what} is not an ISO 8601 time`);
  return new Date(t).toISOString();
}

/** The version of a purl (after the last `@` of its last path segment), '' when none. */
export function purlVersion(purl: string): string {
  const main = purl.replace(/[?#].*$/, '');
  const at = main.lastIndexOf('@');
  if (at <= main.lastIndexOf('/')) return '';
  const v = main.slice(at + 1);
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
}

/** The purl's namespace (between type and name), percent-decoded; '' when none. */
export function purlNamespace(purl: string): string {
  const main = purl.replace(/[?#].*$/, '');
  const segments = main.slice(main.indexOf('/') + 1).split('/');
  return segments
    .slice(0, -1)
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    })
    .join('/');
}

export function checkStatement(s: VexStatement): void {
  const id = s.findingId;
  if (!CVE_RE.test(s.cve)) throw new VexInputError(`finding ${id}: not a CVE id`);
  if (
    !isPurl(s.purl) ||
    s.purl.length > FIELD_LIMITS.location ||
    !PURL_CHARS_RE.test(s.purl) ||
    purlVersion(s.purl) === '' ||
    purlName(s.purl) === ''
  ) {
    throw new VexInputError(`finding ${id}: not a package URL with a version`);
  }
  if (
    s.cvss3Score !== null &&
    !(Number.isFinite(s.cvss3Score) && s.cvss3Score >= 0 && s.cvss3Score <= 10)
  ) {
    throw new VexInputError(`finding ${id}: CVSS score out of range`);
  }
  if (s.analysis?.state === 'risk_accepted' && s.analysis.expiresAt === null) {
    throw new VexInputError(`finding ${id}: a risk acceptance without expiresAt`);
  }
}

function sortedResponses(r: Iterable<AnalysisResponse>): AnalysisResponse[] {
  const set = new Set(r);
  return ANALYSIS_RESPONSES.filter((x) => set.has(x));
}

/** The verdict one statement gives at `now`. */
export function verdictOf(s: VexStatement, now: Date, includeComments: boolean): Verdict {
  checkStatement(s);
  const firstIssued = iso(s.firstSeen, 'firstSeen', s.findingId);
  const lastSeen = iso(s.lastSeen, 'lastSeen', s.findingId);
  // A person's verdict wins over the scanner-driven status; a scanner's
  // verdict does not survive the finding being fixed (issue 16 item 3).
  const a =
    s.analysis?.source === 'user' || (s.analysis !== null && s.status !== 'fixed')
      ? s.analysis
      : null;
  const base = {
    cve: s.cve,
    purl: s.purl,
    title: s.title,
    severity: s.severity,
    cvss3Score: s.cvss3Score,
    cvss3Vector: s.cvss3Vector,
    firstIssued,
  };
  if (a === null) {
    return {
      ...base,
      state: s.status === 'fixed' ? 'resolved' : 'in_triage',
      justification: null,
      response: [],
      expiresAt: null,
      acceptanceExpiredAt: null,
      comment: '',
      lastUpdated: lastSeen,
    };
  }
  const at = iso(a.at, 'analysis.at', s.findingId);
  const comment = includeComments ? a.comment : '';
  const response = sortedResponses(a.response);
  if (a.state === 'risk_accepted') {
    const expiresAt = iso(a.expiresAt, 'analysis.expiresAt', s.findingId);
    if (Date.parse(expiresAt) <= now.getTime()) {
      // Lapsed (issue 16 item 3: active again at expiresAt, judged at read).
      return {
        ...base,
        state: 'exploitable',
        justification: null,
        response,
        expiresAt: null,
        acceptanceExpiredAt: expiresAt,
        comment,
        lastUpdated: at,
      };
    }
    const accepted: AnalysisResponse = response.includes('can_not_fix')
      ? 'can_not_fix'
      : 'will_not_fix';
    return {
      ...base,
      state: 'risk_accepted',
      justification: null,
      response: sortedResponses([...response, accepted]),
      expiresAt,
      acceptanceExpiredAt: null,
      comment,
      lastUpdated: at,
    };
  }
  return {
    ...base,
    state: a.state,
    justification: a.state === 'not_affected' ? a.justification : null,
    response,
    expiresAt: null,
    acceptanceExpiredAt: null,
    comment,
    lastUpdated: at,
  };
}

function checkOptions(o: VexOptions): void {
  if (o.org === '' || o.author === '') throw new VexInputError('org and author are required');
  if (Number.isNaN(o.timestamp.getTime())) throw new VexInputError('timestamp is not a valid time');
}

/**
 * One verdict per (CVE, purl), ordered by CVE then purl so that the same
 * statements in any order give the same document. Within a group the most
 * cautious state wins (CAUTION); between equals, the latest analysis, then
 * the smallest finding id. firstIssued is the group's earliest.
 */
export function verdicts(statements: readonly VexStatement[], o: VexOptions): Verdict[] {
  checkOptions(o);
  const groups = new Map<string, { v: Verdict; findingId: string }>();
  for (const s of statements) {
    const v = verdictOf(s, o.timestamp, o.includeComments === true);
    const key = `${v.cve}\u0000${v.purl}`;
    const seen = groups.get(key);
    if (seen === undefined) {
      groups.set(key, { v, findingId: s.findingId });
      continue;
    }
    const firstIssued = v.firstIssued < seen.v.firstIssued ? v.firstIssued : seen.v.firstIssued;
    const rank = CAUTION.indexOf(v.state) - CAUTION.indexOf(seen.v.state);
    const wins =
      rank < 0 ||
      (rank === 0 &&
        (v.lastUpdated > seen.v.lastUpdated ||
          (v.lastUpdated === seen.v.lastUpdated && s.findingId < seen.findingId)));
    const kept = wins ? { v, findingId: s.findingId } : seen;
    groups.set(key, { v: { ...kept.v, firstIssued }, findingId: kept.findingId });
  }
  return [...groups.values()]
    .map((g) => g.v)
    .sort((x, y) => cmp(x.cve, y.cve) || cmp(x.purl, y.purl));
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
