// The AWS KMS key provider. AWS KMS cannot run here, so this test MOCKS it: a
// small fake KMS on loopback speaks the KMS JSON protocol (X-Amz-Target
// TrentService.Encrypt / Decrypt) and checks the encryption context the way
// KMS does. Everything on our side is real: the real @aws-sdk/client-kms
// client (serialization, signing, retries, error parsing), the provider, the
// data-key cache, and a real vulnvault server configured with
// keys.provider 'kms'. A disabled key and an unreachable KMS fail closed.

import assert from 'node:assert/strict';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/config.js';
import { createKmsKeyProvider } from '../../src/crypto/kms-key-provider.js';
import { get, uploadScan, type Client } from '../helpers/scans.js';
import { makeTestDir, startVault, type TestDir } from '../helpers/vault.js';

const ARN = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const CREDENTIALS = { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' };

/** MOCK of AWS KMS (see the file header). */
class FakeKms {
  readonly material = randomBytes(32);
  enabled = true;
  calls: { target: string; context: unknown }[] = [];
  private server: Server;
  url = '';

  constructor() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const target = String(req.headers['x-amz-target'] ?? '');
        const body = JSON.parse(Buffer.concat(chunks).toString() || '{}') as Record<string, any>;
        this.calls.push({ target, context: body.EncryptionContext });
        const fail = (type: string, message: string) => {
          res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
          res.end(JSON.stringify({ __type: type, message }));
        };
        if (!String(req.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256')) {
          return fail('AccessDeniedException', 'request not signed');
        }
        if (!this.enabled) return fail('DisabledException', `${ARN} is disabled.`);
        const aad = Buffer.from(JSON.stringify(body.EncryptionContext ?? {}));
        if (target === 'TrentService.Encrypt') {
          const iv = randomBytes(12);
          const c = createCipheriv('aes-256-gcm', this.material, iv).setAAD(aad);
          const ct = Buffer.concat([
            iv,
            c.update(Buffer.from(body.Plaintext as string, 'base64')),
            c.final(),
          ]);
          const blob = Buffer.concat([ct, c.getAuthTag()]).toString('base64');
          res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
          return res.end(JSON.stringify({ CiphertextBlob: blob, KeyId: ARN }));
        }
        if (target === 'TrentService.Decrypt') {
          const b = Buffer.from(body.CiphertextBlob as string, 'base64');
          try {
            const d = createDecipheriv('aes-256-gcm', this.material, b.subarray(0, 12)).setAAD(aad);
            d.setAuthTag(b.subarray(b.length - 16));
            const pt = Buffer.concat([d.update(b.subarray(12, b.length - 16)), d.final()]);
            res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
            return res.end(JSON.stringify({ Plaintext: pt.toString('base64'), KeyId: ARN }));
          } catch {
            return fail('InvalidCiphertextException', '');
          }
        }
        return fail('UnknownOperationException', target);
      });
    });
  }
  async start(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  close(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }
}

describe('AWS KMS key provider (against a mocked KMS)', () => {
  const kms = new FakeKms();
  before(() => kms.start());
  after(() => kms.close());

  const provider = () =>
    createKmsKeyProvider({
      keyId: ARN,
      client: { region: 'eu-west-1', endpoint: kms.url, credentials: CREDENTIALS },
      timeoutMs: 2000,
    });

  it('wraps with the org as encryption context and unwraps only for that org', async () => {
    const p = provider();
    const dek = randomBytes(32);
    const w = await p.wrap('org1', dek);
    assert.equal(w.kek, ARN);
    assert.deepEqual(kms.calls.at(-1), {
      target: 'TrentService.Encrypt',
      context: { org: 'org1' },
    });
    assert.deepEqual(await p.unwrap({ org: 'org1', ...w }), dek);
    await assert.rejects(p.unwrap({ org: 'org2', ...w }), { code: 'key_unavailable' });
    p.close();
  });

  it('fails closed with key_unavailable when the key is disabled or KMS is unreachable', async () => {
    const p = provider();
    const w = await p.wrap('org1', randomBytes(32));
    kms.enabled = false;
    await assert.rejects(p.unwrap({ org: 'org1', ...w }), { code: 'key_unavailable' });
    kms.enabled = true;
    p.close();
    const gone = createKmsKeyProvider({
      keyId: ARN,
      // A port nothing listens on.
      client: { region: 'eu-west-1', endpoint: 'http://127.0.0.1:9', credentials: CREDENTIALS },
      timeoutMs: 2000,
    });
    const t0 = Date.now();
    await assert.rejects(gone.unwrap({ org: 'org1', ...w }), { code: 'key_unavailable' });
    assert.ok(Date.now() - t0 < 5000, 'fails fast');
    gone.close();
  });

  it('serves a vault whose data keys KMS wraps, and answers 503 key_unavailable once KMS refuses', async () => {
    const t: TestDir = await makeTestDir();
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    process.env.AWS_ACCESS_KEY_ID = CREDENTIALS.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = CREDENTIALS.secretAccessKey;
    const cfgFile = join(t.dir, 'vulnvault.json');
    const cfg = JSON.parse(readFileSync(cfgFile, 'utf8')) as Record<string, any>;
    cfg.keys = {
      provider: 'kms',
      cacheSeconds: 1,
      kms: { keyId: ARN, region: 'eu-west-1', endpoint: kms.url },
    };
    writeFileSync(cfgFile, JSON.stringify(cfg));
    const v = await startVault(loadConfig(t.dir));
    try {
      const scanner: Client = { port: v.port, ca: t.ca.certPem, cert: t.scanner };
      const reader: Client = { port: v.port, ca: t.ca.certPem, cert: t.customer };
      const body = JSON.stringify({
        findings: [
          {
            asset: 'a',
            scanner: 's',
            pluginId: '1',
            title: 't',
            severity: 'low',
            evidence: 'kms-evidence',
          },
        ],
      });
      const up = await uploadScan(scanner, 'org1', body, 'application/json');
      assert.equal(up.status, 201, up.text);
      const id = (await get(reader, '/v1/orgs/org1/findings')).json.items[0].id as string;
      const one = await get(reader, `/v1/orgs/org1/findings/${id}`);
      assert.equal(one.json.evidence, 'kms-evidence');
      assert.ok(kms.calls.some((c) => c.target === 'TrentService.Encrypt'));

      kms.enabled = false;
      await new Promise((r) => setTimeout(r, 1100)); // past keys.cacheSeconds
      const off = await get(reader, `/v1/orgs/org1/findings/${id}`);
      assert.equal(off.status, 503);
      assert.equal(off.json.code, 'key_unavailable');
      assert.doesNotMatch(off.text, /kms-evidence|Disabled/);
      kms.enabled = true;
      const back = await get(reader, `/v1/orgs/org1/findings/${id}`);
      assert.equal(back.status, 200);
    } finally {
      kms.enabled = true;
      await v.close();
      process.env.AWS_ACCESS_KEY_ID = saved.id;
      process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
      if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
      if (saved.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
      t.cleanup();
    }
  });
});
