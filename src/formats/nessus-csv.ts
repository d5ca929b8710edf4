// Nessus / Tenable.sc / Tenable.io CSV exports through csv-parse (streaming).
// The header row decides which column is which (exports differ: "Plugin ID"
// or "Plugin", "Host" or "IP Address", "Risk" or "Severity"); the delimiter
// (',' or ';') is taken from the header line. Blank rows and rows whose cells
// are all empty are skipped. Nessus writes one row per CVE of a finding: rows
// with the same identity are merged by the store (CVEs are united).

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

/** Logical column → header names seen in real exports (lower case). */
const COLUMNS = {
  pluginId: ['plugin id', 'plugin'],
  title: ['name', 'plugin name'],
  host: ['host', 'ip address', 'dns name', 'netbios name'],
  port: ['port'],
  protocol: ['protocol'],
  severity: ['risk', 'severity', 'risk factor'],
  cve: ['cve'],
  cvss3Score: ['cvss v3.0 base score', 'cvss v3 base score', 'cvss3 base score'],
  cvss3Vector: ['cvss v3 vector', 'cvss v3.0 vector', 'cvss3 vector'],
  cvss2Score: ['cvss v2.0 base score', 'cvss v2 base score', 'cvss'],
  cvss2Vector: ['cvss v2 vector', 'cvss v2.0 vector'],
  synopsis: ['synopsis'],
  description: ['description'],
  solution: ['solution'],
  evidence: ['plugin output', 'plugin text'],
} as const;

type Logical = keyof typeof COLUMNS;
const REQUIRED: Record<string, string> = {
  pluginId: '"Plugin ID" (or "Plugin")',
  title: '"Name" (or "Plugin Name")',
  host: '"Host" (or "IP Address", "DNS Name")',
};

const MAX_HEADER_BYTES = 64 * 1024;

export function nessusCsvParser(sink: ScanSink): FormatParser {
  const utf8 = new Utf8Stream();
  let csv: Parser | undefined;
  let pending = '';
  let lines = 1;
  let map: Map<Logical, number[]> | undefined;
  let rowNo = 0;

  const onRecord = (record: string[]): null => {
    if (!map) {
      map = headerMap(record);
      return null;
    }
    rowNo++;
    const f = toFinding(record, map, rowNo);
    sink.asset(SCANNER, f.asset);
    sink.finding(f);
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

function headerMap(header: string[]): Map<Logical, number[]> {
  const index = new Map<string, number>();
  header.forEach((h, i) => {
    const name = h.trim().toLowerCase();
    if (!index.has(name)) index.set(name, i);
  });
  const map = new Map<Logical, number[]>();
  for (const [logical, names] of Object.entries(COLUMNS) as [Logical, readonly string[]][]) {
    const cols = names.map((n) => index.get(n)).filter((i): i is number => i !== undefined);
    if (cols.length > 0) map.set(logical, cols);
  }
  const missing = Object.keys(REQUIRED).filter((k) => !map.has(k as Logical));
  if (missing.length > 0) {
    throw new VaultError(
      'csv_missing_columns',
      `the CSV header lacks required column(s) ${missing.map((k) => REQUIRED[k]).join(', ')}; nothing was stored`,
    );
  }
  return map;
}

function toFinding(record: string[], map: Map<Logical, number[]>, row: number): ScannedFinding {
  /** First non-empty cell among the columns that can hold this value. */
  const get = (k: Logical): string => {
    for (const i of map.get(k) ?? []) {
      const v = (record[i] ?? '').trim();
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
  return {
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
  };
}
