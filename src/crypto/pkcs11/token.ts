// Keys kept in a PKCS#11 token (an HSM, a cloud HSM's PKCS#11 library, or
// SoftHSM2 for tests), used in place through pkcs11js: the private and secret
// keys are generated inside the token as sensitive and non-extractable, and
// vulnvault only ever asks the token to sign, encrypt or decrypt with them.
//
// Fail closed: a module that does not load, a token that is not there, a
// missing, wrong or locked PIN, a key that is missing or extractable — each is
// a TokenError with one line naming the token and what to do. Nothing falls
// back to key files.
//
// The addon is loaded only when a pkcs11: URI is configured. One logged-in
// session per (module, token) is shared by every key on it; pkcs11js calls
// are synchronous, so the single session is never used by two calls at once.

import { createPublicKey, type KeyObject } from 'node:crypto';
import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type * as P from 'pkcs11js';
import { TokenError } from './token-error.js';
import type { Pkcs11Uri } from './uri.js';

/** Where the PIN comes from unless the URI names a pin-source file. */
export const PIN_ENV = 'VULNVAULT_PKCS11_PIN';
/** The module when the URI has no module-path. */
export const MODULE_ENV = 'VULNVAULT_PKCS11_MODULE';

// Not in pkcs11js' constants (PKCS#11 3.0).
const CKK_EC_EDWARDS = 0x40;
const CKM_EC_EDWARDS_KEY_PAIR_GEN = 0x1055;
const CKM_EDDSA = 0x1057;

const P256_OID = Buffer.from('06082a8648ce3d030107', 'hex');
const ED25519_OID = Buffer.from('06032b6570', 'hex');
const P256_SPKI_PREFIX = Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex');
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export type KeyKind = 'aes-256' | 'ec-p256' | 'ed25519';

let pk: typeof P | undefined;
function addon(): typeof P {
  if (!pk) pk = createRequire(import.meta.url)('pkcs11js') as typeof P;
  return pk;
}

interface Opened {
  lib: P.PKCS11;
  modulePath: string;
  sessions: number;
}
const modules = new Map<string, Opened>();
const tokens = new Map<string, Token>();

function rv(err: unknown): string {
  const m = /CKR_[A-Z_0-9]+/.exec(err instanceof Error ? err.message : String(err));
  return m ? m[0] : err instanceof Error ? err.message : String(err);
}

function readPin(uri: Pkcs11Uri): { pin: string; from: string } {
  if (uri.pinSource) {
    const file = uri.pinSource;
    let fd: number;
    try {
      fd = openSync(file, 'r');
    } catch (err) {
      throw new TokenError(
        `cannot read the PIN file ${file} for PKCS#11 token '${uri.token}': ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
      );
    }
    try {
      const mode = fstatSync(fd).mode & 0o777;
      if ((mode & 0o077) !== 0) {
        throw new TokenError(
          `the PIN file ${file} for PKCS#11 token '${uri.token}' is readable by group or others (mode ${mode.toString(8)}); chmod 600 it`,
        );
      }
      return { pin: readFileSync(fd, 'utf8').replace(/\r?\n$/, ''), from: `pin-source ${file}` };
    } finally {
      closeSync(fd);
    }
  }
  const pin = process.env[PIN_ENV];
  if (pin === undefined || pin === '') {
    throw new TokenError(
      `no PIN for PKCS#11 token '${uri.token}': set ${PIN_ENV} or add pin-source=file:/path to its pkcs11: URI`,
    );
  }
  return { pin, from: PIN_ENV };
}

function loadModule(modulePath: string): Opened {
  const had = modules.get(modulePath);
  if (had) return had;
  const p = addon();
  const lib = new p.PKCS11();
  try {
    lib.load(modulePath);
  } catch (err) {
    throw new TokenError(
      `cannot load the PKCS#11 module ${modulePath}: ${err instanceof Error ? err.message.split('\n')[0] : 'error'}`,
    );
  }
  try {
    lib.C_Initialize();
  } catch (err) {
    if (rv(err) !== 'CKR_CRYPTOKI_ALREADY_INITIALIZED') {
      lib.close();
      throw new TokenError(`the PKCS#11 module ${modulePath} does not initialize: ${rv(err)}`);
    }
  }
  const o = { lib, modulePath, sessions: 0 };
  modules.set(modulePath, o);
  return o;
}

function releaseModule(o: Opened): void {
  if (o.sessions > 0) return;
  modules.delete(o.modulePath);
  try {
    o.lib.C_Finalize();
  } catch {
    // already finalized
  }
  o.lib.close();
}

const trimmed = (s: string) => s.replace(/[\s\0]+$/, '');

/** A logged-in session on one token; shared, counted, closed with the last user. */
export class Token {
  private users = 1;

  private constructor(
    private readonly mod: Opened,
    private readonly session: Buffer,
    readonly label: string,
    private readonly cacheKey: string,
  ) {}

  /** Opens (or shares) the session on the URI's token and logs in with its PIN. */
  static open(uri: Pkcs11Uri): Token {
    const modulePath = uri.modulePath ?? process.env[MODULE_ENV];
    if (!modulePath) {
      throw new TokenError(
        `the pkcs11: URI for token '${uri.token}' names no module: add ?module-path=/path/to/module.so or set ${MODULE_ENV}`,
      );
    }
    const cacheKey = `${modulePath}\0${uri.token}\0${uri.serial ?? ''}`;
    const shared = tokens.get(cacheKey);
    if (shared) {
      shared.users++;
      return shared;
    }
    const { pin, from } = readPin(uri);
    const mod = loadModule(modulePath);
    const { lib } = mod;
    const p = addon();
    let slot: Buffer | undefined;
    const seen: string[] = [];
    try {
      for (const s of lib.C_GetSlotList(true)) {
        const info = lib.C_GetTokenInfo(s);
        const label = trimmed(info.label);
        seen.push(label);
        if (label !== uri.token) continue;
        if (uri.serial !== undefined && trimmed(info.serialNumber) !== uri.serial) continue;
        slot = s;
        break;
      }
    } catch (err) {
      releaseModule(mod);
      throw new TokenError(`cannot list the tokens of ${modulePath}: ${rv(err)}`);
    }
    if (slot === undefined) {
      releaseModule(mod);
      throw new TokenError(
        `no PKCS#11 token labelled '${uri.token}' in ${modulePath} (tokens present: ${seen.length ? seen.map((l) => `'${l}'`).join(', ') : 'none'}); connect or initialize it`,
      );
    }
    let session: Buffer;
    try {
      session = lib.C_OpenSession(slot, p.CKF_SERIAL_SESSION | p.CKF_RW_SESSION);
    } catch (err) {
      releaseModule(mod);
      throw new TokenError(`cannot open a session on PKCS#11 token '${uri.token}': ${rv(err)}`);
    }
    try {
      lib.C_Login(session, p.CKU_USER, pin);
    } catch (err) {
      const code = rv(err);
      if (code !== 'CKR_USER_ALREADY_LOGGED_IN') {
        try {
          lib.C_CloseSession(session);
        } catch {
          // closing is best effort
        }
        releaseModule(mod);
        const why =
          code === 'CKR_PIN_INCORRECT'
            ? `the PIN (from ${from}) is wrong`
            : code === 'CKR_PIN_LOCKED'
              ? 'the token is locked after too many wrong PINs; unlock it with the SO PIN'
              : code === 'CKR_USER_PIN_NOT_INITIALIZED'
                ? 'its user PIN was never set; initialize the token'
                : `login failed: ${code}`;
        throw new TokenError(`cannot log in to PKCS#11 token '${uri.token}': ${why}`);
      }
    }
    mod.sessions++;
    const t = new Token(mod, session, uri.token, cacheKey);
    tokens.set(cacheKey, t);
    return t;
  }

  close(): void {
    if (--this.users > 0) return;
    tokens.delete(this.cacheKey);
    const { lib } = this.mod;
    try {
      lib.C_Logout(this.session);
    } catch {
      // the token may be gone
    }
    try {
      lib.C_CloseSession(this.session);
    } catch {
      // idem
    }
    this.mod.sessions--;
    releaseModule(this.mod);
  }

  private find(template: P.Template): Buffer[] {
    const { lib } = this.mod;
    lib.C_FindObjectsInit(this.session, template);
    try {
      return lib.C_FindObjects(this.session, 4);
    } finally {
      lib.C_FindObjectsFinal(this.session);
    }
  }

  private findOne(uri: Pkcs11Uri, cls: number, what: string): Buffer {
    const p = addon();
    const template: P.Template = [
      { type: p.CKA_CLASS, value: cls },
      { type: p.CKA_LABEL, value: uri.object },
    ];
    if (uri.id) template.push({ type: p.CKA_ID, value: uri.id });
    let found: Buffer[];
    try {
      found = this.find(template);
    } catch (err) {
      throw new TokenError(`cannot search PKCS#11 token '${this.label}': ${rv(err)}`);
    }
    if (found.length === 0) {
      throw new TokenError(
        `no ${what} '${uri.object}' on PKCS#11 token '${this.label}'; generate it with 'vulnvault keys pkcs11-generate'`,
      );
    }
    if (found.length > 1) {
      throw new TokenError(
        `more than one ${what} '${uri.object}' on PKCS#11 token '${this.label}'; add id=… to the URI`,
      );
    }
    return found[0] as Buffer;
  }

  /**
   * The private or secret key the URI names; refused unless it is sensitive
   * and non-extractable (a key that can leave the token is not kept in it).
   */
  privateKey(uri: Pkcs11Uri, kind: KeyKind): Buffer {
    const p = addon();
    const secret = kind === 'aes-256';
    const what = secret ? 'secret key' : 'private key';
    const h = this.findOne(uri, secret ? p.CKO_SECRET_KEY : p.CKO_PRIVATE_KEY, what);
    const attrs = this.mod.lib.C_GetAttributeValue(this.session, h, [
      { type: p.CKA_KEY_TYPE },
      { type: p.CKA_SENSITIVE },
      { type: p.CKA_EXTRACTABLE },
    ]);
    const keyType = attrs[0]?.value as Buffer;
    const bool = (b: unknown) => Buffer.isBuffer(b) && b[0] === 1;
    const expected = secret ? p.CKK_AES : kind === 'ec-p256' ? p.CKK_EC : CKK_EC_EDWARDS;
    const type =
      keyType.length === 8 ? Number(keyType.readBigUInt64LE(0)) : keyType.readUInt32LE(0);
    if (type !== expected) {
      throw new TokenError(
        `the ${what} '${uri.object}' on PKCS#11 token '${this.label}' is not an ${kind} key`,
      );
    }
    if (!bool(attrs[1]?.value) || bool(attrs[2]?.value)) {
      throw new TokenError(
        `the ${what} '${uri.object}' on PKCS#11 token '${this.label}' is extractable or not sensitive; vulnvault uses only keys that cannot leave the token`,
      );
    }
    return h;
  }

  /** The public half of an EC or Ed25519 key pair, as a node:crypto KeyObject. */
  publicKey(uri: Pkcs11Uri, kind: 'ec-p256' | 'ed25519'): KeyObject {
    const p = addon();
    const h = this.findOne(uri, p.CKO_PUBLIC_KEY, 'public key');
    const [attr] = this.mod.lib.C_GetAttributeValue(this.session, h, [{ type: p.CKA_EC_POINT }]);
    let point = attr?.value as Buffer;
    // CKA_EC_POINT is a DER OCTET STRING; some modules give the raw point.
    const size = kind === 'ec-p256' ? 65 : 32;
    if (point.length === size + 2 && point[0] === 0x04) point = point.subarray(2);
    if (point.length !== size) {
      throw new TokenError(
        `the public key '${uri.object}' on PKCS#11 token '${this.label}' is not an ${kind} key`,
      );
    }
    const prefix = kind === 'ec-p256' ? P256_SPKI_PREFIX : ED25519_SPKI_PREFIX;
    return createPublicKey({ key: Buffer.concat([prefix, point]), format: 'der', type: 'spki' });
  }

  private run<T>(what: string, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw new TokenError(`PKCS#11 token '${this.label}': ${what} failed: ${rv(err)}`, {
        cause: err,
      });
    }
  }

  /** AES-256-GCM inside the token; returns ciphertext || 16-byte tag. */
  encryptGcm(key: Buffer, iv: Buffer, aad: Buffer, plain: Buffer): Buffer {
    const p = addon();
    return this.run('AES-GCM encrypt', () => {
      const { lib } = this.mod;
      lib.C_EncryptInit(this.session, { mechanism: p.CKM_AES_GCM, parameter: gcm(iv, aad) }, key);
      return Buffer.from(lib.C_Encrypt(this.session, plain, Buffer.alloc(plain.length + 16)));
    });
  }

  decryptGcm(key: Buffer, iv: Buffer, aad: Buffer, sealed: Buffer): Buffer {
    const p = addon();
    return this.run('AES-GCM decrypt', () => {
      const { lib } = this.mod;
      lib.C_DecryptInit(this.session, { mechanism: p.CKM_AES_GCM, parameter: gcm(iv, aad) }, key);
      return Buffer.from(lib.C_Decrypt(this.session, sealed, Buffer.alloc(sealed.length)));
    });
  }

  /** ECDSA over a SHA-256 digest: r || s (32 bytes each), as WebCrypto returns it. */
  signEcdsaDigest(key: Buffer, digest: Buffer): Buffer {
    const p = addon();
    return this.run('ECDSA sign', () => {
      const { lib } = this.mod;
      lib.C_SignInit(this.session, { mechanism: p.CKM_ECDSA }, key);
      return Buffer.from(lib.C_Sign(this.session, digest, Buffer.alloc(64)));
    });
  }

  /** Pure Ed25519 over the message. */
  signEd25519(key: Buffer, message: Buffer): Buffer {
    return this.run('Ed25519 sign', () => {
      const { lib } = this.mod;
      lib.C_SignInit(this.session, { mechanism: CKM_EDDSA }, key);
      return Buffer.from(lib.C_Sign(this.session, message, Buffer.alloc(64)));
    });
  }

  /** Generates a key inside the token: token object, sensitive, never extractable. */
  generate(uri: Pkcs11Uri, kind: KeyKind): void {
    const p = addon();
    const { lib } = this.mod;
    const existing = this.find([
      { type: p.CKA_LABEL, value: uri.object },
      ...(uri.id ? [{ type: p.CKA_ID, value: uri.id }] : []),
    ]);
    if (existing.length > 0) {
      throw new TokenError(
        `PKCS#11 token '${this.label}' already holds a key '${uri.object}'; vulnvault does not replace it`,
      );
    }
    const common: P.Template = [
      { type: p.CKA_TOKEN, value: true },
      { type: p.CKA_LABEL, value: uri.object },
      ...(uri.id ? [{ type: p.CKA_ID, value: uri.id }] : []),
    ];
    const secretAttrs: P.Template = [
      ...common,
      { type: p.CKA_PRIVATE, value: true },
      { type: p.CKA_SENSITIVE, value: true },
      { type: p.CKA_EXTRACTABLE, value: false },
    ];
    this.run(`generating ${kind} key '${uri.object}'`, () => {
      if (kind === 'aes-256') {
        lib.C_GenerateKey(this.session, { mechanism: p.CKM_AES_KEY_GEN }, [
          ...secretAttrs,
          { type: p.CKA_CLASS, value: p.CKO_SECRET_KEY },
          { type: p.CKA_KEY_TYPE, value: p.CKK_AES },
          { type: p.CKA_VALUE_LEN, value: 32 },
          { type: p.CKA_ENCRYPT, value: true },
          { type: p.CKA_DECRYPT, value: true },
          { type: p.CKA_SIGN, value: false },
          { type: p.CKA_VERIFY, value: false },
          { type: p.CKA_WRAP, value: false },
          { type: p.CKA_UNWRAP, value: false },
          { type: p.CKA_DERIVE, value: false },
        ]);
        return;
      }
      const ed = kind === 'ed25519';
      lib.C_GenerateKeyPair(
        this.session,
        { mechanism: ed ? CKM_EC_EDWARDS_KEY_PAIR_GEN : p.CKM_EC_KEY_PAIR_GEN },
        [
          ...common,
          { type: p.CKA_CLASS, value: p.CKO_PUBLIC_KEY },
          { type: p.CKA_KEY_TYPE, value: ed ? CKK_EC_EDWARDS : p.CKK_EC },
          { type: p.CKA_EC_PARAMS, value: ed ? ED25519_OID : P256_OID },
          { type: p.CKA_VERIFY, value: true },
        ],
        [
          ...secretAttrs,
          { type: p.CKA_CLASS, value: p.CKO_PRIVATE_KEY },
          { type: p.CKA_KEY_TYPE, value: ed ? CKK_EC_EDWARDS : p.CKK_EC },
          { type: p.CKA_SIGN, value: true },
        ],
      );
    });
  }
}

function gcm(iv: Buffer, aad: Buffer): P.AesGCM {
  const p = addon();
  return { type: p.CK_PARAMS_AES_GCM, iv, aad, ivBits: iv.length * 8, tagBits: 128 };
}
