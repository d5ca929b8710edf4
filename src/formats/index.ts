// The parser for each upload format.
import { cycloneDxParser } from './cyclonedx.js';
import { cycloneDxXmlParser } from './cyclonedx-xml.js';
import { dependencyCheckParser } from './dependency-check.js';
import type { ParserFactory, ScanFormat } from './format.js';
import { gitleaksParser } from './gitleaks.js';
import { grypeParser } from './grype.js';
import { nativeJsonParser, type ItemValidator } from './native-json.js';
import { nessusCsvParser } from './nessus-csv.js';
import { nessusXmlParser } from './nessus-xml.js';
import { nucleiParser } from './nuclei.js';
import { openVasParser } from './openvas.js';
import { sarifParser } from './sarif.js';
import { semgrepParser } from './semgrep.js';
import { trivyParser } from './trivy.js';
import { zapJsonParser } from './zap-json.js';
import { zapXmlParser } from './zap-xml.js';

export function parserFactories(nativeItem: ItemValidator): Record<ScanFormat, ParserFactory> {
  return {
    'nessus-xml': nessusXmlParser,
    'nessus-csv': nessusCsvParser,
    sarif: sarifParser,
    cyclonedx: cycloneDxParser,
    'cyclonedx-xml': cycloneDxXmlParser,
    trivy: trivyParser,
    grype: grypeParser,
    openvas: openVasParser,
    'zap-xml': zapXmlParser,
    'zap-json': zapJsonParser,
    'dependency-check': dependencyCheckParser,
    gitleaks: gitleaksParser,
    semgrep: semgrepParser,
    nuclei: nucleiParser,
    native: (sink) => nativeJsonParser(sink, nativeItem),
  };
}
