// A fresh SoftHSM2 token for a test: its own token directory and
// SOFTHSM2_CONF in a temporary directory, made with the real softhsm2-util
// (Debian's softhsm2, installed by .ci/run). The process environment points
// at it (SOFTHSM2_CONF, VULNVAULT_PKCS11_PIN) until cleanup.

import { execFileSync } from 'node:child_process';
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
