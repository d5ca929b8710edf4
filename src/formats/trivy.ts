// Trivy JSON reports (trivy image|fs|repo|config|sbom --format json), streamed
// entry by entry. SchemaVersion 2 ({"ArtifactName", "Results": [...]}) and the
// pre-0.20 form (a bare list of results, or `null` when clean) are read.
// Target: ?target= if given, else ArtifactName (the pre-0.20 form names none);
// scanner "Trivy", category ''. Every Results[] entry's Vulnerabilities,
// failed Misconfigurations, Secrets and ExperimentalModifiedFindings (with
// their .trivyignore/VEX verdict) become findings; licenses do not. A report
// without any is a clean scan of its target. Streaming needs ArtifactName
// before Results and each result's Target before its entries, the order Trivy
// writes them in (also true of key-sorted JSON); otherwise the error says so.

import { VaultError } from '../core/errors.js';
import type { ScannedFinding } from '../core/finding.js';
import { artifactTarget } from './artifact-scan.js';
import type { FormatParser, ParseOptions, ScanSink } from './format.js';
import { jsonStreamParser, str, type JsonValue } from './json-stream.js';
import {
  misconfigurationFinding,
  modifiedFinding,
  secretFinding,
  TRIVY,
  vulnerabilityFinding,
  type EntryContext,
  type TrivyResult,
} from './trivy-findings.js';

const ENTRIES: Readonly<
  Record<string, (value: JsonValue, c: EntryContext) => ScannedFinding | null>
> = {
  Vulnerabilities: vulnerabilityFinding,
  Misconfigurations: misconfigurationFinding,
  Secrets: secretFinding,
  ExperimentalModifiedFindings: modifiedFinding,
};

/** The pre-0.20 list form is read as if it were {"Results": <list>}. */
const LEGACY_PREFIX = new TextEncoder().encode('{"Results":');
const LEGACY_SUFFIX = new TextEncoder().encode('}');

const isSpace = (b: number) => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;

export function trivyParser(sink: ScanSink, options: ParseOptions): FormatParser {
  let mode: 'start' | 'report' | 'legacy' = 'start';
  let skipped = 0; // leading whitespace, not passed on
  let schemaVersion: JsonValue | undefined;
  let artifactName: string | undefined;
  let asset: string | undefined;
  let result: (TrivyResult & { index: number; hasTarget: boolean }) | undefined;

  const invalid = (what: string): never => {
    throw new VaultError('trivy_invalid', `Trivy: ${what}; nothing was stored`);
  };

  /** The target, fixed (and declared) when first needed: by an entry, else at the end. */
  const target = (atEnd = false): string => {
    if (asset === undefined) {
      if (!atEnd && mode === 'report' && artifactName === undefined && !options.target) {
        invalid(
          'Results come before ArtifactName (Trivy writes ArtifactName first); ' +
            'give the target with ?target=NAME (vulnvault upload --target NAME)',
        );
      }
      asset = artifactTarget(artifactName, options, 'Trivy', 'trivy_invalid');
      sink.asset(TRIVY, asset, '');
    }
    return asset;
  };

  const onResultField = (i: number, key: string, value: JsonValue) => {
    if (result?.index !== i) result = { index: i, target: '', cls: '', type: '', hasTarget: false };
    if (key === 'Target') {
      result.target = str(value);
      result.hasTarget = true;
    } else if (key === 'Class') result.cls = str(value);
    else result.type = str(value);
  };

  const onEntry = (i: number, list: string, j: string | number | undefined, value: JsonValue) => {
    if (typeof j !== 'number') invalid(`Results[${i}].${list} must be an array`);
    if (result?.index !== i || !result.hasTarget) {
      invalid(`Results[${i}]: Target must come before ${list} (the order Trivy writes)`);
    }
    const f = ENTRIES[list]?.(value, {
      asset: target(),
      result: result as TrivyResult,
      where: `Results[${i}].${list}[${j as number}]`,
      invalid,
    });
    if (f) void sink.finding(f);
  };

  const inner = jsonStreamParser({
    paths: [
      '$.SchemaVersion',
      '$.ArtifactName',
      '$.ClusterName',
      '$.Results.*.Target',
      '$.Results.*.Class',
      '$.Results.*.Type',
      ...Object.keys(ENTRIES).map((k) => `$.Results.*.${k}.*`),
    ],
    shapeError: 'trivy_invalid',
    what: 'the Trivy report',
    onValue(path, value) {
      const [top, i, key, j] = path;
      if (top === 'SchemaVersion') schemaVersion = value;
      else if (top === 'ArtifactName') artifactName = str(value);
      else if (top === 'ClusterName') {
        invalid(
          'this is a Kubernetes cluster report (trivy k8s), which is not supported; ' +
            'upload the reports of trivy image, fs, repo, config or sbom',
        );
      } else if (typeof i === 'number' && typeof key === 'string') {
        if (j === undefined) onResultField(i, key, value);
        else onEntry(i, key, j, value);
      }
    },
  });

  // Byte offsets in JSON syntax errors count the bytes given to `inner`: take
  // out the legacy prefix and add back the leading whitespace not passed on.
  const shift = () => (mode === 'legacy' ? LEGACY_PREFIX.byteLength : 0) - skipped;
  const passOn = (bytes: Uint8Array) => {
    try {
      void inner.write(bytes);
    } catch (err) {
      if (err instanceof VaultError && err.code === 'invalid_json' && shift() !== 0) {
        throw new VaultError(
          'invalid_json',
          err.message.replace(/at byte (\d+)/, (_m, n: string) => `at byte ${Number(n) - shift()}`),
        );
      }
      throw err;
    }
  };

  return {
    write(chunk) {
      if (mode === 'start') {
        const first = chunk.findIndex((b) => !isSpace(b));
        if (first < 0) {
          skipped += chunk.byteLength;
          return;
        }
        skipped += first;
        chunk = chunk.subarray(first);
        // `[` or `null`: the pre-0.20 list form
        mode = chunk[0] === 0x5b || chunk[0] === 0x6e ? 'legacy' : 'report';
        if (mode === 'legacy') passOn(LEGACY_PREFIX);
      }
      passOn(chunk);
    },
    end() {
      if (mode === 'legacy') passOn(LEGACY_SUFFIX);
      void inner.end();
      if (mode === 'report' && schemaVersion !== 2) {
        invalid('SchemaVersion must be 2 (the report of trivy … --format json)');
      }
      target(true);
    },
  };
}
