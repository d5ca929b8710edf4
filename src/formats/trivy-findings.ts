// One Trivy result entry (a vulnerability, a misconfiguration, a secret, or
// one of those that .trivyignore or VEX modified) as a finding. trivy.ts
// streams the report and gives each entry the result it belongs to.

import {
  clipText,
  cvesIn,
  FIELD_LIMITS,
  newFinding,
  parseScore,
  severityFromWord,
  type ScannedFinding,
  type ScannerAnalysis,
  type Severity,
} from '../core/finding.js';
import { fingerprintOf, justificationOf, withoutVersion } from './artifact-scan.js';
import { isObject, str, type JsonValue } from './json-stream.js';

export const TRIVY = 'Trivy';

/** The result (Results[i]) an entry belongs to: Target, Class and Type come before its entries. */
export interface TrivyResult {
  target: string;
  cls: string;
  type: string;
}

export interface EntryContext {
  asset: string;
  result: TrivyResult;
  /** JSON path of the entry, for error messages: "Results[0].Vulnerabilities[3]". */
  where: string;
  invalid: (what: string) => never;
}

type Obj = { [k: string]: JsonValue };

/** Trivy's own scale: UNKNOWN, LOW, MEDIUM, HIGH, CRITICAL (UNKNOWN → info). */
function severityOf(raw: string): Severity {
  return severityFromWord(raw) ?? 'info';
}

function required(o: Obj, key: string, c: EntryContext): string {
  const v = str(o[key]).trim();
  if (v === '') c.invalid(`${c.where} has no ${key}`);
  if (v.length > FIELD_LIMITS.pluginId) {
    c.invalid(`${c.where}: ${key} is longer than ${FIELD_LIMITS.pluginId} characters`);
  }
  return v;
}

const text = (parts: string[]): string =>
  clipText(parts.filter((p) => p !== '').join('\n\n'), FIELD_LIMITS.text);

/**
 * An OS package result ("alpine:3.9 (alpine 3.9.4)", Class os-pkgs) is keyed
 * by the OS family (its Type) alone: its Target carries the image tag and the
 * OS release, which change with every rebuild on a newer base.
 */
function packageScope(r: TrivyResult, version: string): string {
  const osTarget =
    r.cls === 'os-pkgs' || (r.cls === '' && /\s\([a-z][\w.-]* [^()]*\)$/.test(r.target));
  if (osTarget && r.type !== '') return `os:${r.type}`;
  return withoutVersion(r.target, version);
}

/** CVSS from the CVSS map: nvd first, then the SeveritySource, then the others in file order. */
function cvssOf(
  v: Obj,
): Pick<ScannedFinding, 'cvss3Score' | 'cvss3Vector' | 'cvss2Score' | 'cvss2Vector'> {
  const all = isObject(v.CVSS) ? v.CVSS : {};
  const order = [...new Set(['nvd', str(v.SeveritySource), ...Object.keys(all)])];
  const out = { cvss3Score: null, cvss3Vector: null, cvss2Score: null, cvss2Vector: null } as Pick<
    ScannedFinding,
    'cvss3Score' | 'cvss3Vector' | 'cvss2Score' | 'cvss2Vector'
  >;
  for (const source of order) {
    const c = all[source];
    if (!isObject(c)) continue;
    const s3 = parseScore(typeof c.V3Score === 'number' ? c.V3Score : null);
    if (out.cvss3Score === null && s3 !== null) {
      out.cvss3Score = s3;
      out.cvss3Vector = clipText(str(c.V3Vector), FIELD_LIMITS.vector) || null;
    }
    const s2 = parseScore(typeof c.V2Score === 'number' ? c.V2Score : null);
    if (out.cvss2Score === null && s2 !== null) {
      out.cvss2Score = s2;
      out.cvss2Vector = clipText(str(c.V2Vector), FIELD_LIMITS.vector) || null;
    }
  }
  return out;
}

const NO_FIX: Readonly<Record<string, string>> = {
  affected: 'No fixed version is available yet.',
  will_not_fix: 'The vendor will not fix this (status will_not_fix).',
  fix_deferred: 'The vendor deferred the fix (status fix_deferred).',
  end_of_life: 'The package is end of life: no fix will come (status end_of_life).',
};

export function vulnerabilityFinding(v: JsonValue, c: EntryContext): ScannedFinding {
  if (!isObject(v)) c.invalid(`${c.where} is not an object`);
  const id = required(v, 'VulnerabilityID', c);
  const pkg = required(v, 'PkgName', c);
  const version = str(v.InstalledVersion);
  const pkgPath = str(v.PkgPath);
  const purl = isObject(v.PkgIdentifier) ? str(v.PkgIdentifier.PURL) : '';
  const status = str(v.Status);
  const fixed = str(v.FixedVersion);
  const severityRaw = str(v.Severity);
  return newFinding({
    asset: c.asset,
    scanner: TRIVY,
    pluginId: id,
    fingerprint: fingerprintOf([
      'vulnerability',
      packageScope(c.result, version),
      pkg,
      withoutVersion(pkgPath, version),
    ]),
    location: clipText(
      purl || `${pkgPath || c.result.target}: ${pkg}@${version}`,
      FIELD_LIMITS.location,
    ),
    title: clipText(`${id} in ${pkg}`, FIELD_LIMITS.title),
    severity: severityOf(severityRaw),
    severityRaw,
    ...cvssOf(v),
    cves: cvesIn(id),
    description: text([str(v.Title), str(v.Description), str(v.PrimaryURL)]),
    solution: fixed !== '' ? `Upgrade ${pkg} to ${fixed}.` : (NO_FIX[status] ?? ''),
    evidence: text([
      `${pkg} ${version} installed${pkgPath !== '' ? ` at ${pkgPath}` : ''} (${c.result.target})`,
    ]),
    analysis:
      status === 'not_affected'
        ? {
            state: 'not_affected',
            justification: null,
            response: [],
            detail: 'The advisory source marks this package version as not affected.',
          }
        : null,
  });
}

/**
 * A check id in Trivy's current form ("DS-0002", "AWS-0143", "KSV-0001"):
 * reports before 2026 say "DS002" with AVDID "AVD-DS-0002", or
 * "AVD-AWS-0143"; the same check keeps the same id whatever the version.
 */
function checkId(m: Obj, c: EntryContext): string {
  const avd = str(m.AVDID).trim();
  const id = avd !== '' ? avd : required(m, 'ID', c);
  const bare = id.replace(/^AVD-/, '');
  const old = /^([A-Z]+)(\d{1,4})$/.exec(bare);
  return old ? `${old[1]}-${old[2]?.padStart(4, '0')}` : bare;
}

/** A failed check (Status FAIL); a passed one is no finding (null). */
export function misconfigurationFinding(m: JsonValue, c: EntryContext): ScannedFinding | null {
  if (!isObject(m)) c.invalid(`${c.where} is not an object`);
  const status = str(m.Status) || 'FAIL';
  if (status === 'PASS') return null;
  const id = checkId(m, c);
  const cause = isObject(m.CauseMetadata) ? m.CauseMetadata : {};
  const line = typeof cause.StartLine === 'number' ? cause.StartLine : 0;
  const resource = str(cause.Resource);
  const message = str(m.Message);
  const severityRaw = str(m.Severity);
  return newFinding({
    asset: c.asset,
    scanner: TRIVY,
    pluginId: id,
    // The message names what failed ("Container 'nginx' of Deployment 'web'
    // …"), which tells apart two failures of one check in one file.
    fingerprint: fingerprintOf([
      'misconfiguration',
      c.result.target,
      id,
      resource,
      str(cause.Provider),
      str(cause.Service),
      message,
    ]),
    location: clipText(line > 0 ? `${c.result.target}:${line}` : c.result.target, 1024),
    title: clipText(str(m.Title).trim() || id, FIELD_LIMITS.title),
    severity: severityOf(severityRaw),
    severityRaw,
    description: text([str(m.Description), str(m.PrimaryURL)]),
    solution: text([str(m.Resolution)]),
    evidence: text([message, resource !== '' ? `resource: ${resource}` : '']),
    analysis:
      status === 'EXCEPTION'
        ? {
            state: 'not_affected',
            justification: null,
            response: [],
            detail: 'An exception policy applies to this check.',
          }
        : null,
  });
}

/**
 * A secret. Neither Match nor Code is kept (Trivy masks the secret in them,
 * but the surrounding lines are shown in clear); the fingerprint hashes the
 * masked match so that two secrets of one rule in one file stay apart and a
 * line shift keeps the identity.
 */
export function secretFinding(s: JsonValue, c: EntryContext): ScannedFinding {
  if (!isObject(s)) c.invalid(`${c.where} is not an object`);
  const rule = required(s, 'RuleID', c);
  const title = str(s.Title).trim() || rule;
  const start = typeof s.StartLine === 'number' ? s.StartLine : 0;
  const end = typeof s.EndLine === 'number' ? s.EndLine : start;
  const severityRaw = str(s.Severity);
  const category = str(s.Category);
  return newFinding({
    asset: c.asset,
    scanner: TRIVY,
    pluginId: rule,
    fingerprint: fingerprintOf(['secret', c.result.target, rule, str(s.Match)]),
    location: clipText(start > 0 ? `${c.result.target}:${start}` : c.result.target, 1024),
    title: clipText(title, FIELD_LIMITS.title),
    severity: severityOf(severityRaw),
    severityRaw,
    description: text([
      `A secret matching the rule "${title}"${category !== '' ? ` (${category})` : ''} was found; ` +
        'vulnvault does not store the match.',
    ]),
    solution: 'Revoke and rotate the secret, then remove it from the scanned files.',
    evidence: start > 0 ? `line ${start}${end > start ? `-${end}` : ''}` : '',
  });
}

const MODIFIED: Readonly<Record<string, ScannerAnalysis['state']>> = {
  not_affected: 'not_affected',
  fixed: 'resolved',
  // .trivyignore: the user told Trivy not to report it; no VEX state says
  // exactly that, not_affected is the nearest that takes it out of the count.
  ignored: 'not_affected',
  under_investigation: 'in_triage',
  affected: 'exploitable',
};

/** An entry of ExperimentalModifiedFindings (trivy --show-suppressed), with its verdict. */
export function modifiedFinding(mf: JsonValue, c: EntryContext): ScannedFinding | null {
  if (!isObject(mf)) c.invalid(`${c.where} is not an object`);
  const inner = { ...c, where: `${c.where}.Finding` };
  let f: ScannedFinding | null;
  switch (str(mf.Type)) {
    case 'vulnerability':
      f = vulnerabilityFinding(mf.Finding ?? null, inner);
      break;
    case 'misconfiguration':
      f = misconfigurationFinding(mf.Finding ?? null, inner);
      break;
    case 'secret':
      f = secretFinding(mf.Finding ?? null, inner);
      break;
    default:
      return null; // licenses are not findings here
  }
  const status = str(mf.Status);
  const state = MODIFIED[status];
  if (f === null || state === undefined) return f;
  const statement = str(mf.Statement);
  const source = str(mf.Source);
  f.analysis = {
    state,
    justification: state === 'not_affected' ? justificationOf(statement) : null,
    response: [],
    detail: clipText(
      `${status}${source !== '' ? ` by ${source}` : ''}${statement !== '' ? `: ${statement}` : ''}`,
      FIELD_LIMITS.text,
    ),
  };
  return f;
}
