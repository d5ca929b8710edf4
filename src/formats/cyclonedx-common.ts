// What the CycloneDX JSON and XML parsers share: the BOM read into plain
// records (subject, components, vulnerabilities) is turned into findings here,
// so both encodings give the same findings for the same BOM.
//
//   target      = metadata.component: its purl without version and qualifiers,
//                 else group/name, else ?target= (else 400 scan_target_missing)
//   finding     = one per (vulnerability, affected component)
//   pluginId    = vulnerability id;  fingerprint = the affected component's purl
//                 without version (a version bump keeps the identity)
//   location    = that purl with its version (data, not identity)
//
// Order. CycloneDX writers put metadata and components before vulnerabilities.
// A vulnerability is turned into findings as soon as it is read when its refs
// can be resolved: from the components already read, or because the ref is a
// purl itself. One whose refs may still be resolved by components that come
// later is held (its text clipped) until the end of the document; at most
// PENDING_LIMIT characters are held, more is refused: memory stays bounded.
// The target is fixed by the first vulnerability (or the end): a
// metadata.component after the vulnerabilities is refused, never guessed.

import { VaultError } from '../core/errors.js';
import {
  ANALYSIS_JUSTIFICATIONS,
  ANALYSIS_RESPONSES,
  clipText,
  cvesIn,
  FIELD_LIMITS,
  newFinding,
  rankOf,
  severityFromScore,
  severityFromWord,
  type AnalysisJustification,
  type AnalysisResponse,
  type AnalysisState,
  type ScannedFinding,
  type ScannerAnalysis,
  type Severity,
} from '../core/finding.js';
import { targetOrMissing, type ParseOptions, type ScanSink } from './format.js';
import { identityKey, isPurl, purlName, purlWithoutVersion, withoutVersionSuffix } from './purl.js';

export const CYCLONEDX_SCANNER = 'cyclonedx';
/** 1.7 too: current grype and Trivy write it, and its vulnerabilities are those of 1.6. */
export const CYCLONEDX_VERSIONS: ReadonlySet<string> = new Set(['1.4', '1.5', '1.6', '1.7']);
/** Nested components are followed this deep (JSON); deeper ones are not resolved. */
export const MAX_COMPONENT_NESTING = 6;
/** Characters of vulnerabilities held while waiting for the components they refer to. */
export const PENDING_LIMIT = 4_000_000;

/** A component as far as findings need it. */
export interface CdxComponent {
  bomRef: string;
  purl: string;
  group: string;
  name: string;
  version: string;
}

export interface CdxRating {
  severity: string;
  score: number | null;
  method: string;
  vector: string;
}

export interface CdxAnalysis {
  state: string;
  justification: string;
  responses: string[];
  detail: string;
}

/** One `vulnerabilities[]` entry, strings as written (the parsers clip them). */
export interface CdxVulnerability {
  id: string;
  ratings: CdxRating[];
  /** ids of `references[]` (other names of the same vulnerability). */
  referenceIds: string[];
  description: string;
  detail: string;
  recommendation: string;
  workaround: string;
  analysis: CdxAnalysis | null;
  /** `affects[].ref` */
  affects: string[];
}

export function emptyComponent(): CdxComponent {
  return { bomRef: '', purl: '', group: '', name: '', version: '' };
}

export function emptyVulnerability(): CdxVulnerability {
  return {
    id: '',
    ratings: [],
    referenceIds: [],
    description: '',
    detail: '',
    recommendation: '',
    workaround: '',
    analysis: null,
    affects: [],
  };
}

export function cycloneDxInvalid(what: string): VaultError {
  return new VaultError('cyclonedx_invalid', `CycloneDX: ${what}; nothing was stored`);
}

/** A vulnerability read but not yet turned into findings. */
interface Pending {
  base: ScannedFinding;
  refs: string[];
}

interface Resolved {
  fingerprint: string;
  location: string;
  name: string;
}

/**
 * Receives the BOM in document order from either parser and reports findings
 * and the covered target to the sink.
 */
export class CycloneDxAssembler {
  private readonly components = new Map<string, CdxComponent>();
  private subject: CdxComponent | undefined;
  private target: string | undefined;
  private componentsSeen = false;
  private pending: Pending[] = [];
  private pendingSize = 0;

  constructor(
    private readonly sink: ScanSink,
    private readonly options: ParseOptions,
  ) {}

  /** metadata.component, once complete. */
  setSubject(c: CdxComponent): void {
    if (this.target !== undefined) {
      throw cycloneDxInvalid(
        'metadata.component comes after the vulnerabilities; the target must be known first',
      );
    }
    this.subject = c;
    this.addComponent(c, false);
  }

  /** A component (nested ones too), once complete; topLevel for `components[]` itself. */
  addComponent(c: CdxComponent, topLevel: boolean): void {
    if (topLevel) this.componentsSeen = true;
    if (c.bomRef !== '' && !this.components.has(c.bomRef)) this.components.set(c.bomRef, c);
  }

  /** Says that `components[]` has started (so refs read from now on are final). */
  componentsStarted(): void {
    this.componentsSeen = true;
  }

  /** One vulnerability; `position` says where it is ("vulnerability 3", "… (line 40)"). */
  vulnerability(v: CdxVulnerability, position: string): void {
    const base = this.base(v, position);
    const refs = [...new Set(v.affects.map((r) => r.trim()).filter((r) => r !== ''))];
    if (refs.length === 0) {
      // Nothing named: the BOM's subject itself is affected.
      this.emit(base, this.subject ? this.resolve(this.subject.bomRef, this.subject) : null);
      return;
    }
    const waiting: string[] = [];
    for (const ref of refs) {
      const c = this.components.get(ref);
      if (c !== undefined || this.componentsSeen || isPurl(ref)) {
        this.emit(base, this.resolve(ref, c));
      } else {
        waiting.push(ref);
      }
    }
    if (waiting.length > 0) this.hold(base, waiting, position);
  }

  /** End of the document: declares the target and resolves what was held. */
  end(): void {
    this.fixTarget();
    const held = this.pending;
    this.pending = [];
    for (const p of held) {
      for (const ref of p.refs) this.emit(p.base, this.resolve(ref, this.components.get(ref)));
    }
  }

  private fixTarget(): string {
    if (this.target === undefined) {
      this.target = clipText(
        subjectTarget(this.subject) || targetOrMissing('CycloneDX', this.options),
        FIELD_LIMITS.asset + 1,
      );
      this.sink.asset(CYCLONEDX_SCANNER, this.target);
    }
    return this.target;
  }

  private hold(base: ScannedFinding, refs: string[], position: string): void {
    this.pendingSize +=
      base.description.length +
      base.solution.length +
      base.evidence.length +
      base.title.length +
      200;
    for (const r of refs) this.pendingSize += r.length;
    if (this.pendingSize > PENDING_LIMIT) {
      throw cycloneDxInvalid(
        `${position} and those before it refer to components not listed yet, more than ` +
          `${PENDING_LIMIT} characters of them; list components before vulnerabilities ` +
          '(as CycloneDX tools do)',
      );
    }
    this.pending.push({ base, refs });
  }

  private resolve(ref: string, c: CdxComponent | undefined): Resolved {
    const purl = c?.purl || (isPurl(ref) ? ref : '');
    if (purl !== '') {
      return {
        fingerprint: purlWithoutVersion(purl),
        location: purl,
        name: c?.name || purlName(purl),
      };
    }
    if (c !== undefined && c.name !== '') {
      // No purl: group/name. Not the bom-ref: several generators make bom-refs
      // afresh on every run (random UUIDs, per-run package ids).
      const name = c.group !== '' ? `${c.group}/${c.name}` : c.name;
      return {
        fingerprint: name,
        location: c.version !== '' ? `${name}@${c.version}` : name,
        name: c.name,
      };
    }
    return { fingerprint: withoutVersionSuffix(ref), location: ref, name: ref };
  }

  private emit(base: ScannedFinding, r: Resolved | null): void {
    const asset = this.fixTarget();
    const name = r?.name || asset;
    void this.sink.finding({
      ...base,
      asset,
      fingerprint: r ? identityKey(r.fingerprint, FIELD_LIMITS.fingerprint) : '',
      location: r ? clipText(r.location, FIELD_LIMITS.location) : '',
      title: clipText(`${base.pluginId} in ${name}`, FIELD_LIMITS.title),
    });
  }

  /** Everything of a finding that does not depend on the affected component. */
  private base(v: CdxVulnerability, position: string): ScannedFinding {
    const id = v.id.trim();
    if (id === '') throw cycloneDxInvalid(`${position} has no id`);
    const rating = ratingsSeverity(v.ratings);
    const cves = cvesIn(id);
    for (const r of v.referenceIds) {
      for (const c of cvesIn(r)) if (!cves.includes(c)) cves.push(c);
    }
    const solution = [v.recommendation, v.workaround].filter((s) => s.trim() !== '').join('\n\n');
    return newFinding({
      asset: '',
      scanner: CYCLONEDX_SCANNER,
      pluginId: identityKey(id, FIELD_LIMITS.pluginId),
      title: '',
      ...rating,
      cves: cves.slice(0, FIELD_LIMITS.cves),
      description: clipText(v.description, FIELD_LIMITS.text),
      solution: clipText(solution, FIELD_LIMITS.text),
      evidence: clipText(v.detail, FIELD_LIMITS.text),
      analysis: v.analysis ? toAnalysis(v.analysis, position) : null,
    });
  }
}

function subjectTarget(s: CdxComponent | undefined): string {
  if (s === undefined) return '';
  if (s.purl.trim() !== '') return purlWithoutVersion(s.purl.trim(), true);
  const name = s.name.trim();
  if (name === '') return '';
  return s.group.trim() !== '' ? `${s.group.trim()}/${name}` : name;
}

const CVSS_METHODS = new Set(['CVSSv2', 'CVSSv3', 'CVSSv31', 'CVSSv4']);

/**
 * The highest rating wins: its severity word, else (CVSS methods only) its
 * score on the CVSS v3 scale. Scores of other methods (EPSS and KEV as
 * grype writes them: method "other") rate no severity. No rating → info.
 */
export function ratingsSeverity(
  ratings: readonly CdxRating[],
): Pick<
  ScannedFinding,
  'severity' | 'severityRaw' | 'cvss3Score' | 'cvss3Vector' | 'cvss2Score' | 'cvss2Vector'
> {
  let severity: Severity | undefined;
  let raw = '';
  let cvss3Score: number | null = null;
  let cvss3Vector: string | null = null;
  let cvss2Score: number | null = null;
  let cvss2Vector: string | null = null;
  for (const r of ratings) {
    const method = r.method.trim();
    const cvss = CVSS_METHODS.has(method);
    const score = cvss ? r.score : null;
    if ((method === 'CVSSv3' || method === 'CVSSv31') && score !== null && cvss3Score === null) {
      cvss3Score = score;
      cvss3Vector = clipText(r.vector.trim(), FIELD_LIMITS.vector) || null;
    } else if (method === 'CVSSv2' && score !== null && cvss2Score === null) {
      cvss2Score = score;
      cvss2Vector = clipText(r.vector.trim(), FIELD_LIMITS.vector) || null;
    }
    const word = severityFromWord(r.severity);
    const s = word ?? (score !== null ? severityFromScore(score) : undefined);
    if (s !== undefined && (severity === undefined || rankOf(s) > rankOf(severity))) {
      severity = s;
      raw = word !== undefined ? r.severity.trim() : `${method} ${score}`;
    }
  }
  return {
    severity: severity ?? 'info',
    severityRaw: clipText(raw || 'unrated', 64),
    cvss3Score,
    cvss3Vector,
    cvss2Score,
    cvss2Vector,
  };
}

// CycloneDX analysis.state → ours: the same words, resolved_with_pedigree is resolved.
const STATES: Readonly<Record<string, AnalysisState>> = {
  resolved: 'resolved',
  resolved_with_pedigree: 'resolved',
  exploitable: 'exploitable',
  in_triage: 'in_triage',
  false_positive: 'false_positive',
  not_affected: 'not_affected',
};

function toAnalysis(a: CdxAnalysis, position: string): ScannerAnalysis | null {
  const state = a.state.trim();
  const justification = a.justification.trim();
  if (state === '' && justification === '' && a.responses.length === 0) return null;
  const s = Object.hasOwn(STATES, state) ? STATES[state] : undefined;
  if (s === undefined) {
    throw cycloneDxInvalid(`${position}: analysis.state is not a CycloneDX analysis state`);
  }
  if (
    justification !== '' &&
    !(ANALYSIS_JUSTIFICATIONS as readonly string[]).includes(justification)
  ) {
    throw cycloneDxInvalid(`${position}: analysis.justification is not a CycloneDX justification`);
  }
  const response: AnalysisResponse[] = [];
  for (const r of a.responses.map((x) => x.trim())) {
    if (!(ANALYSIS_RESPONSES as readonly string[]).includes(r)) {
      throw cycloneDxInvalid(
        `${position}: analysis.response holds a value that is not a CycloneDX response`,
      );
    }
    if (!response.includes(r as AnalysisResponse)) response.push(r as AnalysisResponse);
  }
  return {
    state: s,
    justification: justification === '' ? null : (justification as AnalysisJustification),
    response,
    detail: clipText(a.detail, FIELD_LIMITS.text),
  };
}
