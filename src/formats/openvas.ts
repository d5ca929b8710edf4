// OpenVAS / Greenbone (GVM) XML reports as a saxes push parser: the `report`
// that GVM's "XML" report format exports, or a GMP get_reports_response around
// it. Keeps only the result being built. No DTD is ever processed: any
// DOCTYPE is refused, so external entities and entity bombs cannot happen.
//
//   report > report > results > result > host (IP, then <hostname>), port, path,
//     nvt[oid] > name, type, cvss_base, severities > severity, tags, solution,
//     refs > ref[type=cve]; threat, severity, qod > value, original_threat,
//     original_severity, description, overrides > override > new_severity …
//   report > report > host > ip          a host the scan covered, clean or not
//
// Results nested elsewhere (delta > result, detection > result) are not
// findings of this report and are skipped.

import { createHash } from 'node:crypto';
import { type SaxesTagPlain } from 'saxes';
import { VaultError } from '../core/errors.js';
import {
  clipText,
  cvesIn,
  FIELD_LIMITS,
  parseScore,
  severityFromScore,
  severityFromWord,
  type ScannedFinding,
  type ScannerAnalysis,
  type Severity,
} from '../core/finding.js';
import { targetOrMissing, type FormatParser, type ParseOptions, type ScanSink } from './format.js';
import { xmlStream } from './xml-stream.js';

const SCANNER = 'OpenVAS';
const FORMAT = 'OpenVAS';
const ROOTS = new Set(['report', 'get_reports_response']);

/** Text kept inside a result, by element path below the result. */
const RESULT_TEXT = new Set([
  'name',
  'host',
  'host/hostname',
  'port',
  'path',
  'oci_image/name',
  'threat',
  'severity',
  'original_threat',
  'original_severity',
  'description',
  'qod/value',
  'nvt/name',
  'nvt/type',
  'nvt/cvss_base',
  'nvt/cve',
  'nvt/tags',
  'nvt/solution',
  'nvt/severities/severity/value',
  'nvt/severities/severity/score',
  'overrides/override/active',
  'overrides/override/new_threat',
  'overrides/override/new_severity',
  'overrides/override/text',
]);

interface CvssEntry {
  type: string;
  vector: string;
  score: string;
}

interface Result {
  text: Map<string, string>;
  oid: string;
  cves: string[];
  severitiesScore: string;
  cvss: CvssEntry[];
  /** The detail of an active override to False Positive, if any. */
  falsePositive: string | undefined;
}

export function openVasParser(sink: ScanSink, options: ParseOptions): FormatParser {
  const xml = xmlStream({ xmlns: false });
  const { parser, where, fail } = xml;
  const names: string[] = [];
  const hosts = new Set<string>();
  let sawRoot = false;
  let sawGvmReport = false;
  let result: Result | undefined;
  let resultDepth = 0;
  let resultCount = 0;
  // Path of the current element below the result ("nvt/refs/ref").
  let rel = '';
  const relStack: string[] = [];
  let hostIp: string | undefined;
  let hostDepth = 0;

  const cover = (host: string) => {
    if (hosts.has(host)) return;
    hosts.add(host);
    sink.asset(SCANNER, host);
  };

  const onText = (t: string) => {
    if (result !== undefined) {
      if (!RESULT_TEXT.has(rel)) return;
      const prev = result.text.get(rel) ?? '';
      if (prev.length < FIELD_LIMITS.text) result.text.set(rel, prev + t);
    } else if (hostIp !== undefined && names.length === hostDepth + 1 && names.at(-1) === 'ip') {
      if (hostIp.length <= FIELD_LIMITS.asset) hostIp += t;
    }
  };
  parser.on('text', onText);
  parser.on('cdata', onText);

  parser.on('opentag', (tag: SaxesTagPlain) => {
    const parent = names.at(-1);
    names.push(tag.name);
    const depth = names.length;
    if (depth === 1) {
      if (!ROOTS.has(tag.name)) {
        throw new VaultError(
          'xml_wrong_root',
          `the root element (at ${where()}) must be report or get_reports_response, ` +
            `an OpenVAS/GVM XML report; nothing was stored`,
        );
      }
      sawRoot = true;
      return;
    }
    if (result !== undefined) {
      relStack.push(rel);
      rel = rel === '' ? tag.name : `${rel}/${tag.name}`;
      onResultTag(result, rel, tag);
      return;
    }
    if (tag.name === 'result' && parent === 'results') {
      result = {
        text: new Map(),
        oid: '',
        cves: [],
        severitiesScore: '',
        cvss: [],
        falsePositive: undefined,
      };
      resultDepth = depth;
      rel = '';
    } else if (tag.name === 'host' && parent === 'report' && hostIp === undefined) {
      hostIp = '';
      hostDepth = depth;
    } else if (tag.name === 'results' && parent === 'report') {
      sawGvmReport = true;
    }
  });

  parser.on('closetag', () => {
    const depth = names.length;
    names.pop();
    if (result !== undefined) {
      if (depth === resultDepth) {
        resultCount++;
        const f = toFinding(result, resultCount);
        result = undefined;
        cover(f.asset);
        void sink.finding(f);
        return;
      }
      onResultClose(result, rel);
      rel = relStack.pop() ?? '';
    } else if (hostIp !== undefined && depth === hostDepth) {
      const ip = hostIp.trim();
      hostIp = undefined;
      sawGvmReport = true;
      if (ip !== '') cover(checkHost(ip, 'a report host'));
    }
  });

  return {
    write(chunk) {
      xml.write(chunk);
    },
    end() {
      xml.close();
      if (!sawRoot) fail('the document has no root element');
      if (!sawGvmReport) {
        throw new VaultError(
          'openvas_invalid',
          `${FORMAT}: the document has no results and no hosts; it is not a GVM report; nothing was stored`,
        );
      }
      // A report of no host at all (the scan found nothing alive) names no
      // target: the upload's covers it.
      if (hosts.size === 0) cover(checkHost(targetOrMissing(FORMAT, options), 'the target'));
    },
  };
}

function onResultTag(r: Result, rel: string, tag: SaxesTagPlain): void {
  const a = tag.attributes;
  if (rel === 'nvt') {
    r.oid = (a.oid ?? '').trim();
  } else if (rel === 'nvt/refs/ref') {
    if ((a.type ?? '').toLowerCase() === 'cve' && r.cves.length < FIELD_LIMITS.cves) {
      r.cves.push(...cvesIn(a.id ?? ''));
    }
  } else if (rel === 'nvt/severities') {
    r.severitiesScore = (a.score ?? '').trim();
  } else if (rel === 'nvt/severities/severity') {
    r.cvss.push({ type: (a.type ?? '').trim(), vector: '', score: '' });
  }
}

function onResultClose(r: Result, rel: string): void {
  const t = r.text;
  if (rel === 'nvt/severities/severity') {
    const entry = r.cvss.at(-1);
    if (entry) {
      entry.vector = (t.get('nvt/severities/severity/value') ?? '').trim();
      entry.score = (t.get('nvt/severities/severity/score') ?? '').trim();
    }
    t.delete('nvt/severities/severity/value');
    t.delete('nvt/severities/severity/score');
    // A few entries at most in real reports; bound them anyway.
    if (r.cvss.length > 8) r.cvss.shift();
  } else if (rel === 'overrides/override') {
    const active = (t.get('overrides/override/active') ?? '1').trim() !== '0';
    const newSeverity = (t.get('overrides/override/new_severity') ?? '').trim();
    const newThreat = (t.get('overrides/override/new_threat') ?? '').trim();
    if (active && (Number(newSeverity) === -1 || newThreat.toLowerCase() === 'false positive')) {
      r.falsePositive = (t.get('overrides/override/text') ?? '').trim();
    }
    for (const k of ['active', 'new_threat', 'new_severity', 'text']) {
      t.delete(`overrides/override/${k}`);
    }
  }
}

function checkHost(host: string, what: string): string {
  if (host.length > FIELD_LIMITS.asset) {
    throw new VaultError(
      'openvas_invalid',
      `${FORMAT}: ${what} is longer than ${FIELD_LIMITS.asset} characters; nothing was stored`,
    );
  }
  return host;
}

function toFinding(r: Result, n: number): ScannedFinding {
  const t = (k: string) => (r.text.get(k) ?? '').trim();
  const invalid = (what: string): never => {
    throw new VaultError('openvas_invalid', `${FORMAT}: result ${n} ${what}; nothing was stored`);
  };
  const host = t('host');
  if (host === '') invalid('has no host');
  checkHost(host, `the host of result ${n}`);
  if (r.oid === '') invalid('has no nvt oid');
  const { port, protocol, service } = parsePort(t('port')) ?? invalid('has an invalid port');
  const { severity, severityRaw } = gvmSeverity(r) ?? invalid('has an unknown threat or severity');
  const tags = parseTags(r.text.get('nvt/tags') ?? '');
  const cvss = cvssOf(r, tags);
  const cves = [...new Set([...r.cves, ...cvesIn(t('nvt/cve')), ...cvesIn(r.oid)])];
  const path = t('path');
  const image = t('oci_image/name');
  const hostname = t('host/hostname');
  const portText = t('port');
  const analysis: ScannerAnalysis | null =
    r.falsePositive !== undefined || isFalsePositive(t('severity'), t('threat'))
      ? {
          state: 'false_positive',
          justification: null,
          response: [],
          detail: clipText(
            r.falsePositive || 'GVM marks this result a False Positive (override)',
            FIELD_LIMITS.text,
          ),
        }
      : null;
  return {
    asset: host,
    scanner: SCANNER,
    category: '',
    pluginId: clipText(r.oid, FIELD_LIMITS.pluginId),
    port,
    protocol,
    // A result on a file or an image (local security checks) is one finding
    // per file/image; otherwise the NVT, host and port say it all.
    fingerprint:
      path !== '' || image !== ''
        ? createHash('sha256').update(`${path}\n${image}`).digest('hex').slice(0, 32)
        : '',
    location: clipText(
      [hostname, portText, path, image].filter((s) => s !== '').join(' '),
      FIELD_LIMITS.location,
    ),
    // Pretty-printed exports wrap long names: one line, as GVM shows them.
    title: clipText(
      (t('nvt/name') || t('name') || `NVT ${r.oid}`).replace(/\s+/g, ' '),
      FIELD_LIMITS.title,
    ),
    severity,
    severityRaw,
    ...cvss,
    cves: cves.slice(0, FIELD_LIMITS.cves),
    description: describe(tags, t('qod/value')),
    solution: clipText(t('nvt/solution') || (tags.get('solution') ?? ''), FIELD_LIMITS.text),
    evidence: clipText((r.text.get('description') ?? '').trim(), FIELD_LIMITS.text),
    service,
    analysis,
  };
}

/** "443/tcp", "general/tcp", "www (80/tcp)" (OpenVAS 8), "package", "" */
function parsePort(raw: string): { port: number; protocol: string; service: string } | undefined {
  const numbered = /^(?:(.*?)\s*\()?(\d{1,5})\/([\w.-]+)\)?$/.exec(raw);
  if (numbered) {
    const port = Number(numbered[2]);
    if (port > 65535) return undefined;
    return {
      port,
      protocol: clipText((numbered[3] ?? '').toLowerCase(), FIELD_LIMITS.protocol),
      service: clipText((numbered[1] ?? '').trim(), FIELD_LIMITS.service),
    };
  }
  const general = /^general\/(.+)$/i.exec(raw);
  // "general/tcp", "general/icmp", "general/CPE-T": host-wide, port 0. Anything
  // else ("package" for local checks) is its own pseudo-protocol, so that it
  // does not meet a general/… result of the same NVT.
  const protocol = general ? (general[1] ?? '') : raw;
  return {
    port: 0,
    protocol: clipText(protocol.toLowerCase(), FIELD_LIMITS.protocol),
    service: '',
  };
}

function isFalsePositive(score: string, threat: string): boolean {
  return (score !== '' && Number(score) === -1) || threat.toLowerCase() === 'false positive';
}

/**
 * GVM's numeric severity is the NVT's CVSS base score (after overrides), so
 * it is mapped by the CVSS v3 rating: 9.0–10 is critical even where older GVM
 * says "High". Without a score, the threat word is used. A result overridden
 * to False Positive (-1) keeps its original severity, and its analysis says
 * false_positive. Log (0), Debug and Error results are info.
 */
function gvmSeverity(r: Result): { severity: Severity; severityRaw: string } | undefined {
  const t = (k: string) => (r.text.get(k) ?? '').trim();
  let threat = t('threat');
  let scoreText = t('severity');
  if (isFalsePositive(scoreText, threat)) {
    // The severity before the override, when the export keeps it; else the NVT's.
    const originalThreat = t('original_threat');
    const originalScore = t('original_severity');
    if (
      (originalThreat !== '' || originalScore !== '') &&
      !isFalsePositive(originalScore, originalThreat)
    ) {
      threat = originalThreat;
      scoreText = originalScore;
    } else {
      threat = '';
      scoreText = t('nvt/cvss_base');
    }
    if (threat === '' && scoreText === '')
      return { severity: 'info', severityRaw: 'False Positive' };
  }
  const raw = clipText(
    threat !== '' && scoreText !== '' ? `${threat} (${scoreText})` : threat || scoreText,
    FIELD_LIMITS.text,
  );
  const score = scoreText === '' ? NaN : Number(scoreText);
  if (Number.isFinite(score) && score >= 0 && score <= 10) {
    return { severity: severityFromScore(score), severityRaw: raw };
  }
  if (Number.isFinite(score) && score < 0) return { severity: 'info', severityRaw: raw };
  switch (threat.toLowerCase()) {
    case 'log':
    case 'debug':
    case 'error':
    case 'false positive':
      return { severity: 'info', severityRaw: raw };
    case '':
      return undefined;
    default: {
      const severity = severityFromWord(threat);
      return severity === undefined ? undefined : { severity, severityRaw: raw };
    }
  }
}

function cvssOf(
  r: Result,
  tags: Map<string, string>,
): Pick<ScannedFinding, 'cvss3Score' | 'cvss3Vector' | 'cvss2Score' | 'cvss2Vector'> {
  const out: Pick<ScannedFinding, 'cvss3Score' | 'cvss3Vector' | 'cvss2Score' | 'cvss2Vector'> = {
    cvss3Score: null,
    cvss3Vector: null,
    cvss2Score: null,
    cvss2Vector: null,
  };
  const base = (r.text.get('nvt/cvss_base') ?? '').trim();
  const entries: CvssEntry[] = [...r.cvss];
  const tagVector = (tags.get('cvss_base_vector') ?? '').trim();
  if (tagVector !== '') entries.push({ type: '', vector: tagVector, score: '' });
  for (const e of entries) {
    const vector = clipText(e.vector, FIELD_LIMITS.vector);
    if (out.cvss3Vector === null && (e.type === 'cvss_base_v3' || /^CVSS:3\./.test(vector))) {
      out.cvss3Vector = vector || null;
      out.cvss3Score = parseScore(e.score || r.severitiesScore || base);
    } else if (out.cvss2Vector === null && (e.type === 'cvss_base_v2' || /^AV:/.test(vector))) {
      out.cvss2Vector = vector || null;
      out.cvss2Score = parseScore(e.score || base);
    }
  }
  return out;
}

/** The NVT's tags: "summary=…|insight=…|cvss_base_vector=…" (values may hold newlines). */
function parseTags(raw: string): Map<string, string> {
  const tags = new Map<string, string>();
  for (const part of raw.split(/\|(?=[A-Za-z_][\w-]*=)/)) {
    const eq = part.indexOf('=');
    if (eq > 0) tags.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return tags;
}

const DESCRIBED_TAGS: readonly [string, string][] = [
  ['summary', 'Summary'],
  ['insight', 'Insight'],
  ['affected', 'Affected'],
  ['impact', 'Impact'],
  ['vuldetect', 'Detection'],
];

function describe(tags: Map<string, string>, qod: string): string {
  const parts: string[] = [];
  for (const [key, label] of DESCRIBED_TAGS) {
    const v = tags.get(key);
    if (v) parts.push(`${label}: ${v}`);
  }
  if (qod !== '') parts.push(`Quality of detection: ${qod}%`);
  return clipText(parts.join('\n\n'), FIELD_LIMITS.text);
}
