// Grype JSON reports (grype … -o json), streamed match by match. One finding
// per match, scanner "grype", category ''. Target: ?target= if given, else the
// report's source (source.target.userInput for an image, the path for a
// directory or file). Grype writes `source` after all the matches, so without
// ?target= the findings are held until it comes, up to a bound; a report with
// more matches than that needs ?target=. ignoredMatches are imported only when
// a VEX statement (vex-status) ignored them, with that verdict: Grype also
// puts there matches its own rules drop (duplicates of OS-owned files, kernel
// headers, --only-fixed), which say nothing about the target.

import { VaultError } from '../core/errors.js';
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
import {
  artifactTarget,
  fingerprintOf,
  justificationOf,
  purlWithoutVersion,
  withoutVersion,
} from './artifact-scan.js';
import type { FormatParser, ParseOptions, ScanSink } from './format.js';
import { isObject, jsonStreamParser, str, type JsonValue } from './json-stream.js';

const GRYPE = 'grype';
/** Findings held while waiting for `source`: about 10 MB for a typical match. */
const HOLD_MAX_FINDINGS = 20_000;
const HOLD_MAX_CHARS = 16 * 1024 * 1024;

type Obj = { [k: string]: JsonValue };

export function grypeParser(sink: ScanSink, options: ParseOptions): FormatParser {
  let asset: string | undefined;
  let descriptor: string | undefined;
  let held: ScannedFinding[] = [];
  let heldChars = 0;

  const invalid = (what: string): never => {
    throw new VaultError('grype_invalid', `Grype: ${what}; nothing was stored`);
  };
  const fix = (named: string | undefined) => {
    asset = artifactTarget(named, options, 'Grype', 'grype_invalid');
    sink.asset(GRYPE, asset, '');
    for (const f of held) void sink.finding({ ...f, asset });
    held = [];
  };
  const emit = (f: ScannedFinding) => {
    if (asset === undefined && options.target) fix(undefined);
    if (asset !== undefined) {
      void sink.finding({ ...f, asset });
      return;
    }
    held.push(f);
    heldChars += 512 + f.description.length + f.solution.length + f.evidence.length;
    if (held.length > HOLD_MAX_FINDINGS || heldChars > HOLD_MAX_CHARS) {
      throw new VaultError(
        'scan_target_missing',
        `Grype: the report's source (its target) comes after more than ${held.length - 1} ` +
          'matches, too many to hold; give the target with ?target=NAME ' +
          '(vulnvault upload --target NAME); nothing was stored',
      );
    }
  };

  const inner = jsonStreamParser({
    paths: ['$.matches.*', '$.ignoredMatches.*', '$.source.target', '$.descriptor.name'],
    shapeError: 'grype_invalid',
    what: 'the Grype report',
    onValue(path, value) {
      const [top, i] = path;
      if (top === 'descriptor') descriptor = str(value);
      else if (top === 'source') {
        if (asset === undefined) fix(sourceName(value));
      } else if (typeof i !== 'number') invalid(`${String(top)} must be an array`);
      else if (top === 'matches') emit(matchFinding(value, `matches[${i}]`, invalid));
      else {
        const f = ignoredFinding(value, `ignoredMatches[${i}]`, invalid);
        if (f) emit(f);
      }
    },
  });

  return {
    write: (chunk) => inner.write(chunk),
    end() {
      void inner.end();
      if (descriptor !== GRYPE)
        invalid('descriptor.name must be "grype" (the report of grype -o json)');
      if (asset === undefined) fix(undefined);
    },
  };
}

/** What the user scanned: an image reference, a directory or file path, a purl… */
function sourceName(target: JsonValue): string {
  if (!isObject(target)) return str(target);
  return str(target.userInput) || str(target.path) || str(target.name);
}

function list(v: JsonValue | undefined): JsonValue[] {
  return Array.isArray(v) ? v : [];
}

/** OS package managers' databases name a package once; language packages may have copies. */
const OS_TYPES = new Set(['deb', 'rpm', 'apk', 'alpm', 'portage']);

function matchFinding(m: JsonValue, where: string, invalid: (w: string) => never) {
  if (!isObject(m)) invalid(`${where} is not an object`);
  if (!isObject(m.vulnerability)) invalid(`${where} has no vulnerability`);
  if (!isObject(m.artifact)) invalid(`${where} has no artifact`);
  const v = m.vulnerability;
  const a = m.artifact;
  const id = str(v.id).trim();
  if (id === '') invalid(`${where} has no vulnerability.id`);
  if (id.length > FIELD_LIMITS.pluginId) invalid(`${where}: vulnerability.id is too long`);
  const name = str(a.name).trim();
  if (name === '') invalid(`${where} has no artifact.name`);
  const version = str(a.version);
  const type = str(a.type);
  const purl = str(a.purl);
  const related = list(m.relatedVulnerabilities).filter(isObject);
  const paths = [...new Set(list(a.locations).map((l) => (isObject(l) ? str(l.path) : '')))].filter(
    (p) => p !== '',
  );
  // Two copies of a library (two jars in different directories) are two
  // findings; the directory, without the version, tells them apart.
  const dirs = OS_TYPES.has(type)
    ? []
    : [...new Set(paths.map((p) => withoutVersion(p.replace(/\/[^/]*$/, ''), version)))].sort();
  const cvss = cvssOf([v, ...related]);
  const sevRaw = str(v.severity);
  return newFinding({
    asset: '',
    scanner: GRYPE,
    pluginId: id,
    fingerprint: fingerprintOf(['package', type, name, purlWithoutVersion(purl), ...dirs]),
    location: clipText(purl || `${name}@${version}`, FIELD_LIMITS.location),
    title: clipText(`${id} in ${name}`, FIELD_LIMITS.title),
    severity: severityOf(sevRaw, cvss.cvss3Score),
    severityRaw: sevRaw,
    ...cvss,
    cves: [...new Set([id, ...related.map((r) => str(r.id))].flatMap(cvesIn))],
    description: clipText(
      [
        str(v.description) || related.map((r) => str(r.description)).find((d) => d !== '') || '',
        str(v.dataSource) || str(list(v.urls ?? v.links)[0]), // links: grype before 0.8
      ]
        .filter((t) => t !== '')
        .join('\n\n'),
      FIELD_LIMITS.text,
    ),
    solution: solutionOf(v, name),
    evidence: clipText(
      `${name} ${version}${type !== '' ? ` (${type})` : ''}` +
        (paths.length > 0 ? ` at ${paths.join(', ')}` : ''),
      FIELD_LIMITS.text,
    ),
  });
}

/** Negligible (Debian/Ubuntu "not worth fixing") and Unknown → info. */
function severityOf(raw: string, cvss3: number | null): Severity {
  const w = raw.trim().toLowerCase();
  if (w === 'negligible' || w === 'unknown') return 'info';
  return severityFromWord(w) ?? (cvss3 !== null ? severityFromScore(cvss3) : 'info');
}

type Cvss = Pick<ScannedFinding, 'cvss3Score' | 'cvss3Vector' | 'cvss2Score' | 'cvss2Vector'>;

/** The first v3 and v2 scores: the match's own record first, then the related (NVD) ones. */
function cvssOf(records: Obj[]): Cvss {
  const out: Cvss = { cvss3Score: null, cvss3Vector: null, cvss2Score: null, cvss2Vector: null };
  const take = (major: string, score: number | null, vector: string) => {
    if (score === null) return;
    const vec = clipText(vector, FIELD_LIMITS.vector) || null;
    if (major === '3' && out.cvss3Score === null) [out.cvss3Score, out.cvss3Vector] = [score, vec];
    if (major === '2' && out.cvss2Score === null) [out.cvss2Score, out.cvss2Vector] = [score, vec];
  };
  for (const r of records) {
    for (const c of list(r.cvss)) {
      if (!isObject(c)) continue;
      const base = isObject(c.metrics) ? c.metrics.baseScore : undefined;
      take(
        str(c.version).charAt(0),
        parseScore(typeof base === 'number' ? base : null),
        str(c.vector),
      );
    }
    // grype before 0.8: cvssV3 / cvssV2 objects
    for (const [major, c] of [
      ['3', r.cvssV3],
      ['2', r.cvssV2],
    ] as const) {
      if (!isObject(c)) continue;
      take(major, parseScore(typeof c.baseScore === 'number' ? c.baseScore : null), str(c.vector));
    }
  }
  return out;
}

function solutionOf(v: Obj, name: string): string {
  const fix = isObject(v.fix) ? v.fix : {};
  const versions = list(fix.versions)
    .map((x) => str(x))
    .filter((x) => x !== '');
  const old = str(v.fixedInVersion);
  if (versions.length > 0 || old !== '') {
    return clipText(`Upgrade ${name} to ${versions.join(' or ') || old}.`, FIELD_LIMITS.text);
  }
  switch (str(fix.state)) {
    case 'not-fixed':
      return 'No fixed version is available yet.';
    case 'wont-fix':
      return 'The maintainers will not fix this (wont-fix).';
    default:
      return '';
  }
}

const VEX_STATES: Readonly<Record<string, ScannerAnalysis['state']>> = {
  not_affected: 'not_affected',
  fixed: 'resolved',
};

/** An ignored match carrying a VEX verdict, with that verdict; any other ignored match: null. */
function ignoredFinding(value: JsonValue, where: string, invalid: (w: string) => never) {
  if (!isObject(value)) invalid(`${where} is not an object`);
  const rule = list(value.appliedIgnoreRules)
    .filter(isObject)
    .find((r) => VEX_STATES[str(r['vex-status'])] !== undefined);
  if (rule === undefined) return null;
  const status = str(rule['vex-status']);
  const state = VEX_STATES[status] as ScannerAnalysis['state'];
  const reason = str(rule.reason);
  const f = matchFinding(value, where, invalid);
  f.analysis = {
    state,
    justification:
      state === 'not_affected' ? justificationOf(str(rule['vex-justification'])) : null,
    response: [],
    detail: clipText(`VEX ${status}${reason !== '' ? `: ${reason}` : ''}`, FIELD_LIMITS.text),
  };
  return f;
}
