// SARIF 2.1.0 (static analysis) streamed result by result. The scanner is the
// run's tool.driver.name, which SARIF writers emit before the results (it is
// required to come first here). Identity: asset = the result's artifact URI,
// plugin = ruleId, port = start line (0 when absent), protocol = "sarif".
// Severity: a numeric `security-severity` property (GitHub convention, CVSS
// scale) wins; otherwise level error → high, warning (the default) → medium,
// note → low, none → info.

import { VaultError } from '../core/errors.js';
import {
  clipText,
  FIELD_LIMITS,
  parseScore,
  severityFromScore,
  type ScannedFinding,
  type Severity,
} from '../core/finding.js';
import type { FormatParser, ScanSink } from './format.js';
import { isObject, jsonStreamParser, str, type JsonValue } from './json-stream.js';

const LEVELS: Record<string, Severity> = {
  error: 'high',
  warning: 'medium',
  note: 'low',
  none: 'info',
};

export function sarifParser(sink: ScanSink): FormatParser {
  const tools = new Map<number, string>();
  let version: string | undefined;
  let results = 0;

  const invalid = (what: string): never => {
    throw new VaultError('sarif_invalid', `SARIF: ${what}; nothing was stored`);
  };

  const inner = jsonStreamParser({
    paths: ['$.version', '$.runs.*.tool.driver.name', '$.runs.*.results.*'],
    shapeError: 'sarif_invalid',
    what: 'the SARIF log',
    onValue(path, value) {
      if (path.length === 1 && path[0] === 'version') {
        version = str(value);
        return;
      }
      const run = path[1] as number;
      if (path[2] === 'tool') {
        const name = str(value).trim();
        if (name === '') invalid(`run ${run} has an empty tool.driver.name`);
        tools.set(run, clipText(name, FIELD_LIMITS.scanner + 1));
        return;
      }
      results++;
      const scanner = tools.get(run);
      if (scanner === undefined) {
        invalid(`run ${run}: tool.driver.name must come before the results`);
      }
      sink.finding(toFinding(value, scanner as string, results, invalid));
    },
  });

  return {
    write: (chunk) => inner.write(chunk),
    end() {
      void inner.end();
      if (version !== '2.1.0') invalid('version must be "2.1.0"');
      if (results === 0) {
        throw new VaultError(
          'sarif_no_results',
          'the SARIF log has no results; nothing was stored (send findings, not an empty log)',
        );
      }
    },
  };
}

function toFinding(
  value: JsonValue,
  scanner: string,
  n: number,
  invalid: (what: string) => never,
): ScannedFinding {
  if (!isObject(value)) invalid(`result ${n} is not an object`);
  const r = value;
  const rule = isObject(r.rule) ? r.rule : {};
  const ruleId = (str(r.ruleId) || str(rule.id)).trim();
  if (ruleId === '') invalid(`result ${n} has no ruleId`);
  const loc0 = Array.isArray(r.locations) ? r.locations[0] : undefined;
  const phys = isObject(loc0) && isObject(loc0.physicalLocation) ? loc0.physicalLocation : {};
  const artifact = isObject(phys.artifactLocation) ? phys.artifactLocation : {};
  const region = isObject(phys.region) ? phys.region : {};
  const asset = str(artifact.uri).trim() || '(no location)';
  const line = typeof region.startLine === 'number' ? region.startLine : 0;
  if (!Number.isInteger(line) || line < 0) invalid(`result ${n} has an invalid startLine`);
  const level = str(r.level) || 'warning';
  const props = isObject(r.properties) ? r.properties : {};
  const secSev = parseScore(str(props['security-severity']) || null);
  const severity = secSev !== null ? severityFromScore(secSev) : LEVELS[level];
  if (severity === undefined) invalid(`result ${n} has an unknown level`);
  const message = isObject(r.message) ? str(r.message.text) : '';
  const snippet = isObject(region.snippet) ? str(region.snippet.text) : '';
  return {
    asset: clipText(asset, FIELD_LIMITS.asset + 1),
    scanner,
    pluginId: ruleId,
    port: line,
    protocol: 'sarif',
    title: clipText(message.split('\n')[0] ?? ruleId, FIELD_LIMITS.title) || ruleId,
    severity: severity,
    severityRaw: secSev !== null ? `security-severity ${secSev}` : level,
    cvss3Score: null,
    cvss3Vector: null,
    cvss2Score: null,
    cvss2Vector: null,
    cves: [],
    description: clipText(message, FIELD_LIMITS.text),
    solution: '',
    evidence: clipText(snippet, FIELD_LIMITS.text),
    service: '',
  };
}
