// CycloneDX 1.4–1.7 XML as a saxes push parser: the same records as the JSON
// parser, handed to the same assembler (cyclonedx-common.ts), so a BOM gives
// the same findings in either encoding. Only the element being read is kept.
// No DTD is ever processed: a DOCTYPE is refused (no external entities, no
// entity expansion); the five built-in entities and character references
// decode as usual. Elements of other namespaces (extensions) are skipped.
//
//   bom[xmlns=http://cyclonedx.org/schema/bom/1.x]
//     metadata > component[bom-ref] > group, name, version, purl, components > component…
//     components > component[bom-ref] > group, name, version, purl, components > component…
//     vulnerabilities > vulnerability > id, ratings > rating > score|severity|method|vector,
//       references > reference > id, description, detail, recommendation, workaround,
//       analysis > state|justification|responses > response|detail, affects > target > ref

import { type SaxesTagNS } from 'saxes';
import { VaultError } from '../core/errors.js';
import { FIELD_LIMITS, parseScore } from '../core/finding.js';
import {
  CYCLONEDX_VERSIONS,
  CycloneDxAssembler,
  cycloneDxInvalid,
  emptyComponent,
  emptyVulnerability,
  type CdxComponent,
  type CdxRating,
  type CdxVulnerability,
} from './cyclonedx-common.js';
import type { FormatParser, ParseOptions, ScanSink } from './format.js';
import { xmlStream } from './xml-stream.js';

const NAMESPACE = /^http:\/\/cyclonedx\.org\/schema\/bom\/(\d{1,2}\.\d{1,2})$/;
const COMPONENT_FIELDS = new Set(['bom-ref', 'purl', 'group', 'name', 'version']);

/** Paths below <vulnerability> whose text is read. */
const VULN_FIELDS = new Set([
  'id',
  'description',
  'detail',
  'recommendation',
  'workaround',
  'ratings/rating/score',
  'ratings/rating/severity',
  'ratings/rating/method',
  'ratings/rating/vector',
  'references/reference/id',
  'analysis/state',
  'analysis/justification',
  'analysis/detail',
  'analysis/responses/response',
  'affects/target/ref',
]);

interface OpenComponent {
  depth: number;
  c: CdxComponent;
  subject: boolean;
  top: boolean;
}

interface OpenVulnerability {
  depth: number;
  v: CdxVulnerability;
  position: string;
  rating: CdxRating | undefined;
}

export function cycloneDxXmlParser(sink: ScanSink, options: ParseOptions = {}): FormatParser {
  const bom = new CycloneDxAssembler(sink, options);
  const xml = xmlStream({ xmlns: true });
  const { parser, where, fail: malformed } = xml;
  let ns: string | undefined;
  // Local names of the open elements; '' for elements of another namespace.
  const stack: string[] = [];
  const components: OpenComponent[] = [];
  let vuln: OpenVulnerability | undefined;
  let vulnCount = 0;
  // The element whose text is read, by its depth, and what it is.
  let captureDepth = 0;
  let capture = '';
  let text = '';

  const onText = (t: string) => {
    if (captureDepth !== 0 && text.length < FIELD_LIMITS.text) text += t;
  };
  parser.on('text', onText);
  parser.on('cdata', onText);

  parser.on('opentag', (tag: SaxesTagNS) => {
    const depth = stack.length + 1;
    if (depth === 1) {
      const version = NAMESPACE.exec(tag.uri)?.[1];
      if (tag.local !== 'bom' || version === undefined) {
        throw new VaultError(
          'xml_wrong_root',
          `the root element (at ${where()}) must be bom in a CycloneDX namespace ` +
            '(http://cyclonedx.org/schema/bom/1.x); nothing was stored',
        );
      }
      if (!CYCLONEDX_VERSIONS.has(version)) {
        throw cycloneDxInvalid(
          `CycloneDX XML ${version} is not supported (${[...CYCLONEDX_VERSIONS].join(', ')} are)`,
        );
      }
      ns = tag.uri;
      stack.push('bom');
      return;
    }
    const local = tag.uri === ns ? tag.local : '';
    stack.push(local);
    if (local === '' || captureDepth !== 0) return;
    const parent = stack[depth - 2];
    if (vuln !== undefined) {
      const rel = stack.slice(vuln.depth).join('/');
      if (rel === 'ratings/rating') {
        vuln.rating = { severity: '', score: null, method: '', vector: '' };
      } else if (rel === 'analysis') {
        vuln.v.analysis = { state: '', justification: '', responses: [], detail: '' };
      } else if (VULN_FIELDS.has(rel)) {
        startCapture(depth, rel);
      }
      return;
    }
    if (depth === 3 && local === 'vulnerability' && parent === 'vulnerabilities') {
      vulnCount++;
      vuln = {
        depth,
        v: emptyVulnerability(),
        position: `vulnerability ${vulnCount} (line ${parser.line})`,
        rating: undefined,
      };
      return;
    }
    const open = components[components.length - 1];
    if (local === 'component') {
      const subject = depth === 3 && parent === 'metadata';
      const top = depth === 3 && parent === 'components';
      const nested = parent === 'components' && open !== undefined && open.depth === depth - 2;
      if (subject || top || nested) {
        const c = emptyComponent();
        c.bomRef = (tag.attributes['bom-ref']?.value ?? '').trim().slice(0, 1024);
        if (top) bom.componentsStarted();
        components.push({ depth, c, subject, top });
      }
    } else if (open !== undefined && depth === open.depth + 1 && COMPONENT_FIELDS.has(local)) {
      startCapture(depth, `component/${local}`);
    }
  });

  parser.on('closetag', () => {
    const depth = stack.length;
    if (captureDepth === depth) {
      store(capture, text);
      captureDepth = 0;
      text = '';
    }
    if (vuln !== undefined) {
      if (depth === vuln.depth) {
        const done = vuln;
        vuln = undefined;
        bom.vulnerability(done.v, done.position);
      } else if (
        vuln.rating !== undefined &&
        depth === vuln.depth + 2 &&
        stack[depth - 1] === 'rating'
      ) {
        vuln.v.ratings.push(vuln.rating);
        vuln.rating = undefined;
      }
    } else {
      const open = components[components.length - 1];
      if (open !== undefined && open.depth === depth) {
        components.pop();
        if (open.subject) bom.setSubject(open.c);
        else bom.addComponent(open.c, open.top);
      }
    }
    stack.pop();
  });

  function startCapture(depth: number, what: string): void {
    captureDepth = depth;
    capture = what;
    text = '';
  }

  function store(what: string, raw: string): void {
    const s = raw.trim();
    const open = components[components.length - 1];
    if (what.startsWith('component/')) {
      if (open === undefined) return;
      const c = open.c;
      if (what === 'component/purl') c.purl = s.slice(0, 1024);
      else if (what === 'component/group') c.group = s.slice(0, 255);
      else if (what === 'component/name') c.name = s.slice(0, 255);
      else if (what === 'component/version') c.version = s.slice(0, 255);
      return;
    }
    if (vuln === undefined) return;
    const v = vuln.v;
    const r = vuln.rating;
    const a = v.analysis;
    switch (what) {
      case 'id':
        v.id = s;
        break;
      case 'description':
      case 'detail':
      case 'recommendation':
      case 'workaround':
        v[what] = raw;
        break;
      case 'ratings/rating/score':
        if (r) r.score = parseScore(s);
        break;
      case 'ratings/rating/severity':
        if (r) r.severity = s;
        break;
      case 'ratings/rating/method':
        if (r) r.method = s;
        break;
      case 'ratings/rating/vector':
        if (r) r.vector = s;
        break;
      case 'references/reference/id':
        v.referenceIds.push(s);
        break;
      case 'analysis/state':
        if (a) a.state = s;
        break;
      case 'analysis/justification':
        if (a) a.justification = s;
        break;
      case 'analysis/detail':
        if (a) a.detail = raw;
        break;
      case 'analysis/responses/response':
        a?.responses.push(s);
        break;
      case 'affects/target/ref':
        v.affects.push(s);
        break;
    }
  }

  return {
    write(chunk) {
      xml.write(chunk);
    },
    end() {
      xml.close();
      if (ns === undefined) malformed('the document has no root element');
      bom.end();
    },
  };
}
