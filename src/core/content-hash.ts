// The content hash of a scanned finding, which the DynamoDB store keeps on
// each item to tell unchanged findings from updated ones (equal hash =
// unchanged). The SQLite store compares the content itself instead and
// stores no digest (adapters/sqlite/scan-import.ts); the contract suite
// holds both to the same meaning of "unchanged".
import { hash as digest } from 'node:crypto';
import type { ScannedFinding } from './finding.js';

/**
 * Hash of everything but identity and timestamps; `cves` is the stored JSON
 * list. `salt` is '' for the DynamoDB store (kept as the first field so the
 * hashes it has stored stay valid); a store that kept hashes of sealed
 * content would pass a secret derived from the data key, so a stored hash
 * could not confirm a guess.
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
