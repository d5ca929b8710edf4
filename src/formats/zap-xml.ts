// OWASP ZAP XML reports (the "Traditional XML" report and its -plus variant)
// as a saxes push parser. Keeps only the alert being read, with its places
// bounded (zap-common.ts). Request and response headers and bodies (-plus)
// are skipped unread. No DTD is ever processed: any DOCTYPE is refused.
//
//   OWASPZAPReport > site[name] > alerts > alertitem > pluginid, alertRef, name,
//     riskcode, confidence, riskdesc, desc, instances > instance > uri, method,
//     param, attack, evidence, otherinfo; solution, otherinfo, reference,
//     cweid, wascid, tags > tag > tag

import { type SaxesTagPlain } from 'saxes';
import { VaultError } from '../core/errors.js';
import { FIELD_LIMITS } from '../core/finding.js';
import { targetOrMissing, type FormatParser, type ParseOptions, type ScanSink } from './format.js';
import { xmlStream } from './xml-stream.js';
import {
  ZAP_ALERT_FIELDS,
  ZAP_INSTANCE_FIELDS,
  ZAP_SCANNER,
  ZapAlert,
  zapSite,
  type ZapInstance,
  type ZapSite,
} from './zap-common.js';

const ROOT = 'OWASPZAPReport';
const FORMAT = 'ZAP XML';
const ALERT_FIELDS = new Set<string>(ZAP_ALERT_FIELDS);
const INSTANCE_FIELDS = new Set<string>(ZAP_INSTANCE_FIELDS);

// Depths: 1 report, 2 site, 3 alerts, 4 alertitem, 5 its properties and
// instances/tags, 6 instance/tag, 7 their properties.
const SITE = 2;
const ALERT = 4;

export function zapXmlParser(sink: ScanSink, options: ParseOptions): FormatParser {
  const xml = xmlStream({ xmlns: false });
  const { parser, where, fail } = xml;
  let depth = 0;
  let sawRoot = false;
  let siteCount = 0;
  let alertCount = 0;
  let site: ZapSite | undefined;
  let alert: ZapAlert | undefined;
  let instance: ZapInstance | undefined;
  // The element whose text is being kept, and where it goes.
  let field: string | undefined;
  let text = '';
  let section: 'instances' | 'tags' | undefined;
  // Two sites may be one origin (https://h and https://h:443).
  const declared = new Set<string>();

  const onText = (t: string) => {
    if (field !== undefined && text.length < FIELD_LIMITS.text) text += t;
  };

  parser.on('opentag', (tag: SaxesTagPlain) => {
    depth++;
    if (depth === 1) {
      if (tag.name !== ROOT) {
        throw new VaultError(
          'xml_wrong_root',
          `the root element (at ${where()}) must be ${ROOT}, a ZAP XML report; nothing was stored`,
        );
      }
      sawRoot = true;
    } else if (depth === SITE && tag.name === 'site') {
      siteCount++;
      alertCount = 0;
      site = zapSite(tag.attributes.name ?? '', 'zap_invalid', `${FORMAT}: site ${siteCount}`);
      if (!declared.has(site.asset)) {
        declared.add(site.asset);
        sink.asset(ZAP_SCANNER, site.asset);
      }
    } else if (depth === ALERT && tag.name === 'alertitem' && site !== undefined) {
      alertCount++;
      alert = new ZapAlert(
        site,
        `${FORMAT}: alert ${alertCount} of site ${siteCount}`,
        'zap_invalid',
        (f) => void sink.finding(f),
      );
      // Text is only listened to inside an alert (see nessus-xml.ts).
      parser.on('text', onText);
      parser.on('cdata', onText);
    } else if (alert !== undefined) {
      if (depth === ALERT + 1) {
        if (tag.name === 'instances' || tag.name === 'tags') section = tag.name;
        else if (ALERT_FIELDS.has(tag.name)) keep(tag.name);
      } else if (depth === ALERT + 2 && section === 'instances' && tag.name === 'instance') {
        instance = {};
      } else if (depth === ALERT + 3 && instance !== undefined && INSTANCE_FIELDS.has(tag.name)) {
        keep(tag.name);
      } else if (depth === ALERT + 3 && section === 'tags' && tag.name === 'tag') {
        keep(tag.name);
      }
    }
  });
  parser.on('closetag', (tag: SaxesTagPlain) => {
    if (alert !== undefined) {
      if (field !== undefined && (depth === ALERT + 1 || depth === ALERT + 3)) {
        if (depth === ALERT + 1) alert.field(field, text);
        else if (instance !== undefined) instance[field as keyof ZapInstance] = text;
        else alert.tag(text);
        field = undefined;
        text = '';
      } else if (depth === ALERT + 2 && instance !== undefined) {
        alert.instance(instance);
        instance = undefined;
      } else if (depth === ALERT + 1) {
        section = undefined;
      } else if (depth === ALERT && tag.name === 'alertitem') {
        parser.off('text');
        parser.off('cdata');
        const done = alert;
        alert = undefined;
        done.end();
      }
    } else if (depth === SITE) {
      site = undefined;
    }
    depth--;
  });

  function keep(name: string) {
    field = name;
    text = '';
  }

  return {
    write(chunk) {
      xml.write(chunk);
    },
    end() {
      xml.close();
      if (!sawRoot) fail('the document has no root element');
      // A report of no site names no target: the upload's covers it.
      if (siteCount === 0) {
        const own = zapSite(
          targetOrMissing(FORMAT, options),
          'zap_invalid',
          `${FORMAT}: the target`,
        );
        sink.asset(ZAP_SCANNER, own.asset);
      }
    },
  };
}
