// OWASP ZAP JSON reports (the "Traditional JSON" report and its -plus
// variant) on the shared streaming JSON reader. Only a site's @name, an
// alert's properties and one instance or tag at a time are built; request
// and response bodies (-plus) are dropped with their instance.
//
//   { "@programName", "@version", "site": [ { "@name", "@host", "@port",
//     "alerts": [ { "pluginid", "alertRef", "name", "riskcode", "confidence",
//       "riskdesc", "desc", "instances": [ { "uri", "method", "param", … } ],
//       "solution", "otherinfo", "reference", "cweid", "wascid",
//       "tags": [ { "tag", "link" } ] } ] } ] }

import { VaultError } from '../core/errors.js';
import { targetOrMissing, type FormatParser, type ParseOptions, type ScanSink } from './format.js';
import { isObject, jsonStreamParser, str, type JsonValue } from './json-stream.js';
import {
  ZAP_ALERT_FIELDS,
  ZAP_INSTANCE_FIELDS,
  ZAP_SCANNER,
  ZapAlert,
  zapSite,
  type ZapInstance,
  type ZapSite,
} from './zap-common.js';

const FORMAT = 'ZAP JSON';
const ALERT_FIELDS = new Set<string>(ZAP_ALERT_FIELDS);

export function zapJsonParser(sink: ScanSink, options: ParseOptions): FormatParser {
  let sawVersion = false;
  let siteIndex = -1;
  let siteCount = 0;
  let site: ZapSite | undefined;
  let alert: ZapAlert | undefined;
  let alertIndex = -1;
  // Two sites may be one origin (https://h and https://h:443).
  const declared = new Set<string>();

  const invalid = (what: string): never => {
    throw new VaultError('zap_invalid', `${FORMAT}: ${what}; nothing was stored`);
  };
  const endAlert = () => {
    const done = alert;
    alert = undefined;
    done?.end();
  };

  const inner = jsonStreamParser({
    paths: [
      '$.@version',
      '$.@programName',
      // Only to refuse a site given as an object: its properties are not read.
      '$.site.@name',
      '$.site.*.@name',
      ...ZAP_ALERT_FIELDS.map((k) => `$.site.*.alerts.*.${k}`),
      '$.site.*.alerts.*.instances.*',
      '$.site.*.alerts.*.tags.*',
    ],
    shapeError: 'zap_invalid',
    what: `the ${FORMAT} report`,
    onValue(path, value) {
      const [top, i, key, j, prop] = path;
      if (top === '@version' || top === '@programName') {
        sawVersion = true;
        return;
      }
      if (typeof i !== 'number') return invalid('"site" must be an array of sites');
      if (key === '@name') {
        endAlert();
        siteIndex = i;
        siteCount++;
        site = zapSite(str(value), 'zap_invalid', `${FORMAT}: site ${i + 1}`);
        if (!declared.has(site.asset)) {
          declared.add(site.asset);
          sink.asset(ZAP_SCANNER, site.asset);
        }
        return;
      }
      if (typeof j !== 'number') return undefined;
      if (site === undefined || siteIndex !== i) {
        return invalid(`site ${i + 1} has alerts before its "@name" (or none)`);
      }
      if (alert === undefined || alertIndex !== j) {
        endAlert();
        alertIndex = j;
        alert = new ZapAlert(
          site,
          `${FORMAT}: alert ${j + 1} of site ${i + 1}`,
          'zap_invalid',
          (f) => void sink.finding(f),
        );
      }
      if (prop === 'instances') {
        if (!isObject(value))
          return invalid(`an instance of alert ${j + 1} of site ${i + 1} is not an object`);
        alert.instance(instanceOf(value));
      } else if (prop === 'tags') {
        if (isObject(value)) alert.tag(str(value.tag));
      } else if (typeof prop === 'string' && ALERT_FIELDS.has(prop) && path.length === 5) {
        alert.field(prop, str(value));
      }
      return undefined;
    },
  });

  return {
    write: (chunk) => inner.write(chunk),
    async end() {
      await inner.end();
      endAlert();
      if (siteCount > 0) return;
      if (!sawVersion)
        invalid('the document has no "site" array and no "@version": not a ZAP report');
      // A report of no site names no target: the upload's covers it.
      const own = zapSite(targetOrMissing(FORMAT, options), 'zap_invalid', `${FORMAT}: the target`);
      sink.asset(ZAP_SCANNER, own.asset);
    },
  };
}

function instanceOf(v: { [k: string]: JsonValue }): ZapInstance {
  const i: ZapInstance = {};
  for (const k of ZAP_INSTANCE_FIELDS) {
    if (v[k] !== undefined) i[k] = str(v[k]);
  }
  return i;
}
