import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  createCrl,
  entriesFor,
  normalizeSerial,
  parseCrls,
  revokedSerials,
} from '../../src/pki/crl.js';
import { createCa, issueCertificate } from '../../src/pki/issue.js';
import { createTrust } from '../../src/edge/trust.js';

describe('CRL and trust', () => {
  it('writes a CRL with the X509 CRL label that lists the revoked serial', async () => {
    const ca = await createCa({ cn: 'ca', o: 't' }, new Date(Date.now() + 86_400_000));
    const leaf = await issueCertificate(ca, {
      kind: 'client',
      subject: { cn: 'x', ou: ['a'] },
      notAfter: new Date(Date.now() + 3_600_000),
    });
    const serial = new X509Certificate(leaf.certPem).serialNumber;
    const pem = await createCrl(
      ca,
      [{ serial, revokedAt: new Date() }],
      new Date(Date.now() + 86_400_000),
    );
    assert.match(pem, /^-----BEGIN X509 CRL-----\n/);
    assert.ok(revokedSerials(parseCrls(pem)).has(normalizeSerial(serial)));
    assert.equal(entriesFor(ca, pem).length, 1);
    const other = await createCa({ cn: 'other', o: 't' }, new Date(Date.now() + 86_400_000));
    assert.equal(entriesFor(other, pem).length, 0);
  });

  it('normalizes serials', () => {
    assert.equal(normalizeSerial('00ab12'), 'AB12');
    assert.equal(normalizeSerial('0'), '0');
  });

  it('refuses revoked, expired and over-long certificates', async () => {
    const ca = await createCa({ cn: 'ca', o: 't' }, new Date(Date.now() + 86_400_000));
    const mk = async (ms: number, notBefore = new Date(Date.now() - 60_000)) =>
      new X509Certificate(
        (
          await issueCertificate(ca, {
            kind: 'client',
            subject: { cn: 'x', ou: ['a'] },
            notBefore,
            notAfter: new Date(notBefore.getTime() + ms),
          })
        ).certPem,
      );
    const ok = await mk(3_600_000);
    const long = await mk(48 * 3_600_000);
    const trust = createTrust([], new Set(), 24 * 3_600_000, '24h');
    assert.equal(trust.refusal(ok), undefined);
    assert.equal(trust.refusal(long), 'certificate lifetime exceeds the maximum of 24h');
    assert.equal(trust.refusal(ok, Date.now() + 2 * 3_600_000), 'certificate expired');
    const g = trust.current().generation;
    trust.replace([], new Set([normalizeSerial(ok.serialNumber)]));
    assert.equal(trust.current().generation, g + 1);
    assert.equal(trust.refusal(ok), 'certificate revoked');
  });
});
