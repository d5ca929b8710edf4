// Nuclei results: JSON lines (`nuclei -jsonl`, one result per line, read
// line by line with a bounded line length) or the JSON array of `-je`,
// streamed item by item. Each result's target is its host name (or address)
// without scheme, port or path, from `host`, else `matched-at`, `url`, `ip`,
// else the upload's target; every host seen is covered, and the upload's
// target too when one is given (an empty file is a clean scan only with one).
// Identity: plugin = template-id[:matcher-name], port (the result's, else the
// matched URL's), protocol = the result's type (http, dns, ssl, network…),
// fingerprint = a hash of the matched URL's path and query parameter names.
// Extracted results, requests and responses are evidence, not identity: they
// carry values that change from one scan to the next (cookies, banners).

import { createHash } from 'node:crypto';
import { VaultError } from '../core/errors.js';
import {
  clipText,
  cvesIn,
  FIELD_LIMITS,
  newFinding,
  parseScore,
  severityFromWord,
  type ScannedFinding,
} from '../core/finding.js';
import { targetOrMissing, type FormatParser, type ParseOptions, type ScanSink } from './format.js';
import { isObject, jsonStreamParser, str, type JsonValue } from './json-stream.js';

const SCANNER = 'nuclei';

/** Longest JSON line accepted: a result with its request and response. */
export const MAX_LINE_BYTES = 1024 * 1024;

/** Longest request, response or curl command kept in the evidence. */
const MAX_EXCHANGE = 16 * 1024;

const POISON = new Set(['__proto__', 'constructor', 'prototype']);
const BOM = [0xef, 0xbb, 0xbf];
const DEFAULT_PORTS: Readonly<Record<string, number>> = { http: 80, https: 443, ws: 80, wss: 443 };

class PoisonKey extends Error {}

export function nucleiParser(sink: ScanSink, options: ParseOptions): FormatParser {
  const given =
    options.target !== undefined && options.target !== ''
      ? (hostOf(options.target) ?? options.target)
      : undefined;
  let mode: 'start' | 'lines' | 'array' = 'start';
  let bomAt = 0;
  let lineNo = 1;
  let parts: Uint8Array[] = [];
  let partLen = 0;
  let seen = false;
  let array: FormatParser | undefined;
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

  const invalid = (what: string): never => {
    throw new VaultError('nuclei_invalid', `Nuclei: ${what}; nothing was stored`);
  };

  const result = (value: JsonValue, where: string) => {
    if (!isObject(value)) invalid(`${where} is not a JSON object`);
    const r = value as { [k: string]: JsonValue };
    const host = hostOfResult(r) ?? given;
    if (host === undefined) {
      throw new VaultError(
        'scan_target_missing',
        `Nuclei: ${where} names no host (host, matched-at, url or ip); give the target with ` +
          '?target=NAME (vulnvault upload --target NAME); nothing was stored',
      );
    }
    seen = true;
    sink.asset(SCANNER, host);
    // `-ms` also writes the templates that did not match.
    if (r['matcher-status'] === false) return;
    void sink.finding(toFinding(r, host, where, invalid));
  };

  const line = (bytes: Buffer, n: number) => {
    let text: string;
    try {
      text = decoder.decode(bytes);
    } catch {
      throw new VaultError(
        'invalid_utf8',
        `Nuclei: line ${n} is not valid UTF-8; nothing was stored`,
      );
    }
    if (text.trim() === '') return;
    let value: JsonValue;
    try {
      value = JSON.parse(text, (key, v: JsonValue) => {
        if (POISON.has(key)) throw new PoisonKey();
        return v;
      }) as JsonValue;
    } catch (err) {
      if (err instanceof PoisonKey) {
        throw new VaultError(
          'invalid_json',
          `Nuclei: line ${n} contains a forbidden key (__proto__, constructor or prototype); nothing was stored`,
        );
      }
      return invalid(`line ${n} is not valid JSON`);
    }
    result(value, `line ${n}`);
  };

  const take = (bytes: Uint8Array) => {
    if (bytes.length === 0) return;
    partLen += bytes.length;
    if (partLen > MAX_LINE_BYTES) invalid(`line ${lineNo} is longer than 1 MiB`);
    // A copy: the caller may reuse its chunk.
    parts.push(Uint8Array.prototype.slice.call(bytes));
  };
  const flush = () => {
    const bytes = Buffer.concat(parts);
    parts = [];
    partLen = 0;
    line(bytes, lineNo);
  };

  return {
    write(chunk) {
      let c = chunk;
      if (mode === 'start') {
        // Skip a byte-order mark and blank space to the first character,
        // which tells a JSON array (`-je`) from JSON lines.
        let i = 0;
        for (; i < c.length; i++) {
          const b = c[i] as number;
          if (bomAt < BOM.length && b === BOM[bomAt] && lineNo === 1) {
            bomAt++;
            continue;
          }
          if (bomAt > 0 && bomAt < BOM.length) {
            throw new VaultError(
              'invalid_utf8',
              'Nuclei: line 1 is not valid UTF-8; nothing was stored',
            );
          }
          bomAt = BOM.length;
          if (b === 0x0a) lineNo++;
          else if (b !== 0x20 && b !== 0x09 && b !== 0x0d) break;
        }
        if (i === c.length) return;
        c = c.subarray(i);
        if (c[0] === 0x5b) {
          mode = 'array';
          array = jsonStreamParser({
            paths: ['$.*'],
            root: 'array',
            shapeError: 'nuclei_invalid',
            what: 'the Nuclei JSON export',
            onValue: (path, value) => result(value, `item ${(path[0] as number) + 1}`),
          });
        } else {
          mode = 'lines';
        }
      }
      if (array) return array.write(c);
      let from = 0;
      for (let nl = c.indexOf(0x0a); nl >= 0; nl = c.indexOf(0x0a, from)) {
        take(c.subarray(from, nl));
        flush();
        lineNo++;
        from = nl + 1;
      }
      take(c.subarray(from));
      return undefined;
    },
    end() {
      if (array) void array.end();
      else if (partLen > 0) flush();
      if (given !== undefined) sink.asset(SCANNER, given);
      else if (!seen) targetOrMissing('Nuclei', options);
    },
  };
}

function toFinding(
  r: { [k: string]: JsonValue },
  host: string,
  where: string,
  invalid: (what: string) => never,
): ScannedFinding {
  const templateId = (str(r['template-id']) || str(r.templateID) || str(r.template_id)).trim();
  if (templateId === '') invalid(`${where} has no template-id`);
  const matcher = (str(r['matcher-name']) || str(r.matcher_name)).trim();
  const info = isObject(r.info) ? r.info : {};
  const cls = isObject(info.classification) ? info.classification : {};
  const matchedAt = (str(r['matched-at']) || str(r.matched)).trim();
  // A network or ssl template matches "host:port": no URL then.
  const url =
    matchedAt !== '' ? parseUrl(matchedAt) : (parseUrl(str(r.url)) ?? parseUrl(str(r.host)));
  const port =
    portNumber(r.port) ?? portOf(matchedAt) ?? portOf(str(r.url)) ?? portOf(str(r.host)) ?? 0;
  const rawSeverity = str(info.severity).trim();
  const vector = str(cls['cvss-metrics']).trim();
  const score = parseScore(typeof cls['cvss-score'] === 'number' ? cls['cvss-score'] : null);
  const v3 = vector === '' || vector.startsWith('CVSS:3');
  const extracted = r['extracted-results'] ?? r.extracted_results;
  return newFinding({
    asset: clipText(host, FIELD_LIMITS.asset + 1),
    scanner: SCANNER,
    pluginId: clipText(
      matcher === '' ? templateId : `${templateId}:${matcher}`,
      FIELD_LIMITS.pluginId,
    ),
    port,
    protocol: clipText(str(r.type).trim().toLowerCase(), FIELD_LIMITS.protocol),
    fingerprint: sha256(url === undefined ? '' : url.pathKey).slice(0, 32),
    location: clipText(
      url?.safe ?? (matchedAt === '' ? '' : safeHostPort(matchedAt)),
      FIELD_LIMITS.location,
    ),
    // The template's name: template text, never a matched value.
    title: clipText(str(info.name).trim() || templateId, FIELD_LIMITS.title),
    // info, low, medium, high, critical; "unknown" and anything else → info.
    severity: severityFromWord(rawSeverity) ?? 'info',
    severityRaw: clipText(rawSeverity, 32),
    cvss3Score: v3 ? score : null,
    cvss3Vector: v3 && vector !== '' ? clipText(vector, FIELD_LIMITS.vector) : null,
    cves: cvesIn(`${templateId} ${text(cls['cve-id'])}`).slice(0, FIELD_LIMITS.cves),
    description: clipText(
      lines([
        str(info.description).trim(),
        labelled('Impact', info.impact),
        labelled('CWE', cls['cwe-id']),
        v3 ? '' : labelled('CVSS', vector),
        labelled('References', info.reference),
        labelled('Tags', info.tags),
      ]),
      FIELD_LIMITS.text,
    ),
    solution: clipText(str(info.remediation).trim(), FIELD_LIMITS.text),
    evidence: clipText(
      lines([
        labelled('Matched at', matchedAt),
        labelled('Matcher', matcher),
        labelled('Extracted', extracted),
        isObject(r.meta) ? `Meta: ${JSON.stringify(r.meta)}` : '',
        labelled('Matched line', r['matched-line']),
        exchange('Request', r.request),
        exchange('Response', r.response),
        exchange('curl', r['curl-command']),
      ]),
      FIELD_LIMITS.text,
    ),
  });
}

/** The host name or address a result is about, lower case, without scheme, user, port or path. */
function hostOfResult(r: { [k: string]: JsonValue }): string | undefined {
  for (const v of [r.host, r['matched-at'], r.matched, r.url, r.ip]) {
    const h = hostOf(str(v));
    if (h !== undefined) return h;
  }
  return undefined;
}

/**
 * "https://user@Example.com:8443/x" → "example.com"; "host:22" → "host";
 * "[::1]:80" → "::1"; "10.0.0.1." → "10.0.0.1". A URL may follow other text
 * (Nuclei 3 writes `url` as "/http://host/").
 */
export function hostOf(raw: string): string | undefined {
  const authority = authorityOf(raw);
  if (authority === undefined) return undefined;
  let host = authority.replace(/^.*@/, '');
  if (host.startsWith('['))
    host = host.slice(1, host.indexOf(']') < 0 ? undefined : host.indexOf(']'));
  else if ((host.match(/:/g) ?? []).length === 1) host = host.slice(0, host.indexOf(':'));
  host = host.replace(/\.$/, '').toLowerCase();
  return host === '' ? undefined : host;
}

/** The authority part (user@host:port) of a URL or of "host:port/path". */
function authorityOf(raw: string): string | undefined {
  const s = raw.trim();
  if (s === '' || /\s/.test(s)) return undefined;
  const url = /[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(s);
  if (url) return url[1];
  return /^[^/?#]*/.exec(s)?.[0];
}

function portOf(raw: string): number | undefined {
  const authority = authorityOf(raw);
  if (authority === undefined) return undefined;
  const explicit = /^(?:\[[^\]]*\]|[^:]*):(\d{1,5})$/.exec(authority.replace(/^.*@/, ''));
  if (explicit) return portNumber(explicit[1]);
  const scheme = /([a-z][a-z0-9+.-]*):\/\//i.exec(raw)?.[1]?.toLowerCase();
  return scheme === undefined ? undefined : DEFAULT_PORTS[scheme];
}

function portNumber(v: JsonValue | undefined): number | undefined {
  const s = str(v).trim();
  if (!/^\d{1,5}$/.test(s)) return undefined;
  const n = Number(s);
  return n >= 1 && n <= 65535 ? n : undefined;
}

/**
 * A URL's identity and display: the path with the query's parameter names
 * (never their values, nor the user part of the authority).
 */
function parseUrl(raw: string): { pathKey: string; safe: string } | undefined {
  const m = /([a-z][a-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)(?:\?([^#]*))?/i.exec(raw.trim());
  if (!m) return undefined;
  const [, scheme = '', authority = '', path = '', query] = m;
  const names = [
    ...new Set(
      (query ?? '')
        .split('&')
        .map((p) => p.split('=')[0] ?? '')
        .filter((p) => p !== ''),
    ),
  ].sort();
  const q = names.length > 0 ? `?${names.join('&')}` : '';
  return {
    pathKey: `${path || '/'}${q}`,
    safe: `${scheme.toLowerCase()}://${authority.replace(/^.*@/, '')}${path}${q}`,
  };
}

/** "host:port" as matched by network and ssl templates, without any user part. */
function safeHostPort(raw: string): string {
  return raw.replace(/^[^/@]*@/, '');
}

function text(v: JsonValue | undefined): string {
  if (Array.isArray(v))
    return v
      .map(text)
      .filter((s) => s !== '')
      .join(', ');
  return typeof v === 'boolean' ? String(v) : str(v);
}

function labelled(name: string, v: JsonValue | undefined): string {
  const t = text(v).trim();
  return t === '' ? '' : `${name}: ${t}`;
}

function exchange(name: string, v: JsonValue | undefined): string {
  const t = str(v);
  return t === '' ? '' : `${name}:\n${clipText(t, MAX_EXCHANGE)}`;
}

function lines(parts: string[]): string {
  return parts.filter((p) => p !== '').join('\n');
}

function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}
