// The content hash of a scanned finding, shared by every store adapter so
// that "unchanged" means the same thing in each: equal hash = unchanged.
import { hash as digest } from 'node:crypto';
import type { ScannedFinding } from './finding.js';

/** Hash of everything but identity and timestamps; `cves` is the stored JSON list. */
export function contentHash(f: ScannedFinding, cves: string): string {
  // Not a security boundary (it only spots changed content): SHA-1 over the
  // fields joined with NUL (which none of them can hold unescaped in JSON
  // inputs, and which only costs a false "updated" if one does).
  return digest(
    'sha1',
    [
      f.title,
      f.severity,
      f.severityRaw,
      f.cvss3Score ?? '',
      f.cvss3Vector ?? '',
      f.cvss2Score ?? '',
      f.cvss2Vector ?? '',
      cves,
      f.description,
      f.solution,
      f.evidence,
      f.service,
    ].join('\u0000'),
    'base64url',
  );
}
