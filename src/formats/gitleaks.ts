// Gitleaks JSON reports (`gitleaks detect -f json`): an array of leaks,
// streamed leak by leak, in the v8 shape (RuleID, File, StartLine, Secret,
// Match, Commit) or the v7 one (rule, file, lineNumber, offender, line);
// Gitleaks 7 writes `null` when it finds nothing. The file names no target:
// the upload's is used. The secret itself is never kept: identity holds a
// hash of it, evidence (sealed) only its first characters and length, and the
// Match / line that contains it is dropped. Gitleaks has no severity: a leaked
// secret is `high`.

import { createHash } from 'node:crypto';
import { VaultError } from '../core/errors.js';
import { clipText, FIELD_LIMITS, newFinding, type ScannedFinding } from '../core/finding.js';
import { targetOrMissing, type FormatParser, type ParseOptions, type ScanSink } from './format.js';
import { isObject, jsonStreamParser, str, type JsonValue } from './json-stream.js';

const SCANNER = 'gitleaks';

export function gitleaksParser(sink: ScanSink, options: ParseOptions): FormatParser {
  const target = clipText(targetOrMissing('Gitleaks', options), FIELD_LIMITS.asset + 1);
  let declared = false;
  const declare = () => {
    if (declared) return;
    declared = true;
    sink.asset(SCANNER, target);
  };
  const inner = jsonStreamParser({
    paths: ['$.*'],
    root: 'array',
    nullRoot: true,
    shapeError: 'gitleaks_invalid',
    what: 'the Gitleaks report',
    onValue(path, value) {
      declare();
      void sink.finding(toFinding(value, target, (path[0] as number) + 1));
    },
  });
  return {
    write: (chunk) => inner.write(chunk),
    end() {
      void inner.end();
      // An empty report (`[]`, or `null` from Gitleaks 7) is a clean scan of the target.
      declare();
    },
  };
}

function toFinding(value: JsonValue, target: string, n: number): ScannedFinding {
  const invalid = (what: string): never => {
    throw new VaultError('gitleaks_invalid', `Gitleaks: leak ${n} ${what}; nothing was stored`);
  };
  if (!isObject(value)) invalid('is not an object');
  const leak = value as { [k: string]: JsonValue };
  const ruleId = (str(leak.RuleID) || str(leak.rule)).trim();
  if (ruleId === '') invalid('has no RuleID (or rule)');
  const file = str(leak.File) || str(leak.file);
  const line = lineNumber(leak.StartLine ?? leak.lineNumber);
  const secret = str(leak.Secret) || str(leak.offender);
  // With --redact the secret is "REDACTED" (or masked): the match around it,
  // redacted too, then tells two leaks of one rule in one file apart.
  const redacted = isRedacted(secret);
  const key = redacted ? `match\0${str(leak.Match) || str(leak.line)}` : `secret\0${secret}`;
  const fingerprint = sha256(`${file}\0${ruleId}\0${key}`).slice(0, 32);
  const ruleText = str(leak.Description).trim();
  const tags = Array.isArray(leak.Tags) ? leak.Tags.map(str).join(', ') : str(leak.tags);
  const description = lines([
    ruleText || ruleId,
    tags && `Tags: ${tags}`,
    file && `File: ${file}${line > 0 ? `:${line}` : ''}`,
  ]);
  const evidence = lines([
    redacted ? 'Secret: redacted by Gitleaks' : `Secret: ${maskSecret(secret)}`,
    field('Entropy', leak.Entropy),
    field('Commit', leak.Commit ?? leak.commit),
    field('Author', leak.Author ?? leak.author),
    field('Date', leak.Date ?? leak.date),
    field('Link', leak.Link ?? leak.leakURL),
    field('Commit message', leak.Message ?? leak.commitMessage),
  ]);
  return newFinding({
    asset: target,
    scanner: SCANNER,
    pluginId: clipText(ruleId, FIELD_LIMITS.pluginId),
    // The rule's own description (v8) or name (v7): rule text, never the match.
    title: clipText(ruleText || ruleId, FIELD_LIMITS.title),
    severity: 'high',
    severityRaw: '',
    fingerprint,
    location: clipText(line > 0 ? `${file}:${line}` : file, FIELD_LIMITS.location),
    description: clipText(description, FIELD_LIMITS.text),
    evidence: clipText(evidence, FIELD_LIMITS.text),
  });
}

/** Gitleaks' --redact output: "REDACTED", or a mask of asterisks (its own baseline test data). */
function isRedacted(secret: string): boolean {
  return secret === '' || secret === 'REDACTED' || /^\*+$/.test(secret);
}

/** At most the first 4 characters (a quarter of a short secret) and the length. */
function maskSecret(secret: string): string {
  const chars = [...secret];
  const shown = Math.min(4, Math.floor(chars.length / 4));
  return `${chars.slice(0, shown).join('')}… (${chars.length} characters)`;
}

function lineNumber(v: JsonValue | undefined): number {
  return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : 0;
}

function field(name: string, v: JsonValue | undefined): string {
  const s = str(v).trim();
  return s === '' || s === '0001-01-01T00:00:00Z' ? '' : `${name}: ${s}`;
}

function lines(parts: string[]): string {
  return parts.filter((p) => p !== '').join('\n');
}

function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}
