// Page cursors (src/functions/query/cursor.ts) are HMAC-SHA-256 tagged under
// a server secret and bound to listing, org, filters and principal type;
// anything that does not verify is invalid_cursor. The secret's two sources:
// the local file with rotation and grace (src/crypto/cursor-secret.ts), and
// the Lambda function's configuration (src/lambda/env.ts), which fails closed.
import assert from 'node:assert/strict';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { fixedCursorKeys, type CursorKeys } from '../../src/core/cursor-keys.js';
import { VaultError } from '../../src/core/errors.js';
import {
  createCursorSecret,
  createFileCursorKeys,
  readCursorSecret,
  rotateCursorSecret,
} from '../../src/crypto/cursor-secret.js';
import {
  decodeCursor,
  encodeCursor,
  type CursorBinding,
} from '../../src/functions/query/cursor.js';
import { readCursorKeys } from '../../src/lambda/env.js';
import { handler } from '../../src/lambda/query.js';

const keys = fixedCursorKeys(randomBytes(32));
const b: CursorBinding = {
  listing: 'findings',
  org: 'org1',
  principalType: 'ou',
  filters: { severity: ['high'] },
};
const b64 = (s: string) => Buffer.from(s).toString('base64url');
const text = (cursor: string) => Buffer.from(cursor, 'base64url').toString('latin1');

function refused(fn: () => unknown, hint = /pass the "next" value of the previous page/): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof VaultError);
    assert.equal(err.code, 'invalid_cursor');
    assert.equal(err.statusCode, 400);
    assert.match(err.message, /^cursor is not valid for this query; /);
    assert.match(err.message, hint);
    return true;
  });
}

describe('page cursors: HMAC-SHA-256 under the server secret', () => {
  it('round-trip for the binding they were made for', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 64 }),
        fc.constantFrom('ou', 'client', 'iam' as const),
        fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
        (org, principalType, seq) => {
          const x: CursorBinding = { listing: 'vuln', org, principalType, filters: null };
          return decodeCursor(keys, x, encodeCursor(keys, x, seq)) === seq;
        },
      ),
    );
    assert.equal(decodeCursor(keys, b, undefined), 0);
  });

  it('are versioned q2 and fit the contract (base64url, at most 200 characters)', () => {
    const c = encodeCursor(keys, b, 1234567890123456);
    assert.match(c, /^[A-Za-z0-9_-]{1,200}$/);
    assert.match(text(c), /^q2:1234567890123456:[A-Za-z0-9_-]{43}$/);
  });

  it('refuse a forged tag: a valid-looking q2 cursor made without the secret', () => {
    const c = encodeCursor(fixedCursorKeys(randomBytes(32)), b, 5);
    refused(() => decodeCursor(keys, b, c));
    refused(() => decodeCursor(keys, b, b64(`q2:5:${'A'.repeat(43)}`)));
    // The tag computed as the server does, but with the (guessable) empty key.
    const data = JSON.stringify(['q2', b.listing, b.principalType, b.org, b.filters, '5']);
    const empty = createHmac('sha256', Buffer.alloc(0)).update(data).digest('base64url');
    refused(() => decodeCursor(keys, b, b64(`q2:5:${empty}`)));
  });

  it('refuse the old unkeyed formats (q1 findings cursors, v1 /vuln cursors), even when well made', () => {
    const q1Tag = createHash('sha256')
      .update(JSON.stringify([b.org, b.filters]))
      .digest('base64url')
      .slice(0, 12);
    refused(() => decodeCursor(keys, b, b64(`q1:${q1Tag}:5`)));
    const v1Tag = createHash('sha256').update('org1').digest('base64url').slice(0, 8);
    const vuln: CursorBinding = { ...b, listing: 'vuln', filters: null };
    refused(() => decodeCursor(keys, vuln, b64(`v1:${v1Tag}:5`)), /previous page unchanged/);
  });

  it('refuse an altered seq under the original tag', () => {
    const c = text(encodeCursor(keys, b, 5));
    for (const seq of ['6', '4', '05', '50', '0', '999999999999999']) {
      refused(() => decodeCursor(keys, b, b64(c.replace(/^q2:5:/, `q2:${seq}:`))));
    }
  });

  it('refuse a truncated, extended or bit-flipped cursor', () => {
    const c = encodeCursor(keys, b, 42);
    for (let n = 1; n < c.length; n++) refused(() => decodeCursor(keys, b, c.slice(0, n)));
    refused(() => decodeCursor(keys, b, `${c}A`));
    refused(() => decodeCursor(keys, b, 'x'.repeat(201)));
    for (let i = 0; i < c.length; i++) {
      const flipped = c.slice(0, i) + (c[i] === 'A' ? 'B' : 'A') + c.slice(i + 1);
      refused(() => decodeCursor(keys, b, flipped));
    }
    // The tag text has one spelling: base64url's unused low bits changed.
    const t = text(c);
    const last = t.at(-1) as string;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const sibling = alphabet[alphabet.indexOf(last) ^ 1] as string;
    assert.deepEqual(
      Buffer.from(t.slice(-43), 'base64url'),
      Buffer.from(t.slice(-43, -1) + sibling, 'base64url'),
    );
    refused(() => decodeCursor(keys, b, b64(t.slice(0, -1) + sibling)));
  });

  it('refuse a cursor of another org, other filters, another principal type or another listing', () => {
    const c = encodeCursor(keys, b, 7);
    refused(() => decodeCursor(keys, { ...b, org: 'org2' }, c));
    refused(() => decodeCursor(keys, { ...b, filters: { severity: ['critical'] } }, c));
    refused(() => decodeCursor(keys, { ...b, filters: {} }, c));
    refused(() => decodeCursor(keys, { ...b, principalType: 'client' }, c));
    refused(() => decodeCursor(keys, { ...b, principalType: 'iam' }, c));
    refused(() => decodeCursor(keys, { ...b, listing: 'vuln', filters: null }, c), /unchanged/);
    assert.equal(decodeCursor(keys, { ...b }, c), 7);
  });

  it('accept a previous key, but never tag with it', () => {
    const old = randomBytes(32);
    const rotated: CursorKeys = fixedCursorKeys(randomBytes(32), [old]);
    const c = encodeCursor(fixedCursorKeys(old), b, 9);
    assert.equal(decodeCursor(rotated, b, c), 9);
    refused(() => decodeCursor(fixedCursorKeys(old), b, encodeCursor(rotated, b, 9)));
  });

  it('refuse keys shorter than 32 bytes', () => {
    assert.throws(() => fixedCursorKeys(randomBytes(31)), /at least 32 bytes/);
    assert.throws(() => fixedCursorKeys(randomBytes(32), [randomBytes(16)]), /at least 32 bytes/);
  });
});

describe('the local cursor secret file: rotation with a grace period', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vv-cursor-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  let n = 0;
  const fresh = () => {
    const file = join(dir, `keys-${++n}`, 'cursor-secret.json');
    createCursorSecret(file);
    return file;
  };

  it('is created once, mode 0600, with 32 random bytes; never overwritten by create', () => {
    const file = fresh();
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const f = readCursorSecret(file);
    assert.equal(Buffer.from(f.current.secret, 'base64url').length, 32);
    assert.equal(f.previous, null);
    assert.throws(() => createCursorSecret(file), /EEXIST/);
    assert.equal(readCursorSecret(file).current.secret, f.current.secret);
  });

  it('keeps the previous secret within the grace period and drops it after', () => {
    const file = fresh();
    let now = Date.parse('2026-01-01T00:00:00Z');
    const k = createFileCursorKeys(file, { reloadIntervalMs: 0, now: () => now });
    const before = encodeCursor(k, b, 11);
    const oldOnly = fixedCursorKeys(
      Buffer.from(readCursorSecret(file).current.secret, 'base64url'),
    );
    const r = rotateCursorSecret(file, 3_600_000, new Date(now));
    assert.equal(r.acceptedUntil, '2026-01-01T01:00:00.000Z');
    now += 1_000;
    // Within the grace period: the old cursor still pages; new ones use the new secret.
    assert.equal(decodeCursor(k, b, before), 11);
    const afterRotation = encodeCursor(k, b, 12);
    refused(() => decodeCursor(oldOnly, b, afterRotation));
    now = Date.parse('2026-01-01T00:59:59Z');
    assert.equal(decodeCursor(k, b, before), 11);
    // After it: refused; the new secret's cursors still verify.
    now = Date.parse('2026-01-01T01:00:00Z');
    refused(() => decodeCursor(k, b, before));
    assert.equal(decodeCursor(k, b, afterRotation), 12);
  });

  it('drops the old secret at once with grace 0 (a leaked secret)', () => {
    const file = fresh();
    const k = createFileCursorKeys(file, { reloadIntervalMs: 0 });
    const before = encodeCursor(k, b, 3);
    assert.equal(rotateCursorSecret(file, 0).acceptedUntil, null);
    refused(() => decodeCursor(k, b, before));
    assert.equal(readCursorSecret(file).previous, null);
  });

  it('a second rotation replaces the previous secret: only one generation back is accepted', () => {
    const file = fresh();
    const k = createFileCursorKeys(file, { reloadIntervalMs: 0 });
    const first = encodeCursor(k, b, 1);
    rotateCursorSecret(file, 3_600_000);
    const second = encodeCursor(k, b, 2);
    rotateCursorSecret(file, 3_600_000);
    refused(() => decodeCursor(k, b, first));
    assert.equal(decodeCursor(k, b, second), 2);
  });

  it('refuses a file readable by others, a short secret or a damaged file; a bad replacement keeps the keys in use', () => {
    const file = fresh();
    const errors: string[] = [];
    const k = createFileCursorKeys(file, {
      reloadIntervalMs: 0,
      onReloadError: (e) => errors.push(e.message),
    });
    const c = encodeCursor(k, b, 8);
    chmodSync(file, 0o644);
    assert.throws(() => readCursorSecret(file), /readable by group or others \(mode 644\)/);
    assert.equal(decodeCursor(k, b, c), 8);
    assert.match(errors.at(-1) ?? '', /chmod 600/);
    writeFileSync(
      file,
      JSON.stringify({
        format: 'vulnvault-cursor-secret/1',
        current: { secret: randomBytes(16).toString('base64url'), createdAt: 'x' },
        previous: null,
      }),
      { mode: 0o600 },
    );
    chmodSync(file, 0o600);
    assert.throws(() => readCursorSecret(file), /shorter than 32 bytes/);
    writeFileSync(file, '{', { mode: 0o600 });
    assert.throws(() => readCursorSecret(file), /not valid JSON/);
    assert.throws(() => createFileCursorKeys(file, { reloadIntervalMs: 0 }), /not valid JSON/);
    assert.equal(decodeCursor(k, b, c), 8);
    assert.throws(() => rotateCursorSecret(file, 8 * 86_400_000), /0 to 7 days/);
  });
});

describe('the Lambda cursor secret: from the function configuration, fail closed', () => {
  const secret = randomBytes(48).toString('base64url');

  it('tags with VULNVAULT_CURSOR_SECRET and also accepts VULNVAULT_CURSOR_SECRET_PREVIOUS', () => {
    const old = randomBytes(48).toString('base64url');
    const before = encodeCursor(readCursorKeys({ VULNVAULT_CURSOR_SECRET: old }), b, 4);
    const both = readCursorKeys({
      VULNVAULT_CURSOR_SECRET: secret,
      VULNVAULT_CURSOR_SECRET_PREVIOUS: old,
    });
    assert.equal(decodeCursor(both, b, before), 4);
    refused(() => decodeCursor(readCursorKeys({ VULNVAULT_CURSOR_SECRET: secret }), b, before));
  });

  it('refuses a missing or short secret, naming the variable', () => {
    assert.throws(
      () => readCursorKeys({}),
      /missing environment variable\(s\) VULNVAULT_CURSOR_SECRET/,
    );
    assert.throws(
      () => readCursorKeys({ VULNVAULT_CURSOR_SECRET: 'short' }),
      /VULNVAULT_CURSOR_SECRET must hold at least 32 bytes/,
    );
    assert.throws(
      () =>
        readCursorKeys({ VULNVAULT_CURSOR_SECRET: secret, VULNVAULT_CURSOR_SECRET_PREVIOUS: 'x' }),
      /VULNVAULT_CURSOR_SECRET_PREVIOUS must hold at least 32 bytes/,
    );
  });

  it('the query entry serves nothing without the secret', async () => {
    const saved = { ...process.env };
    process.env.VULNVAULT_FINDINGS_TABLE = 'findings';
    process.env.VULNVAULT_POLICY_TABLE = 'policies';
    process.env.VULNVAULT_FEEDS_TABLE = 'feeds';
    delete process.env.VULNVAULT_CURSOR_SECRET;
    try {
      await assert.rejects(
        handler({} as Parameters<typeof handler>[0]),
        /missing environment variable\(s\) VULNVAULT_CURSOR_SECRET/,
      );
    } finally {
      process.env = saved;
    }
  });
});
