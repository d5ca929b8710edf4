// Format detection (issue 13 item 8). An explicit ?format= or a vendor media
// type names the format; otherwise a body sent as application/json,
// application/xml or text/csv is told by its start: the XML root element,
// the CSV header, or the JSON document's identifying keys (looked at as keys,
// with their nesting depth, by a small scanner over the first 64 KiB — never
// a match on content, which could contain any text).

import { VaultError } from '../core/errors.js';
import type { ScanFormat } from './format.js';

/** How much of a body detection may look at. */
export const SNIFF_BYTES = 64 * 1024;

export type Family = 'json' | 'xml' | 'csv';

export const FAMILY_OF_MEDIA_TYPE: Readonly<Record<string, Family>> = {
  'application/json': 'json',
  'application/xml': 'xml',
  'text/csv': 'csv',
};

/** Each format's family, and the vendor media types that name it. */
export const FORMAT_INFO: Readonly<
  Record<ScanFormat, { family: Family | 'ndjson'; name: string; mediaTypes: readonly string[] }>
> = {
  'nessus-xml': {
    family: 'xml',
    name: 'Nessus v2 XML',
    mediaTypes: ['application/vnd.tenable.nessus+xml'],
  },
  'nessus-csv': { family: 'csv', name: 'Nessus / Tenable CSV', mediaTypes: [] },
  sarif: { family: 'json', name: 'SARIF 2.1.0', mediaTypes: ['application/sarif+json'] },
  cyclonedx: {
    family: 'json',
    name: 'CycloneDX JSON',
    mediaTypes: ['application/vnd.cyclonedx+json'],
  },
  'cyclonedx-xml': {
    family: 'xml',
    name: 'CycloneDX XML',
    mediaTypes: ['application/vnd.cyclonedx+xml'],
  },
  trivy: { family: 'json', name: 'Trivy JSON', mediaTypes: [] },
  grype: { family: 'json', name: 'Grype JSON', mediaTypes: [] },
  openvas: { family: 'xml', name: 'OpenVAS / Greenbone XML', mediaTypes: [] },
  'zap-xml': { family: 'xml', name: 'OWASP ZAP XML', mediaTypes: [] },
  'zap-json': { family: 'json', name: 'OWASP ZAP JSON', mediaTypes: [] },
  'dependency-check': { family: 'json', name: 'OWASP Dependency-Check JSON', mediaTypes: [] },
  gitleaks: { family: 'json', name: 'Gitleaks JSON', mediaTypes: [] },
  semgrep: { family: 'json', name: 'Semgrep JSON', mediaTypes: [] },
  nuclei: {
    family: 'ndjson',
    name: 'Nuclei JSON lines',
    mediaTypes: ['application/x-ndjson', 'application/jsonl'],
  },
  native: { family: 'json', name: 'vulnvault batch', mediaTypes: [] },
};

/** The list of formats for an error message. */
export function supportedFormats(): string {
  return Object.entries(FORMAT_INFO)
    .map(([id, f]) => `${f.name} (${id})`)
    .join(', ');
}

function unrecognised(what: string): VaultError {
  return new VaultError(
    'unsupported_format',
    `${what}; give ?format= (vulnvault upload --format) with one of: ${supportedFormats()}; nothing was stored`,
  );
}

/**
 * The format of an upload from its media type and ?format=, or the family to
 * sniff. Throws 415 unsupported_format when they disagree.
 */
export function formatFromRequest(
  mediaType: string,
  explicit: ScanFormat | undefined,
): ScanFormat | Family {
  const family = FAMILY_OF_MEDIA_TYPE[mediaType];
  const named = (Object.keys(FORMAT_INFO) as ScanFormat[]).find((f) =>
    FORMAT_INFO[f].mediaTypes.includes(mediaType),
  );
  if (explicit === undefined) {
    if (named !== undefined) return named;
    if (family !== undefined) return family;
    throw new VaultError('unsupported_media_type', 'unsupported Content-Type');
  }
  const info = FORMAT_INFO[explicit];
  const fits =
    named === explicit ||
    (named === undefined &&
      (family === info.family || (info.family === 'ndjson' && family === 'json')));
  if (!fits) {
    const types = [...info.mediaTypes, info.family === 'ndjson' ? 'application/json' : ''];
    const familyType = Object.keys(FAMILY_OF_MEDIA_TYPE).find(
      (t) => FAMILY_OF_MEDIA_TYPE[t] === info.family,
    );
    if (familyType) types.push(familyType);
    throw new VaultError(
      'unsupported_format',
      `format ${explicit} (${info.name}) cannot be sent as ${mediaType}; send it as ${types
        .filter((t) => t !== '')
        .join(' or ')}; nothing was stored`,
    );
  }
  return explicit;
}

/**
 * Detects the format from the start of a body of a family. `head` is the
 * first bytes (up to SNIFF_BYTES); `complete` says it is the whole body.
 * Returns undefined when more bytes are needed to decide.
 */
export function sniff(family: Family, head: Buffer, complete: boolean): ScanFormat | undefined {
  const text = head.toString('utf8').replace(/^\uFEFF/, '');
  const final = complete || head.length >= SNIFF_BYTES;
  if (complete && text.trim() === '') {
    throw new VaultError('scan_empty', 'the upload is empty; nothing was stored');
  }
  switch (family) {
    case 'xml':
      return sniffXml(text, final);
    case 'csv':
      return sniffCsv(text, final);
    case 'json':
      return sniffJson(text, final);
  }
}

function sniffXml(text: string, final: boolean): ScanFormat | undefined {
  // Skip the declaration, processing instructions, comments and whitespace.
  let i = 0;
  for (;;) {
    while (i < text.length && /\s/.test(text[i] as string)) i++;
    if (text.startsWith('<?', i)) {
      const end = text.indexOf('?>', i);
      if (end < 0) break;
      i = end + 2;
    } else if (text.startsWith('<!--', i)) {
      const end = text.indexOf('-->', i);
      if (end < 0) break;
      i = end + 3;
    } else break;
  }
  if (i >= text.length || text.indexOf('>', i) < 0) {
    if (!final) return undefined;
    throw unrecognised('the XML body has no root element within its first 64 KiB');
  }
  if (text.startsWith('<!DOCTYPE', i) || text.startsWith('<!doctype', i)) {
    throw new VaultError(
      'xml_doctype_forbidden',
      'XML with a DOCTYPE is refused (entity expansion); nothing was stored',
    );
  }
  const m = /^<([A-Za-z_][\w.:-]*)([^>]*)>/.exec(text.slice(i, i + 4096));
  if (!m) throw unrecognised('the XML body does not start with an element');
  const root = (m[1] as string).replace(/^[\w.-]+:/, '');
  const attrs = m[2] ?? '';
  switch (root) {
    case 'NessusClientData_v2':
      return 'nessus-xml';
    case 'bom':
      if (/cyclonedx\.org\/schema\/bom/.test(attrs)) return 'cyclonedx-xml';
      break;
    case 'report':
    case 'get_reports_response':
      return 'openvas';
    case 'OWASPZAPReport':
      return 'zap-xml';
  }
  throw unrecognised(
    `the XML root element <${root.slice(0, 40).replace(/[^\w.:-]/g, '?')}> is not a known scan format`,
  );
}

function sniffCsv(text: string, final: boolean): ScanFormat | undefined {
  const nl = text.search(/\r?\n/);
  if (nl < 0 && !final) return undefined;
  const header = (nl < 0 ? text : text.slice(0, nl)).toLowerCase();
  if (/(^|[,;"])\s*(plugin id|plugin|definition\.id)\s*("|[,;]|$)/.test(header)) {
    return 'nessus-csv';
  }
  throw unrecognised('the CSV header names no plugin column ("Plugin ID" or "definition.id")');
}

/** Keys seen in the head of a JSON document: depth (1: top level) and key, with string values. */
interface SeenKey {
  depth: number;
  key: string;
  value?: string;
}

/** Walks JSON text (possibly cut short) collecting object keys; bounded by the text. */
function jsonKeys(text: string): { first: string; keys: SeenKey[]; firstLineEnds: number } {
  const keys: SeenKey[] = [];
  let depth = 0;
  let i = 0;
  while (i < text.length && /\s/.test(text[i] as string)) i++;
  const first = text[i] ?? '';
  let pendingKey: SeenKey | undefined;
  let lastString: string | undefined;
  const firstLineEnds = text.indexOf('\n', i);
  for (; i < text.length && keys.length < 2000; i++) {
    const c = text[i] as string;
    if (c === '"') {
      let j = i + 1;
      let s = '';
      for (; j < text.length; j++) {
        const d = text[j] as string;
        if (d === '\\') {
          j++;
          s += text[j] ?? '';
        } else if (d === '"') break;
        else if (s.length < 200) s += d;
      }
      if (j >= text.length) break;
      if (pendingKey) {
        pendingKey.value = s;
        pendingKey = undefined;
      }
      lastString = s;
      i = j;
      continue;
    }
    if (c === ':' && lastString !== undefined) {
      const k: SeenKey = { depth, key: lastString };
      keys.push(k);
      pendingKey = k;
      lastString = undefined;
      continue;
    }
    if (!/\s/.test(c)) {
      if (c !== '"') pendingKey = undefined;
      lastString = undefined;
    }
    if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
  }
  return { first, keys, firstLineEnds };
}

function sniffJson(text: string, final: boolean): ScanFormat | undefined {
  const { first, keys, firstLineEnds } = jsonKeys(text);
  if (first === '') {
    if (!final) return undefined;
    throw unrecognised('the JSON body is empty');
  }
  const has = (depth: number, key: string) => keys.some((k) => k.depth === depth && k.key === key);
  const valueOf = (depth: number, key: string) =>
    keys.find((k) => k.depth === depth && k.key === key)?.value;
  if (first === '{') {
    // JSON lines: a first line that is a whole Nuclei result.
    const firstLine = firstLineEnds < 0 ? '' : text.slice(0, firstLineEnds);
    if (has(1, 'template-id') || has(1, 'templateID')) {
      if (firstLine.trim().endsWith('}') || firstLineEnds < 0) return 'nuclei';
    }
    if (valueOf(1, 'bomFormat') === 'CycloneDX') return 'cyclonedx';
    if (
      has(1, 'runs') &&
      (valueOf(1, 'version') === '2.1.0' || /sarif/i.test(valueOf(1, '$schema') ?? ''))
    ) {
      return 'sarif';
    }
    if (/sarif/i.test(valueOf(1, '$schema') ?? '')) return 'sarif';
    if (has(1, 'SchemaVersion') && (has(1, 'ArtifactName') || has(1, 'Results'))) return 'trivy';
    if (
      has(1, 'matches') &&
      (has(1, 'descriptor') || has(1, 'source') || has(3, 'matchDetails') || has(3, 'artifact'))
    ) {
      return 'grype';
    }
    if (has(1, 'reportSchema') && (has(1, 'scanInfo') || has(1, 'dependencies'))) {
      return 'dependency-check';
    }
    if (has(1, '@programName') || (has(1, '@version') && has(1, 'site'))) return 'zap-json';
    if (has(1, 'results') && (has(3, 'check_id') || has(1, 'paths') || has(1, 'errors'))) {
      return 'semgrep';
    }
    if (has(1, 'findings')) return 'native';
    if (!final) return undefined;
    throw unrecognised(
      'the JSON body is not a known scan format (no identifying keys in its first 64 KiB)',
    );
  }
  if (first === '[') {
    if (has(2, 'RuleID') || (has(2, 'offender') && has(2, 'rule'))) return 'gitleaks';
    if (has(2, 'template-id') || has(2, 'templateID')) return 'nuclei';
    // Trivy before 0.20: a list of results.
    if (has(2, 'Target') && (has(2, 'Vulnerabilities') || has(2, 'Type'))) return 'trivy';
    // An empty array: nothing tells; Gitleaks writes [] for a clean scan.
    if (/^\[\s*\]\s*$/.test(text) && final) {
      throw unrecognised(
        'an empty JSON array names no format (a clean Gitleaks scan needs ?format=gitleaks)',
      );
    }
    if (!final) return undefined;
    throw unrecognised('the JSON array is not a known scan format');
  }
  throw unrecognised(
    'the JSON body is neither an object nor an array (Trivy before 0.20 writes null for a clean scan: send it with ?format=trivy)',
  );
}
