// The parser for each upload format.
import { cycloneDxParser } from './cyclonedx.js';
import type { ParserFactory, ScanFormat } from './format.js';
import { nativeJsonParser, type ItemValidator } from './native-json.js';
import { nessusCsvParser } from './nessus-csv.js';
import { nessusXmlParser } from './nessus-xml.js';
import { sarifParser } from './sarif.js';

export function parserFactories(nativeItem: ItemValidator): Record<ScanFormat, ParserFactory> {
  return {
    'nessus-xml': nessusXmlParser,
    'nessus-csv': nessusCsvParser,
    sarif: sarifParser,
    cyclonedx: cycloneDxParser,
    native: (sink) => nativeJsonParser(sink, nativeItem),
  };
}
