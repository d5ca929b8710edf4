// The content hash of a scanned finding, shared by every store adapter so
// that "unchanged" means the same thing in each: equal hash = unchanged.
import { hash as digest } from 'node:crypto';
import type { ScannedFinding } from './finding.js';

/**
 * Hash of everything but identity and timestamps; `cves` is the stored JSON
 * list. `salt` is a secret derived from the org's data key where content is
 * sealed (SQLite), so the stored hash cannot confirm a guess of sealed
 * content; '' where nothing is sealed.
 */
export function contentHash(salt: string, f: ScannedFinding, cves: string): string {
  // Only spots changed content: SHA-1 over the fields joined with NUL (which
  // none of them can hold unescaped in JSON inputs, and which only costs a
  // false "updated" if one does).
  return digest(
    'sha1',
    [
      salt,
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
