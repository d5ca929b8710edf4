// vulnvault's own batch: {"findings": [NativeFinding, …]} (schema in the
// OpenAPI file), streamed one finding at a time. Each finding is checked
// against the contract's NativeFinding schema by the injected validator, so
// unknown properties are refused as everywhere else.

import { VaultError } from '../core/errors.js';
import { cvesIn, type ScannedFinding, type Severity } from '../core/finding.js';
import type { FormatParser, ScanSink } from './format.js';
import { clipKey, jsonStreamParser, type JsonValue } from './json-stream.js';

/** Returns undefined when valid, else a message naming the failing field (no values). */
export type ItemValidator = (item: unknown, index: number) => string | undefined;

interface NativeFinding {
  asset: string;
  scanner: string;
  pluginId: string;
  port?: number;
  protocol?: string;
  title: string;
  severity: Severity;
  severityRaw?: string;
  cvss3Score?: number;
  cvss3Vector?: string;
  cvss2Score?: number;
  cvss2Vector?: string;
  cves?: string[];
  description?: string;
  solution?: string;
  evidence?: string;
  service?: string;
  category?: string;
  fingerprint?: string;
  location?: string;
}

/** The other JSON formats most often sent as a batch by mistake, and their media type. */
const OTHER_JSON = {
  sarif: { name: 'SARIF', mediaType: 'application/sarif+json' },
  cyclonedx: { name: 'CycloneDX', mediaType: 'application/vnd.cyclonedx+json' },
} as const;

/**
 * Refuses a top-level key of a document sent as a vulnvault batch, saying
 * what it looks like: until uploads detect their format, a SARIF or
 * CycloneDX file named *.json arrives here. The string value (of `$schema`,
 * or SARIF's `"version": "2.1.0"`) is only looked at, never echoed.
 */
export function notABatch(key: string, value: string | undefined): string {
  const v = value?.toLowerCase() ?? '';
  const like =
    key === 'runs' ||
    (key === '$schema' && v.includes('sarif')) ||
    (key === 'version' && v === '2.1.0')
      ? 'sarif'
      : key === 'bomFormat' || (key === '$schema' && v.includes('cyclonedx'))
        ? 'cyclonedx'
        : undefined;
  const head = `the findings batch has an unknown top-level property "${clipKey(key)}"`;
  if (like !== undefined) {
    const f = OTHER_JSON[like];
    return `${head}: this looks like ${f.name}; send it as ${f.mediaType} or with ?format=${like} (vulnvault upload --format ${like}); nothing was stored`;
  }
  return (
    `${head}; a vulnvault batch has only "findings". Send other formats without ?format=native ` +
    '(the server detects them) or with their own ?format= (vulnvault upload --format); nothing was stored'
  );
}

export function nativeJsonParser(sink: ScanSink, validate: ItemValidator): FormatParser {
  let n = 0;
  let sawFindings = false;
  const inner = jsonStreamParser({
    paths: ['$.findings.*'],
    topLevelKeys: new Set(['findings']),
    unknownTopLevelKey: notABatch,
    shapeError: 'validation_failed',
    what: 'the findings batch',
    onValue(_path, value: JsonValue) {
      sawFindings = true;
      const problem = validate(value, n);
      if (problem !== undefined) {
        throw new VaultError('validation_failed', `${problem}; nothing was stored`);
      }
      n++;
      const f = value as unknown as NativeFinding;
      const finding: ScannedFinding = {
        asset: f.asset,
        scanner: f.scanner,
        pluginId: f.pluginId,
        port: f.port ?? 0,
        protocol: (f.protocol ?? '').toLowerCase(),
        title: f.title,
        severity: f.severity,
        severityRaw: f.severityRaw ?? f.severity,
        cvss3Score: f.cvss3Score ?? null,
        cvss3Vector: f.cvss3Vector ?? null,
        cvss2Score: f.cvss2Score ?? null,
        cvss2Vector: f.cvss2Vector ?? null,
        cves: cvesIn((f.cves ?? []).join(' ')),
        description: f.description ?? '',
        solution: f.solution ?? '',
        evidence: f.evidence ?? '',
        service: f.service ?? '',
        category: f.category ?? '',
        fingerprint: f.fingerprint ?? '',
        location: f.location ?? '',
        analysis: null,
      };
      sink.asset(finding.scanner, finding.asset, finding.category);
      void sink.finding(finding);
    },
  });
  return {
    write: (chunk) => inner.write(chunk),
    end() {
      void inner.end();
      if (!sawFindings) {
        throw new VaultError(
          'scan_empty',
          'the batch has no findings ("findings" must be a non-empty array); nothing was stored',
        );
      }
    },
  };
}
