// Validators for the two VEX formats, compiled from the schema files vendored
// under test/fixtures/schemas/ (see its SOURCES): no network. CycloneDX 1.6 is
// draft-07 (Ajv) and $refs spdx.schema.json and jsf-0.82.schema.json by their
// $id; OpenVEX 0.2.0 is draft 2020-12 (Ajv2020).
//
// ajv-formats has no `iri`, `iri-reference` or `idn-email`. An IRI is checked
// as RFC 3987 §3.1 maps it to a URI (non-ASCII characters percent-encoded)
// against ajv-formats' full `uri` / `uri-reference`; `idn-email` as `email`
// with non-ASCII letters allowed. Unknown formats would otherwise throw (strict)
// or pass unchecked.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type Format, type ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import formats from 'ajv-formats';

export const SCHEMA_DIR = join(import.meta.dirname, '..', 'fixtures', 'schemas');

function schema(file: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(SCHEMA_DIR, file), 'utf8')) as Record<string, unknown>;
}

function tester(name: 'uri' | 'uri-reference' | 'email'): (s: string) => boolean {
  const f: Format = formats.default.get(name, 'full');
  if (f instanceof RegExp) return (s) => f.test(s);
  if (typeof f === 'function') return (s) => f(s);
  if (typeof f === 'object' && 'validate' in f) {
    const v = f.validate;
    if (v instanceof RegExp) return (s) => v.test(s);
    // The string validators of ajv-formats are synchronous.
    if (typeof v === 'function') return (s) => (v as (x: string) => boolean)(s) === true;
  }
  throw new Error(`ajv-formats: unexpected shape for ${name}`);
}

const NON_ASCII = /[\u0080-\u{10ffff}]/gu;
const asUri = (s: string) => s.replace(NON_ASCII, (c) => encodeURIComponent(c));

function withFormats(ajv: Ajv | Ajv2020): void {
  formats.default(ajv, { mode: 'full' });
  const uri = tester('uri');
  const uriRef = tester('uri-reference');
  const email = tester('email');
  ajv.addFormat('iri', (s: string) => uri(asUri(s)));
  ajv.addFormat('iri-reference', (s: string) => uriRef(asUri(s)));
  ajv.addFormat('idn-email', (s: string) => email(s.replace(NON_ASCII, 'a')));
}

/** CycloneDX 1.6 (bom-1.6.schema.json with its spdx and jsf references). */
export function cycloneDx16Validator(): ValidateFunction {
  // Ajv's default strict mode (unknown keywords and formats throw), except
  // that the spec's schemas are not ours to make type-strict. The only
  // non-standard keyword is CycloneDX's documentation map.
  const ajv = new Ajv({ allErrors: true, strictTypes: false, strictTuples: false });
  ajv.addKeyword('meta:enum');
  withFormats(ajv);
  ajv.addSchema(schema('spdx.schema.json'));
  ajv.addSchema(schema('jsf-0.82.schema.json'));
  return ajv.compile(schema('bom-1.6.schema.json'));
}

/** OpenVEX 0.2.0 (openvex_json_schema.json). */
export function openVex020Validator(): ValidateFunction {
  const ajv = new Ajv2020({ allErrors: true, strictTypes: false, strictTuples: false });
  withFormats(ajv);
  return ajv.compile(schema('openvex_json_schema.json'));
}
