// Nessus / Tenable.sc / Tenable.io CSV exports through csv-parse (streaming).
// The header row decides which column is which (exports differ: "Plugin ID"
// or "Plugin", "Host" or "IP Address", "Risk" or "Severity"; Tenable.io's
// vulnerability export names them asset.* and definition.*); the delimiter
// (',' or ';') is taken from the header line. Blank rows and rows whose cells
// are all empty are skipped. Nessus writes one row per CVE of a finding: rows
// with the same identity are merged by the store (CVEs are united). All of
// them are scanner 'nessus', so a host scanned by Nessus Pro and exported
// from Tenable matches. A row whose state is "fixed" (Tenable.io exports can
// include fixed vulnerabilities) reports no finding but still covers its host.

import { parse, type Parser } from 'csv-parse';
import { VaultError } from '../core/errors.js';
import {
  clipText,
  cvesIn,
  FIELD_LIMITS,
  parseScore,
  severityFromScore,
  severityFromWord,
  type ScannedFinding,
} from '../core/finding.js';
import type { FormatParser, ScanSink } from './format.js';
import { InvalidUtf8, Utf8Stream } from './utf8.js';

const SCANNER = 'nessus';

/** Logical column → header names seen in real exports (lower case), by preference. */
const COLUMNS = {
  pluginId: ['plugin id', 'plugin', 'definition.id'],
  title: ['name', 'plugin name', 'definition.name'],
  // The address first, as Tenable.sc's "IP Address" and Nessus' "Host" (the
  // scanned address, usually) give it, then names.
  host: [
    'host',
    'ip address',
    'asset.display_ipv4_address',
    'asset.ipv4_addresses',
    'asset.ipv4',
    'dns name',
    'asset.display_fqdn',
    'asset.fqdn',
    'asset.host_name',
    'asset.hostname',
    'asset.name',
    'netbios name',
    'asset.netbios_name',
    'asset.display_ipv6_address',
    'asset.ipv6_addresses',
    'asset.ipv6',
  ],
  port: ['port'],
  protocol: ['protocol'],
  // Tenable.io: `severity` is this finding's (recast) severity,
  // `definition.severity` the plugin's default.
  severity: ['risk', 'severity', 'risk factor', 'definition.severity'],
  cve: ['cve', 'definition.cve'],
  cvss3Score: [
    'cvss v3.0 base score',
    'cvss v3 base score',
    'cvss3 base score',
    'definition.cvss3.base_score',
  ],
  cvss3Vector: [
    'cvss v3 vector',
    'cvss v3.0 vector',
    'cvss3 vector',
    'definition.cvss3.base_vector',
  ],
  cvss2Score: ['cvss v2.0 base score', 'cvss v2 base score', 'cvss', 'definition.cvss2.base_score'],
  cvss2Vector: ['cvss v2 vector', 'cvss v2.0 vector', 'definition.cvss2.base_vector'],
  synopsis: ['synopsis', 'definition.synopsis'],
  description: ['description', 'definition.description'],
  solution: ['solution', 'definition.solution'],
  evidence: ['plugin output', 'plugin text', 'output'],
  state: ['state', 'vulnerability state'],
} as const;

/** Host columns that may hold a list of addresses: the first one is the host. */
const LIST_COLUMNS: ReadonlySet<string> = new Set([
  'asset.ipv4_addresses',
  'asset.ipv4',
  'asset.ipv6_addresses',
  'asset.ipv6',
]);

type Logical = keyof typeof COLUMNS;
const REQUIRED: Record<string, string> = {
  pluginId: '"Plugin ID" (or "Plugin", "definition.id")',
  title: '"Name" (or "Plugin Name", "definition.name")',
  host: '"Host" (or "IP Address", "DNS Name", "asset.name", "asset.ipv4_addresses")',
};

interface HeaderMap {
  columns: Map<Logical, number[]>;
  /** Indexes of LIST_COLUMNS. */
  lists: Set<number>;
}

const MAX_HEADER_BYTES = 64 * 1024;

export function nessusCsvParser(sink: ScanSink): FormatParser {
  const utf8 = new Utf8Stream();
  let csv: Parser | undefined;
  let pending = '';
  let lines = 1;
  let map: HeaderMap | undefined;
  let rowNo = 0;

  const onRecord = (record: string[]): null => {
    if (!map) {
      map = headerMap(record);
      return null;
    }
    rowNo++;
    const { finding, fixed } = toFinding(record, map, rowNo);
    sink.asset(SCANNER, finding.asset);
    if (!fixed) void sink.finding(finding);
    return null;
  };

  const start = (headerLine: string) => {
    const delimiter =
      countOutsideQuotes(headerLine, ';') > countOutsideQuotes(headerLine, ',') ? ';' : ',';
    csv = parse({
      delimiter,
      bom: true,
      relax_column_count: true,
      skip_empty_lines: true,
      skip_records_with_empty_values: true,
      max_record_size: 4 * FIELD_LIMITS.text,
      on_record: onRecord,
    });
    // Errors reach us through the write/end callbacks; the stream's own
    // 'error' event must not become an uncaught exception.
    csv.on('error', () => undefined);
    csv.resume();
  };

  const push = (text: string): Promise<void> => {
    if (text.length === 0) return Promise.resolve();
    if (!csv) {
      pending += text;
      const nl = pending.indexOf('\n');
      if (nl < 0) {
        if (pending.length > MAX_HEADER_BYTES) {
          throw new VaultError(
            'csv_malformed',
            'the CSV header line is too long; nothing was stored',
          );
        }
        return Promise.resolve();
      }
      start(pending.slice(0, nl));
      text = pending;
      pending = '';
    }
    const parser = csv as Parser;
    return new Promise((resolve, reject) =>
      parser.write(text, (err) => (err ? reject(csvError(err, lines)) : resolve())),
    );
  };

  return {
    async write(chunk) {
      let text: string;
      try {
        text = utf8.decode(chunk);
      } catch (err) {
        if (!(err instanceof InvalidUtf8)) throw err;
        throw new VaultError(
          'invalid_utf8',
          `the CSV is not valid UTF-8 at line ${lines + countNewlines(err.validPrefix)}; nothing was stored`,
        );
      }
      lines += countNewlines(text);
      await push(text);
    },
    async end() {
      let rest: string;
      try {
        rest = utf8.end();
      } catch {
        throw new VaultError('invalid_utf8', 'the CSV ends inside a UTF-8 character');
      }
      if (!csv) {
        if ((pending + rest).trim() === '') {
          throw new VaultError('csv_missing_columns', 'the CSV is empty: no header row');
        }
        start(pending + rest);
        const parser = csv as unknown as Parser;
        await new Promise<void>((resolve, reject) =>
          parser.write(pending + rest, (err) => (err ? reject(csvError(err, lines)) : resolve())),
        );
        pending = '';
      } else {
        await push(rest);
      }
      const parser = csv as unknown as Parser;
      await new Promise<void>((resolve, reject) => {
        parser.once('error', (err) => reject(csvError(err, lines)));
        parser.end(() => resolve());
      });
      if (!map) throw new VaultError('csv_missing_columns', 'the CSV has no header row');
    },
  };
}

/**
 * Recent Nessus CSV exports write CVSS scores ten times too large, without the
 * decimal point (7.5 → "75"); a whole number from 11 to 100 is read that way.
 */
function csvScore(raw: string): number | null {
  if (/^\d{2,3}$/.test(raw) && Number(raw) > 10 && Number(raw) <= 100) {
    return parseScore(Number(raw) / 10);
  }
  return parseScore(raw);
}

function csvError(err: unknown, lines: number): VaultError {
  if (err instanceof VaultError) return err;
  const info = err as { code?: string; lines?: number };
  return new VaultError(
    'csv_malformed',
    `the CSV is malformed near line ${info.lines ?? lines}${info.code ? ` (${info.code})` : ''}; nothing was stored`,
  );
}

function countNewlines(s: string): number {
  let n = 0;
  for (let i = s.indexOf('\n'); i >= 0; i = s.indexOf('\n', i + 1)) n++;
  return n;
}

function countOutsideQuotes(line: string, ch: string): number {
  let n = 0;
  let quoted = false;
  for (const c of line) {
    if (c === '"') quoted = !quoted;
    else if (c === ch && !quoted) n++;
  }
  return n;
}

function headerMap(header: string[]): HeaderMap {
  const index = new Map<string, number>();
  header.forEach((h, i) => {
    const name = h.trim().toLowerCase();
    if (!index.has(name)) index.set(name, i);
  });
  const columns = new Map<Logical, number[]>();
  for (const [logical, names] of Object.entries(COLUMNS) as [Logical, readonly string[]][]) {
    const cols = names.map((n) => index.get(n)).filter((i): i is number => i !== undefined);
    if (cols.length > 0) columns.set(logical, cols);
  }
  const missing = Object.keys(REQUIRED).filter((k) => !columns.has(k as Logical));
  if (missing.length > 0) {
    throw new VaultError(
      'csv_missing_columns',
      `the CSV header lacks required column(s) ${missing.map((k) => REQUIRED[k]).join(', ')}; nothing was stored`,
    );
  }
  const lists = new Set(
    [...LIST_COLUMNS].map((n) => index.get(n)).filter((i): i is number => i !== undefined),
  );
  return { columns, lists };
}

function toFinding(
  record: string[],
  map: HeaderMap,
  row: number,
): { finding: ScannedFinding; fixed: boolean } {
  /** First non-empty cell among the columns that can hold this value (a list's first item). */
  const get = (k: Logical): string => {
    for (const i of map.columns.get(k) ?? []) {
      let v = (record[i] ?? '').trim();
      if (map.lists.has(i)) v = v.split(/[\s,;]+/)[0] ?? '';
      if (v !== '') return v;
    }
    return '';
  };
  const invalid = (what: string): never => {
    throw new VaultError('scan_invalid', `CSV row ${row}: ${what}; nothing was stored`);
  };
  const pluginId = get('pluginId');
  if (pluginId === '') invalid('no plugin id');
  const asset = get('host');
  if (asset === '') invalid('no host');
  const portText = get('port') || '0';
  const port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
  if (!(port >= 0 && port <= 65535)) invalid('the port is not a number from 0 to 65535');
  const cvss3Score = csvScore(get('cvss3Score'));
  const rawSeverity = get('severity');
  const severity =
    severityFromWord(rawSeverity) ?? (cvss3Score !== null ? severityFromScore(cvss3Score) : 'info');
  const text = (k: Logical) => clipText(get(k), FIELD_LIMITS.text);
  const finding: ScannedFinding = {
    asset: clipText(asset, FIELD_LIMITS.asset + 1),
    scanner: SCANNER,
    pluginId,
    port,
    protocol: get('protocol').toLowerCase(),
    title: clipText(get('title'), FIELD_LIMITS.title),
    severity,
    severityRaw: clipText(rawSeverity, 32),
    cvss3Score,
    cvss3Vector: clipText(get('cvss3Vector'), FIELD_LIMITS.vector) || null,
    cvss2Score: csvScore(get('cvss2Score')),
    cvss2Vector: clipText(get('cvss2Vector'), FIELD_LIMITS.vector) || null,
    cves: cvesIn(get('cve')).slice(0, FIELD_LIMITS.cves),
    description: text('description') || text('synopsis'),
    solution: text('solution'),
    evidence: text('evidence'),
    service: '',
    category: '',
    fingerprint: '',
    location: '',
    analysis: null,
  };
  return { finding, fixed: get('state').toLowerCase() === 'fixed' };
}
