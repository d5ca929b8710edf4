// What the artifact scanners (Trivy, Grype) share: how the scanned artifact
// becomes the target, how a package finding gets a fingerprint that survives
// a version bump, and the OpenVEX vocabulary both use for their verdicts.

import { createHash } from 'node:crypto';
import { VaultError, type ErrorCode } from '../core/errors.js';
import {
  ANALYSIS_JUSTIFICATIONS,
  FIELD_LIMITS,
  type AnalysisJustification,
} from '../core/finding.js';
import { targetOrMissing, type ParseOptions } from './format.js';

/**
 * The target of an artifact scan: the upload's `?target=` when given (the
 * user's explicit choice wins; it is also the only target known before Grype's
 * trailing `source`), else the artifact the file names. A directory scan of
 * the working directory names it "." in both tools: that says nothing about
 * which project it was, and two projects sharing "." would fix each other's
 * findings, so it counts as no target (scan_target_missing).
 */
export function artifactTarget(
  named: string | undefined,
  options: ParseOptions,
  formatName: string,
  code: ErrorCode,
): string {
  if (options.target !== undefined && options.target !== '') return options.target;
  const t = (named ?? '').trim();
  if (/^["']?(\.\/?|unknown)?["']?$/.test(t)) return targetOrMissing(formatName, options);
  if (t.length > FIELD_LIMITS.asset) {
    throw new VaultError(
      code,
      `${formatName}: the scanned artifact's name is longer than ${FIELD_LIMITS.asset} characters; ` +
        'give the target with ?target=NAME (vulnvault upload --target NAME); nothing was stored',
    );
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(t)) {
    throw new VaultError(
      code,
      `${formatName}: the scanned artifact's name contains control characters; ` +
        'give the target with ?target=NAME (vulnvault upload --target NAME); nothing was stored',
    );
  }
  return t;
}

/** A short, fixed-length digest of the parts that identify a finding (never shown). */
export function fingerprintOf(parts: readonly string[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 32);
}

/**
 * A path with the package's version taken out, so that upgrading a jar from
 * avro-1.9.2.jar to avro-1.11.1.jar (or a python dist-info directory) keeps
 * the finding's identity. Only whole-looking occurrences go: not preceded by a
 * letter or digit, not followed by a digit ("1" in "app1/foo-1.jar" stays).
 */
export function withoutVersion(path: string, version: string): string {
  if (version === '' || !/\d/.test(version)) return path;
  const v = version.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return path.replace(new RegExp(`(?<![A-Za-z0-9])${v}(?![0-9])`, 'g'), '');
}

/** A package URL without its version, qualifiers (arch, distro) and subpath. */
export function purlWithoutVersion(purl: string): string {
  const base = purl.split(/[?#]/, 1)[0] ?? '';
  const at = base.lastIndexOf('@');
  return at > base.lastIndexOf('/') ? base.slice(0, at) : base;
}

const OPENVEX_JUSTIFICATIONS: Readonly<Record<string, AnalysisJustification>> = {
  component_not_present: 'code_not_present',
  vulnerable_code_not_present: 'code_not_present',
  vulnerable_code_not_in_execute_path: 'code_not_reachable',
  vulnerable_code_cannot_be_controlled_by_adversary: 'requires_environment',
  inline_mitigations_already_exist: 'protected_by_mitigating_control',
};

/** An OpenVEX (or CycloneDX) justification in the CycloneDX vocabulary, else null. */
export function justificationOf(raw: string): AnalysisJustification | null {
  const j = raw.trim().toLowerCase();
  if ((ANALYSIS_JUSTIFICATIONS as readonly string[]).includes(j)) return j as AnalysisJustification;
  return OPENVEX_JUSTIFICATIONS[j] ?? null;
}
