// Reading a feed file: gzip detected by its magic bytes (not the name) and
// inflated by node:zlib as it streams, the SHA-256 of the bytes as stored,
// a cap on the inflated size (a small .gz can inflate to gigabytes), and
// UTF-8 lines of bounded length. Every failure is a FeedError naming the feed
// and the file's base name.

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import { isUtf8 } from 'node:buffer';
import { Transform, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { FeedName } from '../core/feeds.js';
import { FeedError } from './feed-error.js';

const GZIP_MAGIC = [0x1f, 0x8b];

export interface FeedBytes {
  /** The file's base name, for messages. */
  name: string;
  gzip: boolean;
  /** The content, inflated when the file is gzip. */
  stream: Readable;
  /** Hex SHA-256 of the file's bytes; complete once `stream` has ended. */
  sha256(): string;
}

function errno(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'error';
}

export async function openFeedFile(
  feed: FeedName,
  file: string,
  maxBytes: number,
): Promise<FeedBytes> {
  const name = basename(file);
  let gzip: boolean;
  try {
    const fh = await open(file, 'r');
    try {
      if (!(await fh.stat()).isFile()) {
        throw new FeedError('feed_unreadable', `${feed}: ${name} is not a regular file`);
      }
      const head = Buffer.alloc(2);
      const { bytesRead } = await fh.read(head, 0, 2, 0);
      gzip = bytesRead === 2 && head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1];
    } finally {
      await fh.close();
    }
  } catch (err) {
    if (err instanceof FeedError) throw err;
    throw new FeedError('feed_unreadable', `${feed}: cannot read ${name} (${errno(err)})`, {
      cause: err,
    });
  }
  const hash = createHash('sha256');
  const raw = createReadStream(file);
  const hashed = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
  let total = 0;
  const capped = new Transform({
    transform(chunk: Buffer, _enc, done) {
      total += chunk.length;
      if (total > maxBytes) {
        done(
          new FeedError(
            'feed_invalid',
            `${feed}: ${name} is larger than ${Math.round(maxBytes / 2 ** 20)} MiB${gzip ? ' inflated' : ''}; is it the right file?`,
          ),
        );
        return;
      }
      done(null, chunk);
    },
  });
  // Errors of every stage surface on the last one, as FeedErrors.
  const fail = (err: unknown, what: string) =>
    capped.destroy(
      err instanceof FeedError
        ? err
        : new FeedError('feed_invalid', `${feed}: ${name}: ${what} (${errno(err)})`, {
            cause: err,
          }),
    );
  raw.on('error', (err) => fail(err, 'read failed'));
  hashed.on('error', (err) => fail(err, 'read failed'));
  raw.pipe(hashed);
  if (gzip) {
    const gunzip = createGunzip();
    gunzip.on('error', (err) => fail(err, 'not a valid gzip file'));
    hashed.pipe(gunzip).pipe(capped);
  } else {
    hashed.pipe(capped);
  }
  let digest: string | undefined;
  return {
    name,
    gzip,
    stream: capped,
    sha256: () => (digest ??= hash.digest('hex')),
  };
}

/** The whole content as text (for the KEV catalog, a few MB). */
export async function readText(feed: FeedName, bytes: FeedBytes): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of bytes.stream) chunks.push(chunk as Buffer);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
  } catch (err) {
    throw new FeedError('feed_invalid', `${feed}: ${bytes.name} is not UTF-8 text`, {
      cause: err,
    });
  }
}

/**
 * The content's lines (without "\n" or "\r\n"), numbered from 1, a chunk's
 * worth at a time (one await per chunk, not per line: 300,000 lines cost
 * ~200 ms instead of ~700). A line longer than maxLine bytes, or one that is
 * not UTF-8, ends it with a FeedError naming the line.
 */
export async function* lineBatches(
  feed: FeedName,
  bytes: FeedBytes,
  maxLine: number,
): AsyncGenerator<{ no: number; text: string }[]> {
  let rest: Buffer = Buffer.alloc(0);
  let no = 0;
  const tooLong = () =>
    new FeedError(
      'feed_invalid',
      `${feed}: ${bytes.name} line ${no + 1}: longer than ${maxLine} bytes`,
    );
  const line = (b: Buffer) => {
    no++;
    const end = b.length > 0 && b[b.length - 1] === 0x0d ? b.length - 1 : b.length;
    const text = b.subarray(0, end);
    if (!isUtf8(text)) {
      throw new FeedError('feed_invalid', `${feed}: ${bytes.name} line ${no}: not UTF-8 text`);
    }
    return { no, text: text.toString('utf8') };
  };
  try {
    for await (const chunk of bytes.stream) {
      const buf = rest.length > 0 ? Buffer.concat([rest, chunk as Buffer]) : (chunk as Buffer);
      const out: { no: number; text: string }[] = [];
      let start = 0;
      for (let i = buf.indexOf(0x0a); i >= 0; i = buf.indexOf(0x0a, start)) {
        if (i - start > maxLine + 1) throw tooLong();
        out.push(line(buf.subarray(start, i)));
        start = i + 1;
      }
      rest = buf.subarray(start);
      if (rest.length > maxLine + 1) throw tooLong();
      if (out.length > 0) yield out;
    }
    if (rest.length > 0) yield [line(rest)];
  } finally {
    bytes.stream.destroy();
  }
}

/** A real calendar day written YYYY-MM-DD. */
export function isDay(s: unknown): s is string {
  if (typeof s !== 'string' || !/^[0-9]{4}-[0-9]{2}-[0-9]{2}$/.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

/**
 * An ISO 8601 UTC time as the feeds write it ("2025-08-25T17:04:19.9796Z",
 * "2025-03-20T12:55:00Z", EPSS's older "2025-01-01T00:00:00+0000"): its day
 * when valid, else undefined.
 */
export function dayOfTime(s: unknown): string | undefined {
  if (typeof s !== 'string') return undefined;
  const m =
    /^([0-9]{4}-[0-9]{2}-[0-9]{2})T[0-2][0-9]:[0-5][0-9]:[0-6][0-9](?:\.[0-9]{1,9})?(?:Z|[+-][0-9]{2}:?[0-9]{2})$/.exec(
      s,
    );
  return m && isDay(m[1]) ? m[1] : undefined;
}
