// OWASP Dependency-Check JSON report (reportSchema 1.x), streamed: a
// dependency's few identifying fields are read value by value (never its
// evidence), its vulnerabilities one at a time.
//
//   target      = projectInfo.name, else ?target= (else 400 scan_target_missing)
//   finding     = one per (dependency, vulnerability), suppressedVulnerabilities
//                 included: those carry analysis not_affected (see below)
//   pluginId    = the vulnerability's name (a CVE id for NVD, OSS Index; the
//                 advisory's name for RetireJS and NPM)
//   fingerprint = the dependency's first package purl without version, else
//                 its filePath with versions taken out, else its fileName
//   location    = filePath, else the purl with its version
//
// A suppressed vulnerability was taken out by the user's suppression file.
// Dependency-Check does not say why (a wrong CPE match, or a verdict that the
// project is not affected); its notes say it in words. Mapped to not_affected
// (no justification, the notes as detail): the claim about the project that
// every suppression makes, where false_positive would claim the match itself
// was wrong.
//
// A dependency's vulnerabilities are held until the dependency is complete
// (the next dependency or the end) unless its purl, filePath and fileName
// were read already, which is the order Dependency-Check writes: so at most
// one dependency's vulnerabilities, reduced to their findings, are kept.

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
  type Severity,
} from '../core/finding.js';
import { identityKey, isPurl, purlName, purlWithoutVersion } from './purl.js';
import { targetOrMissing, type FormatParser, type ParseOptions, type ScanSink } from './format.js';
import { isObject, jsonStreamParser, str, type JsonValue } from './json-stream.js';

const SCANNER = 'dependency-check';

interface Dependency {
  index: number;
  fileName: string;
  filePath: string;
  purl: string;
  /** Whether `packages` was read (a purl, if any, is known). */
  packagesRead: boolean;
  waiting: ScannedFinding[];
}

function invalid(what: string): VaultError {
  return new VaultError(
    'dependency_check_invalid',
    `Dependency-Check: ${what}; nothing was stored`,
  );
}

export function dependencyCheckParser(sink: ScanSink, options: ParseOptions = {}): FormatParser {
  let reportSchema: string | undefined;
  let projectName: string | undefined;
  let target: string | undefined;
  let dep: Dependency | undefined;

  const fixTarget = (): string => {
    if (target === undefined) {
      target = clipText(
        projectName?.trim() || targetOrMissing('Dependency-Check', options),
        FIELD_LIMITS.asset + 1,
      );
      sink.asset(SCANNER, target);
    }
    return target;
  };

  const emit = (d: Dependency, base: ScannedFinding) => {
    const asset = fixTarget();
    const name = (d.purl !== '' ? purlName(d.purl) : '') || d.fileName || d.filePath;
    const fingerprint =
      d.purl !== ''
        ? purlWithoutVersion(d.purl)
        : d.filePath !== ''
          ? withoutVersions(d.filePath)
          : d.fileName;
    void sink.finding({
      ...base,
      asset,
      fingerprint: identityKey(fingerprint, FIELD_LIMITS.fingerprint),
      location: clipText(d.filePath || d.purl, FIELD_LIMITS.location),
      title: clipText(`${base.pluginId} in ${name}`, FIELD_LIMITS.title),
    });
  };

  /** The current dependency is complete: its held findings go out. */
  const close = () => {
    if (dep === undefined) return;
    const d = dep;
    dep = undefined;
    for (const base of d.waiting) emit(d, base);
  };

  const dependency = (index: number): Dependency => {
    if (dep?.index !== index) {
      close();
      dep = { index, fileName: '', filePath: '', purl: '', packagesRead: false, waiting: [] };
    }
    return dep;
  };

  const inner = jsonStreamParser({
    paths: [
      '$.reportSchema',
      '$.projectInfo.name',
      '$.dependencies.*.fileName',
      '$.dependencies.*.filePath',
      '$.dependencies.*.packages',
      '$.dependencies.*.vulnerabilities.*',
      '$.dependencies.*.suppressedVulnerabilities.*',
    ],
    shapeError: 'dependency_check_invalid',
    what: 'the Dependency-Check report',
    onValue(path, value) {
      const top = path[0];
      if (top !== 'dependencies') {
        close();
        if (top === 'reportSchema') {
          reportSchema = str(value);
          if (!/^1\.\d+$/.test(reportSchema)) throw invalid('reportSchema must be 1.x');
        } else {
          if (target !== undefined) {
            throw invalid(
              'projectInfo comes after the dependencies; the target must be known first',
            );
          }
          projectName = str(value);
        }
        return;
      }
      const index = path[1];
      if (typeof index !== 'number') throw invalid('dependencies must be an array');
      const d = dependency(index);
      const key = path[2];
      if (key === 'fileName') {
        d.fileName = str(value).trim().slice(0, 1024);
      } else if (key === 'filePath') {
        d.filePath = str(value).trim().slice(0, 1024);
      } else if (key === 'packages') {
        d.packagesRead = true;
        for (const p of Array.isArray(value) ? value : []) {
          const id = isObject(p) ? str(p.id).trim() : '';
          if (isPurl(id)) {
            d.purl = id.slice(0, 1024);
            break;
          }
        }
      } else {
        const n = path[3];
        const position =
          `dependency ${index + 1}, ${key === 'vulnerabilities' ? '' : 'suppressed '}` +
          `vulnerability ${typeof n === 'number' ? n + 1 : '?'}`;
        const base = toBase(value, key === 'suppressedVulnerabilities', position);
        if (d.packagesRead && d.fileName !== '' && d.filePath !== '') emit(d, base);
        else d.waiting.push(base);
      }
    },
  });

  return {
    write: (chunk) => inner.write(chunk),
    end() {
      void inner.end();
      if (reportSchema === undefined) {
        throw invalid('reportSchema is missing: this is not a Dependency-Check JSON report');
      }
      close();
      fixTarget();
    },
  };
}

/** Everything of a finding that does not depend on its dependency. */
function toBase(value: JsonValue, suppressed: boolean, position: string): ScannedFinding {
  if (!isObject(value)) throw invalid(`${position} is not an object`);
  const name = str(value.name).trim();
  if (name === '') throw invalid(`${position} has no name`);
  const v3 = isObject(value.cvssv3) ? value.cvssv3 : undefined;
  const v2 = isObject(value.cvssv2) ? value.cvssv2 : undefined;
  const cvss3Score = v3 ? parseScore(scoreOf(v3.baseScore)) : null;
  const cvss2Score = v2 ? parseScore(scoreOf(v2.score)) : null;
  const { severity, severityRaw } = severityOf(
    [str(v3?.baseSeverity), str(v2?.severity), str(value.severity)],
    cvss3Score ?? cvss2Score,
  );
  const matched = (Array.isArray(value.vulnerableSoftware) ? value.vulnerableSoftware : [])
    .map((s) => (isObject(s) && isObject(s.software) ? s.software : undefined))
    .find((s) => s !== undefined && str(s.vulnerabilityIdMatched) === 'true');
  const notes = str(value.notes);
  return newFinding({
    asset: '',
    scanner: SCANNER,
    pluginId: identityKey(name, FIELD_LIMITS.pluginId),
    title: '',
    severity,
    severityRaw,
    cvss3Score,
    cvss3Vector: v3 ? cvss3Vector(v3) : null,
    cvss2Score,
    cvss2Vector: v2 ? cvss2Vector(v2) : null,
    cves: cvesIn(name),
    description: clipText(str(value.description), FIELD_LIMITS.text),
    evidence: clipText(
      [matched ? `matched ${str(matched.id)}` : '', suppressed ? '' : notes]
        .filter((s) => s !== '')
        .join('\n'),
      FIELD_LIMITS.text,
    ),
    analysis: suppressed
      ? {
          state: 'not_affected',
          justification: null,
          response: [],
          detail: clipText(notes, FIELD_LIMITS.text),
        }
      : null,
  });
}

function scoreOf(v: JsonValue | undefined): string | number | null {
  return typeof v === 'number' || typeof v === 'string' ? v : null;
}

/**
 * cvssv3.baseSeverity, else cvssv2.severity, else the vulnerability's own
 * `severity` (a word, or a number on the CVSS scale, for unscored RetireJS,
 * NPM and OSS Index entries), else the CVSS score; nothing → info.
 */
function severityOf(
  words: string[],
  score: number | null,
): { severity: Severity; severityRaw: string } {
  for (const w of words) {
    const s = severityFromWord(w);
    const raw = clipText(w.trim(), 64);
    if (s !== undefined) return { severity: s, severityRaw: raw };
    const n = raw === '' ? null : parseScore(raw);
    if (n !== null) return { severity: severityFromScore(n), severityRaw: raw };
  }
  if (score !== null) return { severity: severityFromScore(score), severityRaw: String(score) };
  return { severity: 'info', severityRaw: 'unrated' };
}

// Dependency-Check writes the CVSS metrics, not the vector: the vector is
// rebuilt from them (null when one is missing or unknown).
const V3: readonly [string, string, Readonly<Record<string, string>>][] = [
  [
    'AV',
    'attackVector',
    { NETWORK: 'N', ADJACENT_NETWORK: 'A', ADJACENT: 'A', LOCAL: 'L', PHYSICAL: 'P' },
  ],
  ['AC', 'attackComplexity', { LOW: 'L', HIGH: 'H' }],
  ['PR', 'privilegesRequired', { NONE: 'N', LOW: 'L', HIGH: 'H' }],
  ['UI', 'userInteraction', { NONE: 'N', REQUIRED: 'R' }],
  ['S', 'scope', { UNCHANGED: 'U', CHANGED: 'C' }],
  ['C', 'confidentialityImpact', { NONE: 'N', LOW: 'L', HIGH: 'H' }],
  ['I', 'integrityImpact', { NONE: 'N', LOW: 'L', HIGH: 'H' }],
  ['A', 'availabilityImpact', { NONE: 'N', LOW: 'L', HIGH: 'H' }],
];

const V2: readonly [string, string[], Readonly<Record<string, string>>][] = [
  ['AV', ['accessVector'], { NETWORK: 'N', ADJACENT_NETWORK: 'A', LOCAL: 'L' }],
  ['AC', ['accessComplexity'], { LOW: 'L', MEDIUM: 'M', HIGH: 'H' }],
  // "authenticationr" is how Dependency-Check spells it.
  ['Au', ['authenticationr', 'authentication'], { NONE: 'N', SINGLE: 'S', MULTIPLE: 'M' }],
  // "confidentialImpact" before Dependency-Check 7.
  [
    'C',
    ['confidentialityImpact', 'confidentialImpact'],
    { NONE: 'N', PARTIAL: 'P', COMPLETE: 'C' },
  ],
  ['I', ['integrityImpact'], { NONE: 'N', PARTIAL: 'P', COMPLETE: 'C' }],
  ['A', ['availabilityImpact'], { NONE: 'N', PARTIAL: 'P', COMPLETE: 'C' }],
];

/** A metric's letter from its word (NVD data) or the letter itself (OSS Index data). */
function metric(table: Readonly<Record<string, string>>, value: string): string | undefined {
  const v = value.trim().toUpperCase();
  if (Object.hasOwn(table, v)) return table[v];
  return Object.values(table).find((letter) => letter.toUpperCase() === v);
}

function cvss3Vector(o: { [k: string]: JsonValue }): string | null {
  const parts: string[] = [];
  for (const [abbr, key, table] of V3) {
    const m = metric(table, str(o[key]));
    if (m === undefined) return null;
    parts.push(`${abbr}:${m}`);
  }
  const version = str(o.version).trim();
  return (/^3\.[01]$/.test(version) ? `CVSS:${version}/` : '') + parts.join('/');
}

function cvss2Vector(o: { [k: string]: JsonValue }): string | null {
  const parts: string[] = [];
  for (const [abbr, keys, table] of V2) {
    const m = metric(table, str(o[keys.find((k) => o[k] !== undefined) ?? '']));
    if (m === undefined) return null;
    parts.push(`${abbr}:${m}`);
  }
  return parts.join('/');
}

/**
 * A file path with its versions taken out, so that a version bump keeps the
 * identity: version directories (`…/log4j-core/2.13.2/…`) and the version in
 * a file name (`log4j-core-2.13.2.jar`) are dropped.
 */
export function withoutVersions(path: string): string {
  return path
    .split(/([/\\])/)
    .filter((seg) => !/^v?\d+(?:\.[0-9A-Za-z]+)+(?:[-+~][0-9A-Za-z.+~-]*)?$/.test(seg))
    .join('')
    .replace(/[/\\]{2,}/g, (m) => m[0] ?? '/')
    .replace(/(.)[/\\]$/, '$1')
    .replace(
      /[-_]v?\d+(?:\.\d+)+(?:[-.+~][0-9A-Za-z]+)*?(?=\.[A-Za-z]+(?:[/\\:]|$)|[/\\:]|$)/g,
      '',
    );
}
