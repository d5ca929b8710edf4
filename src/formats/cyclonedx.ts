// CycloneDX 1.4–1.7 JSON, streamed: the subject's and the components' few
// identifying fields are read value by value (never a whole component tree),
// each vulnerability is built alone and handed to the shared assembler
// (cyclonedx-common.ts: target, identity, severity, analysis).

import {
  CYCLONEDX_VERSIONS,
  CycloneDxAssembler,
  cycloneDxInvalid,
  emptyComponent,
  emptyVulnerability,
  MAX_COMPONENT_NESTING,
  type CdxComponent,
  type CdxVulnerability,
} from './cyclonedx-common.js';
import type { FormatParser, ParseOptions, ScanSink } from './format.js';
import { isObject, jsonStreamParser, str, type JsonValue } from './json-stream.js';
import { parseScore } from '../core/finding.js';

const FIELDS = ['bom-ref', 'purl', 'group', 'name', 'version'] as const;
type Field = (typeof FIELDS)[number];

/** Selectors of the fields of a component at `root` and of its nested components. */
function componentPaths(root: string): string[] {
  const paths: string[] = [];
  for (let depth = 0; depth <= MAX_COMPONENT_NESTING; depth++) {
    const prefix = root + '.components.*'.repeat(depth);
    for (const f of FIELDS) paths.push(`${prefix}.${f}`);
  }
  return paths;
}

const PATHS = [
  '$.bomFormat',
  '$.specVersion',
  ...componentPaths('$.metadata.component'),
  ...componentPaths('$.components.*'),
  '$.vulnerabilities.*',
];

export function cycloneDxParser(sink: ScanSink, options: ParseOptions = {}): FormatParser {
  const bom = new CycloneDxAssembler(sink, options);
  const components = new ComponentCollector(bom);
  let bomFormat: string | undefined;
  let specVersion: string | undefined;

  const checkVersion = () => {
    if (specVersion !== undefined && !CYCLONEDX_VERSIONS.has(specVersion)) {
      throw cycloneDxInvalid(`specVersion must be one of ${[...CYCLONEDX_VERSIONS].join(', ')}`);
    }
  };

  const inner = jsonStreamParser({
    paths: PATHS,
    shapeError: 'cyclonedx_invalid',
    what: 'the CycloneDX document',
    onValue(path, value) {
      const top = path[0];
      if (path.length === 1 && top === 'bomFormat') {
        bomFormat = str(value);
        if (bomFormat !== 'CycloneDX') throw cycloneDxInvalid('bomFormat must be "CycloneDX"');
      } else if (path.length === 1 && top === 'specVersion') {
        specVersion = str(value);
        checkVersion();
      } else if (top === 'vulnerabilities') {
        const index = path[1];
        if (typeof index !== 'number') throw cycloneDxInvalid('vulnerabilities must be an array');
        components.flush();
        const position = `vulnerability ${index + 1}`;
        bom.vulnerability(toVulnerability(value, position), position);
      } else {
        components.value(path, value);
      }
    },
  });

  return {
    write: (chunk) => inner.write(chunk),
    end() {
      void inner.end();
      if (bomFormat === undefined) throw cycloneDxInvalid('bomFormat "CycloneDX" is missing');
      if (specVersion === undefined) throw cycloneDxInvalid('specVersion is missing');
      components.flush();
      bom.end();
    },
  };
}

/**
 * Groups the streamed fields of components into components. The fields of
 * one component share the path before the field name; a component is
 * complete when a value arrives that is neither in it nor in a component
 * nested in it (JSON objects are contiguous), so only the chain of open
 * components (at most MAX_COMPONENT_NESTING deep) is kept.
 */
class ComponentCollector {
  private readonly open: { prefix: string; c: CdxComponent; subject: boolean; top: boolean }[] = [];

  constructor(private readonly bom: CycloneDxAssembler) {}

  value(path: readonly (string | number)[], value: JsonValue): void {
    const field = path[path.length - 1] as Field;
    const parent = path.slice(0, -1);
    if (parent[0] === 'components' && typeof parent[1] !== 'number') {
      throw cycloneDxInvalid('components must be an array');
    }
    const prefix = parent.join('/');
    this.closeUntil(prefix);
    let top = this.open[this.open.length - 1];
    if (top?.prefix !== prefix) {
      const subject = prefix === 'metadata/component';
      top = {
        prefix,
        c: emptyComponent(),
        subject,
        top: parent[0] === 'components' && parent.length === 2,
      };
      if (top.top) this.bom.componentsStarted();
      this.open.push(top);
    }
    const s = str(value).trim();
    const c = top.c;
    if (field === 'bom-ref') c.bomRef = s.slice(0, 1024);
    else if (field === 'purl') c.purl = s.slice(0, 1024);
    else if (field === 'group') c.group = s.slice(0, 255);
    else if (field === 'name') c.name = s.slice(0, 255);
    else c.version = s.slice(0, 255);
  }

  /** Every open component is complete (a vulnerability or the end came). */
  flush(): void {
    this.closeUntil('');
  }

  /** Completes the open components that `prefix` is not inside of. */
  private closeUntil(prefix: string): void {
    for (;;) {
      const top = this.open[this.open.length - 1];
      if (top === undefined || prefix === top.prefix || prefix.startsWith(`${top.prefix}/`)) return;
      this.open.pop();
      if (top.subject) this.bom.setSubject(top.c);
      else this.bom.addComponent(top.c, top.top);
    }
  }
}

function toVulnerability(value: JsonValue, position: string): CdxVulnerability {
  if (!isObject(value)) throw cycloneDxInvalid(`${position} is not an object`);
  const v = emptyVulnerability();
  v.id = str(value.id);
  for (const r of arrayOf(value.ratings)) {
    if (!isObject(r)) continue;
    const score =
      typeof r.score === 'number' || typeof r.score === 'string' ? parseScore(r.score) : null;
    v.ratings.push({
      severity: str(r.severity),
      score,
      method: str(r.method),
      vector: str(r.vector),
    });
  }
  for (const ref of arrayOf(value.references)) if (isObject(ref)) v.referenceIds.push(str(ref.id));
  v.description = str(value.description);
  v.detail = str(value.detail);
  v.recommendation = str(value.recommendation);
  v.workaround = str(value.workaround);
  const a = value.analysis;
  if (a !== undefined && a !== null) {
    if (!isObject(a)) throw cycloneDxInvalid(`${position}: analysis is not an object`);
    v.analysis = {
      state: str(a.state),
      justification: str(a.justification),
      responses: arrayOf(a.response).map((r) => str(r)),
      detail: str(a.detail),
    };
  }
  for (const t of arrayOf(value.affects)) if (isObject(t)) v.affects.push(str(t.ref));
  return v;
}

function arrayOf(v: JsonValue | undefined): JsonValue[] {
  return Array.isArray(v) ? v : [];
}
