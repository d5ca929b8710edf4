// Semgrep JSON (`semgrep --json`) streamed result by result. The file names
// no target (paths are relative to wherever semgrep ran): the upload's is
// used. Identity: plugin = check_id; fingerprint = a hash of the path and
// Semgrep's own match fingerprint, which survives line shifts; without one
// (older versions, or "requires login") a hash of the path and the matched
// lines, whitespace-normalised, else of the match's columns and span.
// Location = path:line. Severity: CRITICAL → critical, ERROR/HIGH → high,
// WARNING/MEDIUM → medium, INFO/LOW → low, INVENTORY/EXPERIMENT → info, any
// other → medium; metadata impact/likelihood/confidence only go to the
// description. nosemgrep results (is_ignored) carry a false_positive analysis.

import { createHash } from 'node:crypto';
import { VaultError } from '../core/errors.js';
import {
  clipText,
  cvesIn,
  FIELD_LIMITS,
  newFinding,
  type ScannedFinding,
  type Severity,
} from '../core/finding.js';
import { targetOrMissing, type FormatParser, type ParseOptions, type ScanSink } from './format.js';
import { isObject, jsonStreamParser, str, type JsonValue } from './json-stream.js';

const SCANNER = 'semgrep';

const SEVERITIES: ReadonlyMap<string, Severity> = new Map<string, Severity>([
  ['CRITICAL', 'critical'],
  ['ERROR', 'high'],
  ['HIGH', 'high'],
  ['WARNING', 'medium'],
  ['MEDIUM', 'medium'],
  ['INFO', 'low'],
  ['LOW', 'low'],
  ['INVENTORY', 'info'],
  ['EXPERIMENT', 'info'],
]);

/** What Semgrep writes instead of the fingerprint and lines when not logged in. */
const HIDDEN = 'requires login';

/** Metadata rendered into the description, in this order. */
const METADATA = [
  'cwe',
  'owasp',
  'category',
  'subcategory',
  'vulnerability_class',
  'confidence',
  'likelihood',
  'impact',
  'references',
  'source',
  'source-rule-url',
] as const;

export function semgrepParser(sink: ScanSink, options: ParseOptions): FormatParser {
  const target = clipText(targetOrMissing('Semgrep', options), FIELD_LIMITS.asset + 1);
  const invalid = (what: string): never => {
    throw new VaultError('semgrep_invalid', `Semgrep: ${what}; nothing was stored`);
  };
  let results = false;
  let declared = false;
  const declare = () => {
    if (declared) return;
    declared = true;
    sink.asset(SCANNER, target);
  };
  const inner = jsonStreamParser({
    paths: ['$.results.*'],
    shapeError: 'semgrep_invalid',
    what: 'the Semgrep report',
    onTopLevelKey(key, kind) {
      if (key !== 'results') return;
      if (kind !== 'array') invalid('"results" is not an array');
      results = true;
    },
    onValue(path, value) {
      declare();
      void sink.finding(toFinding(value, target, (path[1] as number) + 1, invalid));
    },
  });
  return {
    write: (chunk) => inner.write(chunk),
    end() {
      void inner.end();
      if (!results) invalid('the report has no "results" array (is it `semgrep --json` output?)');
      // `"results": []` is a clean scan of the target.
      declare();
    },
  };
}

function toFinding(
  value: JsonValue,
  target: string,
  n: number,
  fail: (what: string) => never,
): ScannedFinding {
  const invalid = (what: string): never => fail(`result ${n} ${what}`);
  if (!isObject(value)) invalid('is not an object');
  const r = value as { [k: string]: JsonValue };
  const checkId = str(r.check_id).trim();
  if (checkId === '') invalid('has no check_id');
  const path = str(r.path);
  if (path === '') invalid('has no path');
  const start = isObject(r.start) ? r.start : {};
  const end = isObject(r.end) ? r.end : {};
  const extra = isObject(r.extra) ? r.extra : {};
  const metadata = isObject(extra.metadata) ? extra.metadata : {};
  const line = int(start.line);
  const rawSeverity = str(extra.severity).trim();
  const matched = str(extra.lines);
  const shown = matched === HIDDEN ? '' : matched;
  const fp = str(extra.fingerprint);
  const key =
    fp !== '' && fp !== HIDDEN
      ? `fingerprint\0${fp}`
      : shown.trim() !== ''
        ? `lines\0${shown.trim().replace(/\s+/g, ' ')}`
        : `span\0${int(start.col)}\0${int(end.line) - line}\0${int(end.col)}`;
  const fix = str(extra.fix);
  return newFinding({
    asset: target,
    scanner: SCANNER,
    pluginId: clipText(checkId, FIELD_LIMITS.pluginId),
    // The rule's own name (the last part of its id): never the message, which
    // may quote the matched code through metavariables.
    title: clipText(checkId.split('.').pop() || checkId, FIELD_LIMITS.title),
    severity: SEVERITIES.get(rawSeverity.toUpperCase()) ?? 'medium',
    severityRaw: clipText(rawSeverity, 32),
    cves: cvesIn(
      [checkId, str(metadata['sca-vuln-database-identifier']), text(metadata.cve)].join(' '),
    ).slice(0, FIELD_LIMITS.cves),
    fingerprint: sha256(`${path}\0${key}`).slice(0, 32),
    location: clipText(line > 0 ? `${path}:${line}` : path, FIELD_LIMITS.location),
    description: clipText(
      [str(extra.message).trim(), ...METADATA.map((k) => labelled(k, metadata[k]))]
        .filter((s) => s !== '')
        .join('\n'),
      FIELD_LIMITS.text,
    ),
    solution: clipText(fix === '' ? '' : `Suggested fix:\n${fix}`, FIELD_LIMITS.text),
    evidence: clipText(shown, FIELD_LIMITS.text),
    analysis:
      extra.is_ignored === true
        ? {
            state: 'false_positive',
            justification: null,
            response: [],
            detail: 'ignored in the code (nosemgrep)',
          }
        : null,
  });
}

function int(v: JsonValue | undefined): number {
  return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : 0;
}

/** A metadata value as text: strings, numbers and booleans, lists of them joined. */
function text(v: JsonValue | undefined): string {
  if (Array.isArray(v))
    return v
      .map(text)
      .filter((s) => s !== '')
      .join(', ');
  return typeof v === 'boolean' ? String(v) : str(v);
}

function labelled(key: string, v: JsonValue | undefined): string {
  const t = text(v).trim();
  return t === '' ? '' : `${key}: ${t}`;
}

function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}
