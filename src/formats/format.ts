// What every scan-format parser is: a push parser fed raw bytes chunk by
// chunk, that reports findings and covered targets to a sink as soon as each
// is complete. Parsers keep only the finding being built, so memory does not
// grow with the file. They throw VaultError for bad input, never echoing it.

import { VaultError } from '../core/errors.js';
import type { ScannedFinding } from '../core/finding.js';

export interface ScanSink {
  /**
   * A finding. It may return a promise (the receiver's batch is full and
   * being stored): a parser that emits many findings within one write() or
   * end() — SARIF replaying held-back results — awaits it, so memory stays
   * bounded; parsers emitting a few per chunk may ignore it.
   */
  finding(f: ScannedFinding): void | Promise<void>;
  /**
   * The scan covers this target (for this scanner and category) even if it
   * reports no finding on it: the target's open findings of that scanner and
   * category that the scan does not report become fixed. A parser must
   * declare every target it covers, clean ones included.
   */
  asset(scanner: string, asset: string, category?: string): void;
}

export interface FormatParser {
  /** Parses one chunk; a returned promise settles once the chunk is consumed. */
  write(chunk: Uint8Array): void | Promise<void>;
  /** End of input: throws if the document is incomplete or invalid. */
  end(): void | Promise<void>;
  /**
   * The upload stopped before end() (cut off, too large, a store error):
   * releases what the parser holds outside memory (SARIF's spill file).
   * Parsers clean up by themselves when write() or end() throws.
   */
  abort?(): void | Promise<void>;
}

/** What the upload says besides its body. */
export interface ParseOptions {
  /**
   * The target given with the upload (`?target=`, `vulnvault upload --target`),
   * already checked (1–255 characters, no control characters). SARIF and
   * CycloneDX prefer the target their file names (repositoryUri, the BOM's
   * subject); Trivy and Grype prefer this one (both call a scanned directory
   * ".", and Grype names its target only after every match); the formats
   * whose files name none (Gitleaks, Semgrep) need it.
   */
  target?: string | undefined;
}

export type ParserFactory = (sink: ScanSink, options: ParseOptions) => FormatParser;

export const SCAN_FORMATS = [
  'nessus-xml',
  'nessus-csv',
  'sarif',
  'cyclonedx',
  'cyclonedx-xml',
  'trivy',
  'grype',
  'openvas',
  'zap-xml',
  'zap-json',
  'dependency-check',
  'gitleaks',
  'semgrep',
  'nuclei',
  'native',
] as const;
export type ScanFormat = (typeof SCAN_FORMATS)[number];

/**
 * The target a parser uses when its file names none: the upload's, else
 * 400 scan_target_missing saying how to give one.
 */
export function targetOrMissing(formatName: string, options: ParseOptions): string {
  if (options.target !== undefined && options.target !== '') return options.target;
  throw new VaultError(
    'scan_target_missing',
    `the ${formatName} file names no target (the project, image or host it scanned); ` +
      'give one with ?target=NAME (vulnvault upload --target NAME); nothing was stored',
  );
}
