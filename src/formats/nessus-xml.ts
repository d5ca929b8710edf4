// Nessus v2 (.nessus, NessusClientData_v2) as a saxes push parser. Keeps only
// the ReportItem being built. No DTD is ever processed: any DOCTYPE is
// refused, so external entities and entity expansion bombs cannot happen;
// the five built-in entities and character references decode as usual.
//
//   NessusClientData_v2 > Report > ReportHost[name] > ReportItem[port, protocol,
//     svc_name, severity, pluginID, pluginName] > description, solution,
//     plugin_output, cve*, cvss3_base_score, cvss3_vector, cvss_base_score, …

import { type SaxesTagPlain } from 'saxes';
import { VaultError } from '../core/errors.js';
import {
  clipText,
  FIELD_LIMITS,
  parseScore,
  severityFromNessus,
  type ScannedFinding,
} from '../core/finding.js';
import type { FormatParser, ScanSink } from './format.js';
import { xmlStream } from './xml-stream.js';

const SCANNER = 'nessus';
const ROOT = 'NessusClientData_v2';

/** ReportItem children whose text we keep; everything else is skipped unread. */
const FIELDS = new Set([
  'description',
  'solution',
  'synopsis',
  'plugin_output',
  'cve',
  'cvss3_base_score',
  'cvss3_vector',
  'cvss_base_score',
  'cvss_vector',
  'risk_factor',
]);

interface Item {
  attrs: Record<string, string>;
  fields: Map<string, string>;
  cves: string[];
}

export function nessusXmlParser(sink: ScanSink): FormatParser {
  const xml = xmlStream({ xmlns: false });
  const { parser, where, fail } = xml;
  let depth = 0;
  let sawRoot = false;
  let host: string | undefined;
  let item: Item | undefined;
  let field: string | undefined;
  let text = '';
  let itemCount = 0;

  const onText = (t: string) => {
    if (field !== undefined && text.length < FIELD_LIMITS.text) text += t;
  };

  parser.on('opentag', (tag: SaxesTagPlain) => {
    depth++;
    if (depth === 1) {
      if (tag.name !== ROOT) {
        throw new VaultError(
          'xml_wrong_root',
          `the root element (at ${where()}) must be ${ROOT}, a Nessus v2 export; nothing was stored`,
        );
      }
      sawRoot = true;
      return;
    }
    if (tag.name === 'ReportHost' && depth === 3) {
      host = clipText((tag.attributes.name ?? '').trim(), FIELD_LIMITS.asset + 1);
      if (host === '') fail('ReportHost has no name');
      sink.asset(SCANNER, host);
    } else if (tag.name === 'ReportItem' && host !== undefined && depth === 4) {
      // saxes makes a new attributes object for every tag: kept, not copied.
      item = { attrs: tag.attributes, fields: new Map(), cves: [] };
      // Text is only listened to inside a ReportItem: saxes then skips
      // building strings for all other text (host properties, policy, the
      // whitespace between hosts). Per item, not per field: each on/off is a
      // keyed store in saxes that costs about as much as the text it saves.
      parser.on('text', onText);
      parser.on('cdata', onText);
    } else if (item && depth === 5 && FIELDS.has(tag.name)) {
      field = tag.name;
      text = '';
    }
  });
  parser.on('closetag', (tag: SaxesTagPlain) => {
    if (depth === 5 && field !== undefined && item) {
      if (field === 'cve') {
        if (item.cves.length < FIELD_LIMITS.cves) item.cves.push(text.trim().toUpperCase());
      } else {
        item.fields.set(field, clipText(text, FIELD_LIMITS.text));
      }
      field = undefined;
      text = '';
    } else if (depth === 4 && tag.name === 'ReportItem' && item && host !== undefined) {
      itemCount++;
      parser.off('text');
      parser.off('cdata');
      void sink.finding(toFinding(host, item, itemCount));
      item = undefined;
    } else if (depth === 3 && tag.name === 'ReportHost') {
      host = undefined;
    }
    depth--;
  });

  return {
    write(chunk) {
      xml.write(chunk);
    },
    end() {
      xml.close();
      if (!sawRoot) fail('the document has no root element');
    },
  };
}

function toFinding(host: string, item: Item, n: number): ScannedFinding {
  const a = item.attrs;
  const pluginId = (a.pluginID ?? '').trim();
  if (pluginId === '') {
    throw new VaultError('scan_invalid', `ReportItem ${n} has no pluginID; nothing was stored`);
  }
  const port = Number((a.port ?? '0').trim());
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new VaultError('scan_invalid', `ReportItem ${n} has an invalid port; nothing was stored`);
  }
  const rawSeverity = (a.severity ?? '').trim();
  const severity = severityFromNessus(rawSeverity);
  if (severity === undefined) {
    throw new VaultError(
      'scan_invalid',
      `ReportItem ${n} has a severity outside 0–4; nothing was stored`,
    );
  }
  const f = item.fields;
  const cvss3Vector = f.get('cvss3_vector')?.trim() || null;
  const cvss2Vector = f.get('cvss_vector')?.trim() || null;
  return {
    asset: host,
    scanner: SCANNER,
    pluginId,
    port,
    protocol: (a.protocol ?? '').trim().toLowerCase(),
    title: clipText((a.pluginName ?? '').trim(), FIELD_LIMITS.title),
    severity,
    severityRaw: rawSeverity,
    cvss3Score: parseScore(f.get('cvss3_base_score')),
    cvss3Vector: cvss3Vector && clipText(cvss3Vector, FIELD_LIMITS.vector),
    cvss2Score: parseScore(f.get('cvss_base_score')),
    cvss2Vector: cvss2Vector && clipText(cvss2Vector, FIELD_LIMITS.vector),
    cves: [...new Set(item.cves.filter((c) => c.length > 0))],
    description: f.get('description') ?? f.get('synopsis') ?? '',
    solution: f.get('solution') ?? '',
    evidence: f.get('plugin_output') ?? '',
    service: clipText((a.svc_name ?? '').trim(), FIELD_LIMITS.service),
    category: '',
    fingerprint: '',
    location: '',
    analysis: null,
  };
}
