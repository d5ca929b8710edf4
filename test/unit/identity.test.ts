import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { before, describe, it } from 'node:test';
import type { VaultError } from '../../src/core/errors.js';
import { loadCaBundle, principalFromCertificate } from '../../src/pki/identity.js';
import { createCa, issueCertificate, type NameParts, type PemPair } from '../../src/pki/issue.js';

describe('principal from a client certificate', () => {
  let ca: PemPair;
  let cas: X509Certificate[];
  const issue = async (subject: NameParts, issuer = ca) =>
    new X509Certificate(
      (
        await issueCertificate(issuer, {
          kind: 'client',
          subject,
          notAfter: new Date(Date.now() + 3_600_000),
        })
      ).certPem,
    );

  before(async () => {
    ca = await createCa({ cn: 'test CA', o: 't' }, new Date(Date.now() + 86_400_000));
    cas = loadCaBundle(ca.certPem + ca.certPem);
  });

  it('reads the single OU and the CN from the DER subject', async () => {
    const p = principalFromCertificate(
      await issue({ cn: 'nessus-1', o: 'x', ou: ['scanner'] }),
      cas,
    );
    assert.deepEqual(p.ref, { type: 'ou', name: 'scanner' });
    assert.equal(p.id, 'nessus-1');
    assert.match(p.certificate?.fingerprint256 ?? '', /^[0-9a-f]{64}$/);
  });

  it('is not fooled by an OU inside the CN', async () => {
    const cert = await issue({ cn: 'x, OU=scanner', o: 'x' });
    assert.throws(
      () => principalFromCertificate(cert, cas),
      /exactly one OU in its subject \(found 0\)/,
    );
    const p = principalFromCertificate(await issue({ cn: 'x, OU=scanner', ou: ['customer'] }), cas);
    assert.equal(p.ref.name, 'customer');
    assert.equal(p.id, 'x, OU=scanner');
  });

  it('refuses several OUs', async () => {
    const two = await issue({ cn: 'two', ou: ['customer', 'scanner'] });
    assert.throws(() => principalFromCertificate(two, cas), /found 2/);
  });

  it('refuses a CA certificate and a server certificate as client identities', async () => {
    assert.throws(
      () => principalFromCertificate(cas[0]!, cas),
      (e: VaultError) => /CA certificate cannot/.test(e.message),
    );
    const server = await issueCertificate(ca, {
      kind: 'server',
      subject: { cn: 'localhost', ou: ['scanner'] },
      sans: ['localhost'],
      notAfter: new Date(Date.now() + 3_600_000),
    });
    assert.throws(
      () => principalFromCertificate(new X509Certificate(server.certPem), cas),
      /not valid for client authentication/,
    );
  });

  it('refuses a certificate not issued directly by a configured CA', async () => {
    const other = await createCa({ cn: 'other' }, new Date(Date.now() + 86_400_000));
    const foreign = await issueCertificate(other, {
      kind: 'client',
      subject: { cn: 'a', ou: ['scanner'] },
      notAfter: new Date(Date.now() + 3_600_000),
    });
    assert.throws(
      () => principalFromCertificate(new X509Certificate(foreign.certPem), cas),
      /not issued directly/,
    );
  });
});
