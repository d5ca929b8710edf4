// Package URLs (purl) as identities: a package without its version, so that
// a version bump keeps a finding's identity (CycloneDX, Dependency-Check),
// and identity fields kept within their limits without merging distinct values.

import { createHash } from 'node:crypto';

export function isPurl(s: string): boolean {
  return /^pkg:[A-Za-z][A-Za-z0-9.+-]*\//.test(s);
}

/**
 * A purl without its version and qualifiers, subpath kept:
 * `pkg:deb/ubuntu/bash@5.1?arch=amd64` → `pkg:deb/ubuntu/bash`. The version
 * is after the last `@` of the last path segment (an npm scope may be
 * written `@scope` unencoded). `dropSubpath` too for a BOM's subject.
 */
export function purlWithoutVersion(purl: string, dropSubpath = false): string {
  const hash = purl.indexOf('#');
  let main = hash < 0 ? purl : purl.slice(0, hash);
  const sub = hash < 0 || dropSubpath ? '' : purl.slice(hash);
  const q = main.indexOf('?');
  if (q >= 0) main = main.slice(0, q);
  const at = main.lastIndexOf('@');
  if (at > main.lastIndexOf('/')) main = main.slice(0, at);
  return main + sub;
}

/** The purl's name (last path segment, percent-decoded), e.g. `log4j-core`. */
export function purlName(purl: string): string {
  const base = purlWithoutVersion(purl, true);
  const name = base.slice(base.lastIndexOf('/') + 1);
  try {
    return decodeURIComponent(name);
  } catch {
    return name;
  }
}

/** A bom-ref or name without a trailing `@version` or `-1.2.3`. */
export function withoutVersionSuffix(s: string): string {
  const at = s.lastIndexOf('@');
  const noAt = at > 0 && at > s.lastIndexOf('/') ? s.slice(0, at) : s;
  return noAt.replace(/[-_:]v?\d+(?:\.[0-9A-Za-z]+)+$/, '') || noAt;
}

/**
 * An identity field within `max` characters: as is when short enough, else
 * its head and a SHA-256 prefix of the whole (distinct values stay distinct).
 */
export function identityKey(s: string, max: number): string {
  if (s.length <= max) return s;
  const digest = createHash('sha256').update(s).digest('hex').slice(0, 24);
  return `${s.slice(0, max - 25)}~${digest}`;
}
