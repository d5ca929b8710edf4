// What every scan-format parser is: a push parser fed raw bytes chunk by
// chunk, that reports findings and covered assets to a sink as soon as each
// is complete. Parsers keep only the finding being built, so memory does not
// grow with the file. They throw VaultError for bad input, never echoing it.

import type { ScannedFinding } from '../core/finding.js';

export interface ScanSink {
  finding(f: ScannedFinding): void;
  /** The scan covers this asset even if it reports no finding on it. */
  asset(scanner: string, asset: string): void;
}

export interface FormatParser {
  /** Parses one chunk; a returned promise settles once the chunk is consumed. */
  write(chunk: Uint8Array): void | Promise<void>;
  /** End of input: throws if the document is incomplete or invalid. */
  end(): void | Promise<void>;
}

export type ParserFactory = (sink: ScanSink) => FormatParser;

export const SCAN_FORMATS = ['nessus-xml', 'nessus-csv', 'sarif', 'cyclonedx', 'native'] as const;
export type ScanFormat = (typeof SCAN_FORMATS)[number];

/** The media type of an upload selects its parser (anything else is 415 at the edge). */
export const FORMAT_BY_MEDIA_TYPE: Readonly<Record<string, ScanFormat>> = {
  'application/vnd.tenable.nessus+xml': 'nessus-xml',
  'application/xml': 'nessus-xml',
  'text/csv': 'nessus-csv',
  'application/sarif+json': 'sarif',
  'application/vnd.cyclonedx+json': 'cyclonedx',
  'application/json': 'native',
};
