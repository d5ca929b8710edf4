// CycloneDX 1.4–1.6 JSON with a `vulnerabilities` array, streamed one
// vulnerability at a time. One finding per (vulnerability, affected
// component): asset = the affected component's bom-ref (usually its purl),
// plugin = the vulnerability id (CVE-… or the source's id), scanner =
// "cyclonedx", port 0, protocol "". Severity: the highest rating's severity;
// if a rating has only a score, the CVSS v3 qualitative scale of that score.

import { VaultError } from '../core/errors.js';
import {
  clipText,
  cvesIn,
  FIELD_LIMITS,
  parseScore,
  rankOf,
  severityFromScore,
  severityFromWord,
  type ScannedFinding,
  type Severity,
} from '../core/finding.js';
import type { FormatParser, ScanSink } from './format.js';
import { isObject, jsonStreamParser, str, type JsonValue } from './json-stream.js';

const SCANNER = 'cyclonedx';
const SPEC_VERSIONS = new Set(['1.4', '1.5', '1.6']);

export function cycloneDxParser(sink: ScanSink): FormatParser {
  let bomFormat: string | undefined;
  let specVersion: string | undefined;
  let vulns = 0;
  const invalid = (what: string): never => {
    throw new VaultError('cyclonedx_invalid', `CycloneDX: ${what}; nothing was stored`);
  };

  const inner = jsonStreamParser({
    paths: ['$.bomFormat', '$.specVersion', '$.vulnerabilities.*'],
    shapeError: 'cyclonedx_invalid',
    what: 'the CycloneDX document',
    onValue(path, value) {
      if (path[0] === 'bomFormat') bomFormat = str(value);
      else if (path[0] === 'specVersion') specVersion = str(value);
      else {
        vulns++;
        for (const f of toFindings(value, vulns, invalid)) {
          sink.asset(SCANNER, f.asset);
          sink.finding(f);
        }
      }
    },
  });

  return {
    write: (chunk) => inner.write(chunk),
    end() {
      void inner.end();
      if (bomFormat !== 'CycloneDX') invalid('bomFormat must be "CycloneDX"');
      if (!SPEC_VERSIONS.has(specVersion ?? '')) invalid('specVersion must be 1.4, 1.5 or 1.6');
      if (vulns === 0) invalid('the document has no vulnerabilities');
    },
  };
}

function toFindings(
  value: JsonValue,
  n: number,
  invalid: (what: string) => never,
): ScannedFinding[] {
  if (!isObject(value)) invalid(`vulnerability ${n} is not an object`);
  const v = value;
  const id = str(v.id).trim();
  if (id === '') invalid(`vulnerability ${n} has no id`);
  let severity: Severity | undefined;
  let raw = '';
  let cvss3Score: number | null = null;
  let cvss3Vector: string | null = null;
  let cvss2Score: number | null = null;
  let cvss2Vector: string | null = null;
  for (const r of Array.isArray(v.ratings) ? v.ratings : []) {
    if (!isObject(r)) continue;
    const score = parseScore(typeof r.score === 'number' ? r.score : null);
    const method = str(r.method);
    if (/^CVSSv3/.test(method) && score !== null && cvss3Score === null) {
      cvss3Score = score;
      cvss3Vector = clipText(str(r.vector), FIELD_LIMITS.vector) || null;
    } else if (method === 'CVSSv2' && score !== null && cvss2Score === null) {
      cvss2Score = score;
      cvss2Vector = clipText(str(r.vector), FIELD_LIMITS.vector) || null;
    }
    const s =
      severityFromWord(str(r.severity)) ?? (score !== null ? severityFromScore(score) : undefined);
    if (s !== undefined && (severity === undefined || rankOf(s) > rankOf(severity))) {
      severity = s;
      raw = str(r.severity) || `score ${score}`;
    }
  }
  const affects = (Array.isArray(v.affects) ? v.affects : [])
    .map((a) => (isObject(a) ? str(a.ref).trim() : ''))
    .filter((r) => r !== '');
  if (affects.length === 0) invalid(`vulnerability ${n} affects no component (affects[].ref)`);
  const cves = cvesIn(id);
  for (const ref of Array.isArray(v.references) ? v.references : []) {
    if (isObject(ref)) cves.push(...cvesIn(str(ref.id)).filter((c) => !cves.includes(c)));
  }
  const description = str(v.description) || str(v.detail);
  return [...new Set(affects)].map((ref) => ({
    asset: clipText(ref, FIELD_LIMITS.asset + 1),
    scanner: SCANNER,
    pluginId: clipText(id, FIELD_LIMITS.pluginId + 1),
    port: 0,
    protocol: '',
    title: clipText(description.split('\n')[0] || id, FIELD_LIMITS.title),
    severity: severity ?? 'info',
    severityRaw: raw || 'unrated',
    cvss3Score,
    cvss3Vector,
    cvss2Score,
    cvss2Vector,
    cves: cves.slice(0, FIELD_LIMITS.cves),
    description: clipText(description, FIELD_LIMITS.text),
    solution: clipText(str(v.recommendation), FIELD_LIMITS.text),
    evidence: clipText(str(v.detail), FIELD_LIMITS.text),
    service: '',
  }));
}
