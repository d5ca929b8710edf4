// One SARIF result as a finding (sarif.ts streams the log and knows the run):
// its rule (by index, id, tool component, or the declared rule its message
// starts with), severity, identity fingerprint, and the scanner's verdict
// from its suppressions. See sarif.ts for the rules this follows.

import { hash } from 'node:crypto';
import {
  clipText,
  cvesIn,
  FIELD_LIMITS,
  newFinding,
  parseScore,
  severityFromScore,
  severityFromWord,
  type ScannedFinding,
  type ScannerAnalysis,
  type Severity,
} from '../core/finding.js';
import { isObject, str, type JsonValue } from './json-stream.js';

type Obj = { [k: string]: JsonValue };

const LEVELS: Record<string, Severity> = {
  error: 'high',
  warning: 'medium',
  note: 'low',
  none: 'info',
};

/** pluginId of a result that names no rule and matches none. */
export const NO_RULE = '(no rule id)';

export interface Rule {
  id: string;
  title: string;
  level: string;
  securitySeverity: JsonValue | undefined;
  solution: string;
  cves: string[];
  cwes: string[];
}

/** What a run knows of its rules and look-alike results. */
export interface RunRules {
  index: number;
  driverRules: Map<number, Rule>;
  extensionRules: Map<number, Map<number, Rule>>;
  rulesById: Map<string, Rule>;
  /** Occurrences so far of each (rule, path, basis), keyed by 48 bits of its hash. */
  occurrences: Map<number, number>;
}

export function addRule(
  run: RunRules,
  into: Map<number, Rule>,
  index: string | number | undefined,
  value: JsonValue,
): void {
  if (typeof index !== 'number' || !isObject(value)) return;
  const id = clipText(str(value.id).trim(), FIELD_LIMITS.pluginId);
  const props = isObject(value.properties) ? value.properties : {};
  const tags = Array.isArray(props.tags) ? props.tags.map(str).join(' ') : '';
  const cwes = [...new Set([...tags.matchAll(/\bcwe[-/_]?0*(\d+)/gi)].map((m) => `CWE-${m[1]}`))];
  const rule: Rule = {
    id,
    title: clipText(
      collapse(textOf(value.shortDescription)) || collapse(str(value.name)) || id,
      FIELD_LIMITS.title,
    ),
    level: isObject(value.defaultConfiguration) ? str(value.defaultConfiguration.level) : '',
    securitySeverity: props['security-severity'],
    solution: clipText(textOf(value.help) || textOf(value.fullDescription), FIELD_LIMITS.text),
    cves: cvesIn(`${id} ${tags}`).slice(0, FIELD_LIMITS.cves),
    cwes,
  };
  into.set(index, rule);
  if (id !== '' && !run.rulesById.has(id)) run.rulesById.set(id, rule);
}

export function toFinding(
  run: RunRules,
  scope: { scanner: string; target: string; category: string },
  i: number,
  r: Obj,
  invalid: (what: string) => never,
): ScannedFinding | undefined {
  const at = `run ${run.index} result ${i}`;
  const message = isObject(r.message) ? r.message : {};
  const text =
    str(message.text) ||
    str(message.markdown) ||
    (Array.isArray(message.arguments) ? message.arguments.map(str).join(' ') : '');
  const rule = ruleOf(run, r, text);
  const ruleId = clipText(
    str(r.ruleId).trim() || (isObject(r.rule) ? str(r.rule.id).trim() : '') || rule?.id || NO_RULE,
    FIELD_LIMITS.pluginId,
  );

  const loc0 = Array.isArray(r.locations) ? r.locations[0] : undefined;
  const phys = isObject(loc0) && isObject(loc0.physicalLocation) ? loc0.physicalLocation : {};
  const uri = isObject(phys.artifactLocation) ? str(phys.artifactLocation.uri) : '';
  const region = isObject(phys.region) ? phys.region : {};
  const context = isObject(phys.contextRegion) ? phys.contextRegion : {};
  const line = typeof region.startLine === 'number' ? region.startLine : 0;
  const snippet = textOf(region.snippet);

  const props = isObject(r.properties) ? r.properties : {};
  const score = props['security-severity'] ?? rule?.securitySeverity;
  const kind = str(r.kind) || 'fail';
  const level = str(r.level) || (kind === 'fail' ? rule?.level || 'warning' : 'none');
  let severity = scoreSeverity(score);
  let severityRaw = `security-severity ${clipText(str(score), 32)}`;
  if (severity === undefined) {
    severity = LEVELS[level];
    severityRaw = level;
    if (severity === undefined) invalid(`${at} has an unknown level`);
  }

  const cwes = rule?.cwes.length ? `\n\nCWE: ${rule.cwes.join(', ')}` : '';
  return newFinding({
    asset: scope.target,
    scanner: scope.scanner,
    category: scope.category,
    pluginId: ruleId,
    protocol: 'sarif',
    fingerprint: fingerprintOf(run, scope.scanner, ruleId, uri, r, snippet, text),
    location: clipText(
      uri !== '' && Number.isInteger(line) && line > 0 ? `${uri}:${line}` : uri,
      FIELD_LIMITS.location,
    ),
    title: rule?.title || ruleId,
    severity,
    severityRaw,
    cves: rule?.cves ?? cvesIn(ruleId),
    description: clipText(text + cwes, FIELD_LIMITS.text),
    solution: rule?.solution ?? '',
    evidence: clipText(snippet || textOf(context.snippet), FIELD_LIMITS.text),
    analysis: analysisOf(r.suppressions),
  });
}

/**
 * The result's rule: by rule.toolComponent.index + rule.index/id in
 * tool.extensions, by ruleIndex/rule.index in tool.driver.rules, by id in
 * either; a result naming no rule at all (Gitleaks 7 SARIF) takes the
 * declared rule whose id its message starts with; the id so found is the
 * rule's, not text from the message.
 */
function ruleOf(run: RunRules, r: Obj, message: string): Rule | undefined {
  const ref = isObject(r.rule) ? r.rule : {};
  const id = str(r.ruleId).trim() || str(ref.id).trim();
  const index = typeof r.ruleIndex === 'number' ? r.ruleIndex : ref.index;
  const component = isObject(ref.toolComponent) ? ref.toolComponent.index : undefined;
  const pool = typeof component === 'number' ? run.extensionRules.get(component) : run.driverRules;
  const byIndex = typeof index === 'number' ? pool?.get(index) : undefined;
  if (byIndex !== undefined && (id === '' || byIndex.id === id)) return byIndex;
  if (id !== '') return run.rulesById.get(id);
  if (typeof index === 'number') return undefined;
  let best: Rule | undefined;
  for (const [ruleId, rule] of run.rulesById) {
    const next = message.charAt(ruleId.length);
    if (message.startsWith(ruleId) && (next === '' || next === ' ')) {
      if (best === undefined || ruleId.length > best.id.length) best = rule;
    }
  }
  return best;
}

/** A CVSS-scale number, or a word (Semgrep writes "HIGH"), else undefined. */
function scoreSeverity(v: JsonValue | undefined): Severity | undefined {
  if (typeof v !== 'string' && typeof v !== 'number') return undefined;
  const score = parseScore(v);
  return score !== null ? severityFromScore(score) : severityFromWord(String(v));
}

function fingerprintOf(
  run: RunRules,
  scanner: string,
  ruleId: string,
  path: string,
  r: Obj,
  snippet: string,
  message: string,
): string {
  const partial = isObject(r.partialFingerprints) ? r.partialFingerprints : undefined;
  let primary: string[] | undefined;
  if (partial !== undefined) {
    for (const k in partial) {
      if (PRIMARY.test(k)) (primary ??= []).push(k);
    }
  }
  const basis =
    serialise(r.fingerprints, undefined) ||
    serialise(partial, primary) ||
    (snippet.trim() !== ''
      ? `snippet\0${scanner}\0${collapse(snippet)}`
      : `message\0${scanner}\0${collapse(message).replace(/\d+/g, '0')}`);
  // One-shot hashes: a Hash object per result cost more than the hashing.
  const digest = hash('sha256', `${ruleId}\0${path}\0${basis}`, 'buffer');
  const key = digest.readUIntBE(0, 6);
  const n = run.occurrences.get(key) ?? 0;
  run.occurrences.set(key, n + 1);
  const final =
    n === 0 ? digest : hash('sha256', Buffer.concat([digest, Buffer.from(`#${n}`)]), 'buffer');
  return final.toString('base64url').slice(0, 32);
}

const PRIMARY = /primaryLocation/i;

/** key=value lines in key order (the chosen keys, or all), '' when there is none. */
function serialise(v: JsonValue | undefined, keys: string[] | undefined): string {
  if (!isObject(v)) return '';
  const list = keys ?? Object.keys(v);
  if (list.length > 1) list.sort();
  let out = '';
  for (let i = 0; i < list.length; i++) {
    const k = list[i] as string;
    const x = v[k];
    out += `${i === 0 ? '' : '\n'}${k}=${typeof x === 'string' ? x : JSON.stringify(x)}`;
  }
  return out;
}

/**
 * A result's suppressions as the scanner's verdict. Status rejected: none;
 * underReview: in_triage; accepted (or no status) of either kind (inSource,
 * external): false_positive, unless the justification says otherwise —
 * "won't fix"/"accepted risk" → exploitable + will_not_fix (still active: a
 * risk acceptance needs an expiry a person gives), "mitigated"/"protected"/
 * "sanitized"/"validated" → not_affected + protected_by_mitigating_control,
 * "unreachable"/"dead code" → not_affected + code_not_reachable, "not
 * affected"/"not applicable"/"not exploitable"/"test code" → not_affected.
 */
function analysisOf(v: JsonValue | undefined): ScannerAnalysis | null {
  if (!Array.isArray(v)) return null;
  let review: ScannerAnalysis | null = null;
  for (const s of v) {
    if (!isObject(s)) continue;
    const status = str(s.status);
    const detail = clipText(str(s.justification), FIELD_LIMITS.text);
    if (status === 'rejected') continue;
    if (status === 'underReview') {
      review ??= { state: 'in_triage', justification: null, response: [], detail };
      continue;
    }
    return fromJustification(detail);
  }
  return review;
}

function fromJustification(detail: string): ScannerAnalysis {
  const j = detail.toLowerCase();
  const a = (
    state: ScannerAnalysis['state'],
    justification: ScannerAnalysis['justification'] = null,
    response: ScannerAnalysis['response'] = [],
  ): ScannerAnalysis => ({ state, justification, response, detail });
  if (/\bfalse[ -]?positive/.test(j)) return a('false_positive');
  if (/won'?t fix|will not fix|wontfix|accepted risk|risk accepted/.test(j)) {
    return a('exploitable', null, ['will_not_fix']);
  }
  if (/\b(mitigated|protected|sanitized|sanitised|validated)\b/.test(j)) {
    return a('not_affected', 'protected_by_mitigating_control');
  }
  if (/\b(unreachable|not reachable|dead code)\b/.test(j)) {
    return a('not_affected', 'code_not_reachable');
  }
  if (/\b(not affected|not applicable|not exploitable|test code)\b/.test(j)) {
    return a('not_affected');
  }
  return a('false_positive');
}

function textOf(v: JsonValue | undefined): string {
  return isObject(v) ? str(v.text) || str(v.markdown) : '';
}

function collapse(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}
