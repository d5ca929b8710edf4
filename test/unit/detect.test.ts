// Format detection: an explicit ?format= or a vendor media type names the
// format; a family media type is told by the body's start (root element, CSV
// header, identifying JSON keys looked at as keys, never as text).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatFromRequest, sniff, SNIFF_BYTES } from '../../src/formats/detect.js';
import { VaultError } from '../../src/core/errors.js';

const json = (text: string, complete = true) => sniff('json', Buffer.from(text), complete);
const xml = (text: string, complete = true) => sniff('xml', Buffer.from(text), complete);
const refusedWith = (code: string, re?: RegExp) => (err: unknown) => {
  assert.ok(err instanceof VaultError, String(err));
  assert.equal(err.code, code);
  if (re) assert.match(err.message, re);
  return true;
};

describe('format detection', () => {
  it('tells JSON formats by their identifying keys', () => {
    assert.equal(
      json('{"$schema":"https://json.schemastore.org/sarif-2.1.0.json","runs":[]}'),
      'sarif',
    );
    assert.equal(json('{"runs":[],"version":"2.1.0"}'), 'sarif');
    assert.equal(json('{"bomFormat":"CycloneDX","specVersion":"1.5"}'), 'cyclonedx');
    assert.equal(json('{"SchemaVersion":2,"ArtifactName":"alpine:3.19","Results":[]}'), 'trivy');
    assert.equal(
      json('{"matches":[],"source":{"type":"image"},"descriptor":{"name":"grype"}}'),
      'grype',
    );
    assert.equal(
      json('{"reportSchema":"1.1","scanInfo":{},"dependencies":[]}'),
      'dependency-check',
    );
    assert.equal(json('{"@programName":"ZAP","@version":"2.14.0","site":[]}'), 'zap-json');
    assert.equal(
      json('{"errors":[],"paths":{"scanned":[]},"results":[{"check_id":"x"}]}'),
      'semgrep',
    );
    assert.equal(json('{"findings":[{"asset":"a"}]}'), 'native');
    assert.equal(
      json('[{"Description":"AWS","RuleID":"aws-access-token","File":"a"}]'),
      'gitleaks',
    );
    assert.equal(
      json(
        '{"template-id":"tech-detect","host":"https://a"}\n{"template-id":"x","host":"https://b"}\n',
      ),
      'nuclei',
    );
  });

  it('looks at keys, not text: a value that mentions another format changes nothing', () => {
    assert.equal(
      json('{"findings":[{"asset":"a","description":"\\"bomFormat\\": \\"CycloneDX\\", runs"}]}'),
      'native',
    );
    // A key nested deeper is not a top-level key.
    assert.throws(() => json('{"x":{"bomFormat":"CycloneDX"}}'), refusedWith('unsupported_format'));
  });

  it('waits for more bytes while it cannot tell, up to 64 KiB', () => {
    assert.equal(json('{"metadata":{"a":1}', false), undefined);
    const long = `{"pad":"${'x'.repeat(SNIFF_BYTES)}"`;
    assert.throws(() => json(long, false), refusedWith('unsupported_format', /first 64 KiB/));
  });

  it('refuses what it does not know with 415 naming the formats, and an empty body with 400', () => {
    assert.throws(
      () => json('{"hello":"world"}'),
      refusedWith('unsupported_format', /Trivy JSON \(trivy\).*vulnvault batch \(native\)/),
    );
    assert.throws(() => json('[]'), refusedWith('unsupported_format', /format=gitleaks/));
    assert.throws(() => json('   '), refusedWith('scan_empty'));
    assert.throws(() => json('"text"'), refusedWith('unsupported_format'));
  });

  it('tells XML formats by the root element, refusing a DOCTYPE first', () => {
    assert.equal(xml('<?xml version="1.0"?>\n<!-- c --><NessusClientData_v2>'), 'nessus-xml');
    assert.equal(
      xml('<bom xmlns="http://cyclonedx.org/schema/bom/1.5" version="1">'),
      'cyclonedx-xml',
    );
    assert.equal(xml('<report id="x" format_id="y">'), 'openvas');
    assert.equal(xml('<get_reports_response status="200">'), 'openvas');
    assert.equal(xml('<OWASPZAPReport version="2.11.1">'), 'zap-xml');
    assert.equal(xml('<?xml version="1.0"?>', false), undefined);
    assert.throws(
      () => xml('<!DOCTYPE x [<!ENTITY a "b">]><NessusClientData_v2>'),
      refusedWith('xml_doctype_forbidden'),
    );
    assert.throws(() => xml('<html><script>'), refusedWith('unsupported_format', /<html>/));
    assert.throws(() => xml('<bom>'), refusedWith('unsupported_format'));
  });

  it('tells CSV by its header', () => {
    assert.equal(
      sniff('csv', Buffer.from('Plugin ID,CVE,Risk,Host\n1,,None,h\n'), true),
      'nessus-csv',
    );
    assert.equal(sniff('csv', Buffer.from('"asset.name","definition.id"\n'), true), 'nessus-csv');
    assert.equal(sniff('csv', Buffer.from('Plugin ID,CVE'), false), undefined);
    assert.throws(
      () => sniff('csv', Buffer.from('a,b,c\n1,2,3\n'), true),
      refusedWith('unsupported_format'),
    );
  });
});

describe('format from the request', () => {
  it('takes a vendor media type, or the family to sniff', () => {
    assert.equal(formatFromRequest('application/sarif+json', undefined), 'sarif');
    assert.equal(formatFromRequest('application/vnd.tenable.nessus+xml', undefined), 'nessus-xml');
    assert.equal(formatFromRequest('application/x-ndjson', undefined), 'nuclei');
    assert.equal(formatFromRequest('application/json', undefined), 'json');
    assert.equal(formatFromRequest('application/xml', undefined), 'xml');
    assert.equal(formatFromRequest('text/csv', undefined), 'csv');
  });

  it('lets ?format= win when the media type fits it, and says how to send it when not', () => {
    assert.equal(formatFromRequest('application/json', 'trivy'), 'trivy');
    assert.equal(formatFromRequest('application/xml', 'openvas'), 'openvas');
    assert.equal(formatFromRequest('application/json', 'nuclei'), 'nuclei');
    assert.equal(formatFromRequest('application/sarif+json', 'sarif'), 'sarif');
    assert.throws(
      () => formatFromRequest('text/csv', 'trivy'),
      refusedWith(
        'unsupported_format',
        /format trivy \(Trivy JSON\) cannot be sent as text\/csv; send it as application\/json/,
      ),
    );
    assert.throws(
      () => formatFromRequest('application/sarif+json', 'cyclonedx'),
      refusedWith('unsupported_format', /application\/vnd\.cyclonedx\+json or application\/json/),
    );
  });
});
