// What the ZAP XML and JSON reports share. A site (its origin) is the target;
// an alert is a rule; each of its instances is a place: method, URL, parameter.
// One finding per (alert, method, URL without query values, parameter): the
// instances that differ only by query values (product.jsp?id=1, ?id=2) are one
// finding, listed in its evidence.

import { createHash } from 'node:crypto';
import { VaultError, type ErrorCode } from '../core/errors.js';
import {
  clipText,
  cvesIn,
  FIELD_LIMITS,
  SEVERITIES,
  type ScannedFinding,
  type ScannerAnalysis,
} from '../core/finding.js';

export const ZAP_SCANNER = 'ZAP';

/** Alert properties kept (same names in XML and JSON). */
export const ZAP_ALERT_FIELDS = [
  'pluginid',
  'alertRef',
  'alert',
  'name',
  'riskcode',
  'confidence',
  'riskdesc',
  'confidencedesc',
  'desc',
  'solution',
  'otherinfo',
  'reference',
  'cweid',
  'wascid',
  // Very old reports put one place on the alert itself.
  'uri',
  'method',
  'param',
  'attack',
  'evidence',
] as const;

/** Instance properties kept; request and response headers and bodies are not. */
export const ZAP_INSTANCE_FIELDS = [
  'uri',
  'method',
  'param',
  'attack',
  'evidence',
  'otherinfo',
] as const;
export type ZapInstance = Partial<Record<(typeof ZAP_INSTANCE_FIELDS)[number], string>>;

/** Places buffered per alert before they are flushed early (see ZapAlert.instance). */
export const MAX_PLACES_PER_ALERT = 1000;
/** Instances quoted in one finding's evidence; the others are counted. */
const MAX_QUOTED_INSTANCES = 10;
const MAX_INSTANCE_TEXT = 4096;
/** Characters of quoted instances kept per alert, whatever the number of places. */
const MAX_ALERT_EVIDENCE = 1_000_000;

export interface ZapSite {
  asset: string;
  port: number;
  service: string;
}

/**
 * A site's target: its origin, normalised as a browser would (lower-case
 * host, no default port), so that https://Example.com:443 and
 * https://example.com are one target.
 */
export function zapSite(name: string, code: ErrorCode, where: string): ZapSite {
  const raw = name.trim();
  const bad = (what: string): never => {
    throw new VaultError(code, `${where} ${what}; nothing was stored`);
  };
  if (raw === '') bad('has no name');
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    url = undefined;
  }
  if (url && (url.protocol === 'http:' || url.protocol === 'https:')) {
    const service = url.protocol.slice(0, -1);
    return {
      asset: url.origin,
      port: url.port !== '' ? Number(url.port) : service === 'https' ? 443 : 80,
      service,
    };
  }
  if (raw.length > FIELD_LIMITS.asset) bad(`has a name longer than ${FIELD_LIMITS.asset}`);
  return { asset: raw, port: 0, service: '' };
}

interface Place {
  fingerprint: string;
  location: string;
  quoted: string[];
  more: number;
}

/**
 * One alert being read: its properties as they come, its places as the
 * instances come. Both formats write the properties that follow the
 * instances (solution, reference, CWE) only after them, so the findings are
 * made when the alert ends.
 */
export class ZapAlert {
  private readonly fields = new Map<string, string>();
  private readonly tags: string[] = [];
  private places = new Map<string, Place>();
  private sawInstance = false;
  private evidenceBudget = MAX_ALERT_EVIDENCE;

  constructor(
    private readonly site: ZapSite,
    /** "ZAP XML: alert 3 of site 1", for messages. */
    private readonly where: string,
    private readonly code: ErrorCode,
    private readonly emit: (f: ScannedFinding) => void,
    private readonly maxPlaces = MAX_PLACES_PER_ALERT,
  ) {}

  field(name: string, value: string): void {
    this.fields.set(name, clipText(value, FIELD_LIMITS.text));
  }

  tag(name: string): void {
    if (this.tags.length < 100) this.tags.push(clipText(name, 256));
  }

  instance(i: ZapInstance): void {
    this.sawInstance = true;
    const method = (i.method ?? '').trim().toUpperCase();
    const uri = (i.uri ?? '').trim();
    const param = (i.param ?? '').trim();
    const url = withoutQueryValues(uri);
    // Keyed by the hash: a place costs the same memory however long its URL.
    const fingerprint = createHash('sha256')
      .update(`${method}\n${url}\n${param}`)
      .digest('hex')
      .slice(0, 32);
    let place = this.places.get(fingerprint);
    if (place === undefined) {
      // An alert with more places than this is flushed with what is known
      // so far (solution and references come after the instances), so that
      // memory stays bounded however many instances it has.
      if (this.places.size >= this.maxPlaces) this.flush();
      place = {
        fingerprint,
        location: clipText(
          [method, url, param !== '' ? `(${param})` : ''].filter((s) => s !== '').join(' '),
          FIELD_LIMITS.location,
        ),
        quoted: [],
        more: 0,
      };
      this.places.set(fingerprint, place);
    }
    if (place.quoted.length < MAX_QUOTED_INSTANCES && this.evidenceBudget > 0) {
      const text = clipText(quote(method, uri, i), MAX_INSTANCE_TEXT);
      this.evidenceBudget -= text.length;
      place.quoted.push(text);
    } else {
      place.more++;
    }
  }

  /** The alert has ended: its findings. */
  end(): void {
    const f = this.fields;
    if (!this.sawInstance) {
      // An alert that names its one place itself (old reports), or none.
      const own: ZapInstance = {};
      for (const k of ZAP_INSTANCE_FIELDS) {
        if (k !== 'otherinfo' && f.has(k)) own[k] = f.get(k);
      }
      this.instance(own);
    }
    this.flush();
  }

  private flush(): void {
    const finding = this.template();
    for (const place of this.places.values()) {
      const quoted = place.quoted.join('\n\n');
      this.emit({
        ...finding,
        fingerprint: place.fingerprint,
        location: place.location,
        evidence: clipText(
          place.more > 0 ? `${quoted}\n\n(and ${place.more} more instances)` : quoted,
          FIELD_LIMITS.text,
        ),
      });
    }
    this.places = new Map();
  }

  private template(): ScannedFinding {
    const f = (k: string) => (this.fields.get(k) ?? '').trim();
    const bad = (what: string): never => {
      throw new VaultError(this.code, `${this.where} ${what}; nothing was stored`);
    };
    // alertRef tells apart the alerts one rule raises (10020-1, 10020-2…);
    // reports older than ZAP 2.10 only have the rule's id.
    const pluginId = f('alertRef') || f('pluginid');
    if (pluginId === '') bad('has no pluginid');
    const risk = f('riskcode');
    const severity =
      (/^[0-3]$/.test(risk) ? SEVERITIES[Number(risk)] : undefined) ??
      bad('has a riskcode outside 0–3');
    const name = (f('name') || f('alert') || `ZAP rule ${pluginId}`).replace(/\s+/g, ' ');
    const cwe = Number(f('cweid'));
    const wasc = Number(f('wascid'));
    const ids = [cwe > 0 ? `CWE-${cwe}` : '', wasc > 0 ? `WASC-${wasc}` : ''].filter(Boolean);
    const description = [
      f('desc'),
      f('otherinfo') !== '' ? `Other information:\n${f('otherinfo')}` : '',
      f('reference') !== '' ? `References:\n${f('reference')}` : '',
      ids.join(', '),
    ].filter((s) => s !== '');
    return {
      asset: this.site.asset,
      scanner: ZAP_SCANNER,
      category: '',
      pluginId: clipText(pluginId, FIELD_LIMITS.pluginId),
      port: this.site.port,
      protocol: this.site.port > 0 ? 'tcp' : '',
      fingerprint: '',
      location: '',
      title: clipText(name, FIELD_LIMITS.title),
      severity,
      severityRaw: clipText(f('riskdesc') || risk, FIELD_LIMITS.text),
      cvss3Score: null,
      cvss3Vector: null,
      cvss2Score: null,
      cvss2Vector: null,
      cves: cvesIn(`${name} ${this.tags.join(' ')} ${f('reference')}`).slice(0, FIELD_LIMITS.cves),
      description: clipText(description.join('\n\n'), FIELD_LIMITS.text),
      solution: f('solution'),
      evidence: '',
      service: this.site.service,
      analysis: analysisOf(f('confidence'), f('confidencedesc')),
    };
  }
}

/**
 * ZAP confidence: 0 False Positive and 4 Confirmed are set by a person in
 * ZAP; 1–3 (Low, Medium, High) are the rule's own and say nothing more.
 */
function analysisOf(confidence: string, desc: string): ScannerAnalysis | null {
  const label = desc !== '' ? `${confidence} (${desc})` : confidence;
  if (confidence === '0') {
    return {
      state: 'false_positive',
      justification: null,
      response: [],
      detail: `ZAP confidence ${label}`,
    };
  }
  if (confidence === '4') {
    return {
      state: 'exploitable',
      justification: null,
      response: [],
      detail: `ZAP confidence ${label}`,
    };
  }
  return null;
}

function quote(method: string, uri: string, i: ZapInstance): string {
  const lines = [[method, uri].filter((s) => s !== '').join(' ')];
  for (const [label, key] of [
    ['param', 'param'],
    ['attack', 'attack'],
    ['evidence', 'evidence'],
    ['other info', 'otherinfo'],
  ] as const) {
    const v = (i[key] ?? '').trim();
    if (v !== '') lines.push(`${label}: ${v}`);
  }
  return lines.filter((s) => s !== '').join('\n');
}

/**
 * A URL with its query values and fragment dropped and its query names
 * sorted: the same page and parameters whatever values ZAP tried.
 */
export function withoutQueryValues(uri: string): string {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    const [path = '', query] = (uri.split('#')[0] ?? '').split('?', 2);
    if (query === undefined) return path;
    return `${path}?${names(query.split('&').map((p) => p.split('=')[0] ?? ''))}`;
  }
  const query = names([...url.searchParams.keys()]);
  const base = url.origin !== 'null' ? `${url.origin}${url.pathname}` : url.href.split(/[?#]/)[0];
  return query !== '' ? `${base}?${query}` : (base ?? '');
}

function names(keys: string[]): string {
  return [...new Set(keys.filter((k) => k !== ''))].sort().join('&');
}
