// A holding area for records a parser cannot hand over yet (SARIF results that
// come before their run's tool and target). Records stay in memory up to a
// budget, then go to a temporary file sealed with AES-256-GCM under a random
// key that lives only in this object, so nothing readable reaches the disk and
// memory stays bounded whatever the upload size. The file is unlinked as soon
// as it is open (POSIX keeps it readable through the descriptor), so even a
// crash leaves nothing behind; dispose() closes it and forgets the key.
//
// File layout, one frame per flush:  u32 length ‖ ciphertext ‖ 16-byte tag,
// the plaintext being a run of  u32 length ‖ UTF-8 record.  The nonce is the
// frame number (unique under a fresh key); the AAD is the frame number too,
// so frames cannot be reordered, repeated or dropped unnoticed.

import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from 'node:crypto';
import { open, unlink, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const TAG_BYTES = 16;

export interface SpillOptions {
  /** Bytes of records kept in memory before the first write to disk (default 4 MiB). */
  memoryBytes?: number;
  /** Directory of the temporary file (default: the system's). */
  dir?: string;
  /** Unlink the file as soon as it is open (default true; tests turn it off to look at it). */
  unlinkWhileOpen?: boolean;
}

export interface Spill {
  /** Holds one record (synchronous: parsers call it from inside a parse callback). */
  append(record: string): void;
  /** Writes what is held to disk once the memory budget is exceeded. */
  flush(): Promise<void>;
  /** Every record appended so far, in order. */
  records(): AsyncGenerator<string>;
  /** Closes and deletes the file and forgets the key; safe to call more than once. */
  dispose(): Promise<void>;
  /** Records appended so far. */
  readonly count: number;
  /** The temporary file's path once one was created (it may be unlinked already). */
  readonly path: string | undefined;
}

export function createSpill(options: SpillOptions = {}): Spill {
  const memoryBytes = options.memoryBytes ?? 4 * 1024 * 1024;
  const unlinkEarly = options.unlinkWhileOpen ?? true;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let count = 0;
  let key: Buffer | undefined;
  let file: FileHandle | undefined;
  let path: string | undefined;
  let linked = false;
  let size = 0;
  let frames = 0;
  let disposed = false;

  const live = () => {
    if (disposed) throw new Error('spill used after dispose');
  };

  const openFile = async (): Promise<FileHandle> => {
    key = randomBytes(32);
    path = join(options.dir ?? tmpdir(), `vulnvault-spill-${randomUUID()}`);
    // wx: never follow or reuse an existing name; 0600: only this user.
    file = await open(path, 'wx+', 0o600);
    linked = true;
    if (unlinkEarly) {
      try {
        await unlink(path);
        linked = false;
      } catch {
        // Not possible on this platform (Windows): dispose() unlinks it.
      }
    }
    return file;
  };

  const writeFrame = async (): Promise<void> => {
    const fh = file ?? (await openFile());
    const plain = Buffer.concat(pending, pendingBytes);
    pending = [];
    pendingBytes = 0;
    const nonce = Buffer.alloc(12);
    nonce.writeUIntBE(frames, 6, 6);
    const cipher = createCipheriv('aes-256-gcm', key as Buffer, nonce);
    cipher.setAAD(nonce);
    const head = Buffer.alloc(4);
    head.writeUInt32BE(plain.length);
    const sealed = Buffer.concat([head, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    plain.fill(0);
    await fh.write(sealed, 0, sealed.length, size);
    size += sealed.length;
    frames++;
  };

  async function* fromFile(fh: FileHandle): AsyncGenerator<string> {
    let at = 0;
    for (let frame = 0; at < size; frame++) {
      const head = Buffer.alloc(4);
      await readFully(fh, head, at);
      const len = head.readUInt32BE(0);
      const body = Buffer.alloc(len + TAG_BYTES);
      await readFully(fh, body, at + 4);
      at += 4 + body.length;
      const nonce = Buffer.alloc(12);
      nonce.writeUIntBE(frame, 6, 6);
      const decipher = createDecipheriv('aes-256-gcm', key as Buffer, nonce);
      decipher.setAAD(nonce);
      decipher.setAuthTag(body.subarray(len));
      const plain = Buffer.concat([decipher.update(body.subarray(0, len)), decipher.final()]);
      for (let p = 0; p < plain.length;) {
        const n = plain.readUInt32BE(p);
        yield plain.toString('utf8', p + 4, p + 4 + n);
        p += 4 + n;
      }
      plain.fill(0);
    }
  }

  return {
    append(record) {
      live();
      const bytes = Buffer.from(record, 'utf8');
      const head = Buffer.alloc(4);
      head.writeUInt32BE(bytes.length);
      pending.push(head, bytes);
      pendingBytes += 4 + bytes.length;
      count++;
    },
    async flush() {
      live();
      if (pendingBytes === 0) return;
      if (file === undefined && pendingBytes <= memoryBytes) return;
      await writeFrame();
    },
    async *records() {
      live();
      if (file === undefined) {
        // Everything fits in memory: nothing was written.
        for (let i = 0; i < pending.length; i += 2)
          yield (pending[i + 1] as Buffer).toString('utf8');
        return;
      }
      if (pendingBytes > 0) await writeFrame();
      yield* fromFile(file);
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      pending = [];
      pendingBytes = 0;
      key?.fill(0);
      key = undefined;
      const fh = file;
      file = undefined;
      await fh?.close().catch(() => undefined);
      if (linked && path !== undefined) {
        linked = false;
        await unlink(path).catch(() => undefined);
      }
    },
    get count() {
      return count;
    },
    get path() {
      return path;
    },
  };
}

async function readFully(fh: FileHandle, buf: Buffer, position: number): Promise<void> {
  for (let got = 0; got < buf.length;) {
    const { bytesRead } = await fh.read(buf, got, buf.length - got, position + got);
    if (bytesRead === 0) throw new Error('spill file ended early');
    got += bytesRead;
  }
}
