// A fresh SoftHSM2 token for a test: its own token directory and
// SOFTHSM2_CONF in a temporary directory, made with the real softhsm2-util
// (Debian's softhsm2, installed by .ci/run). The process environment points
// at it (SOFTHSM2_CONF, VULNVAULT_PKCS11_PIN) until cleanup.

import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import type * as P from 'pkcs11js';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SOFTHSM_MODULE =
  ['/usr/lib/softhsm/libsofthsm2.so', '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so'].find(
    (p) => existsSync(p),
  ) ?? '/usr/lib/softhsm/libsofthsm2.so';

export interface SoftHsm {
  dir: string;
  conf: string;
  label: string;
  pin: string;
  soPin: string;
  module: string;
  /** A pkcs11: URI for `object` on this token, with module-path. */
  uri(object: string): string;
  /** Runs softhsm2-util with this token's configuration. */
  util(args: string[]): string;
  cleanup(): void;
}

export function makeSoftHsm(label = 'vulnvault-test'): SoftHsm {
  const dir = mkdtempSync(join(tmpdir(), 'vulnvault-softhsm-'));
  const tokens = join(dir, 'tokens');
  mkdirSync(tokens, { mode: 0o700 });
  const conf = join(dir, 'softhsm2.conf');
  writeFileSync(
    conf,
    `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`,
  );
  const env = { ...process.env, SOFTHSM2_CONF: conf };
  const util = (args: string[]) =>
    execFileSync('softhsm2-util', args, {
      env,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  const pin = '4711-test-pin';
  const soPin = '0815-so-pin';
  util(['--init-token', '--free', '--label', label, '--pin', pin, '--so-pin', soPin]);
  const before = { conf: process.env.SOFTHSM2_CONF, pin: process.env.VULNVAULT_PKCS11_PIN };
  process.env.SOFTHSM2_CONF = conf;
  process.env.VULNVAULT_PKCS11_PIN = pin;
  return {
    dir,
    conf,
    label,
    pin,
    soPin,
    module: SOFTHSM_MODULE,
    uri: (object) =>
      `pkcs11:token=${encodeURIComponent(label)};object=${encodeURIComponent(object)}?module-path=${SOFTHSM_MODULE}`,
    util,
    cleanup() {
      if (before.conf === undefined) delete process.env.SOFTHSM2_CONF;
      else process.env.SOFTHSM2_CONF = before.conf;
      if (before.pin === undefined) delete process.env.VULNVAULT_PKCS11_PIN;
      else process.env.VULNVAULT_PKCS11_PIN = before.pin;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Asks the token, straight through pkcs11js, for the value (CKA_VALUE) of the
 * key labelled `label` of class `cls` ('private' | 'secret'). Returns the PKCS#11
 * return code the token answered with, or 'READ' when it gave the value out.
 */
export function tryReadKeyValue(hsm: SoftHsm, label: string, cls: 'private' | 'secret'): string {
  const p = createRequire(import.meta.url)('pkcs11js') as typeof P;
  const lib = new p.PKCS11();
  lib.load(hsm.module);
  lib.C_Initialize();
  try {
    const slot = lib
      .C_GetSlotList(true)
      .find((s) => lib.C_GetTokenInfo(s).label.trim() === hsm.label);
    if (!slot) throw new Error(`no token ${hsm.label}`);
    const session = lib.C_OpenSession(slot, p.CKF_SERIAL_SESSION | p.CKF_RW_SESSION);
    lib.C_Login(session, p.CKU_USER, hsm.pin);
    lib.C_FindObjectsInit(session, [
      { type: p.CKA_CLASS, value: cls === 'private' ? p.CKO_PRIVATE_KEY : p.CKO_SECRET_KEY },
      { type: p.CKA_LABEL, value: label },
    ]);
    const [h] = lib.C_FindObjects(session, 2);
    lib.C_FindObjectsFinal(session);
    if (!h) throw new Error(`no key ${label}`);
    try {
      lib.C_GetAttributeValue(session, h, [{ type: p.CKA_VALUE }]);
      return 'READ';
    } catch (err) {
      return /CKR_[A-Z_]+/.exec((err as Error).message)?.[0] ?? (err as Error).message;
    } finally {
      lib.C_CloseSession(session);
    }
  } finally {
    lib.C_Finalize();
    lib.close();
  }
}
