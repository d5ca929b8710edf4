// Streams a scan file to POST /v1/orgs/{org}/scans over mTLS and reports
// progress as bytes leave. Used by `vulnvault upload` and the benchmark.
//
// The body waits for `100 Continue` (as curl does for large bodies): a server
// that refuses the request at once (403, 413, 415) does so before the file is
// sent, and a connection closed before the server said anything was refused
// below HTTP, at the TLS handshake, which the error then says.

import { createReadStream, statSync } from 'node:fs';
import { request } from 'node:https';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export interface UploadTarget {
  url: string;
  cert: string;
  key: string;
  ca: string;
}

export interface UploadOptions extends UploadTarget {
  org: string;
  file: string;
  mediaType: string;
  /** ?format= (the server detects the format when absent) */
  format?: string | undefined;
  /** ?target= for formats whose files name no target */
  target?: string | undefined;
  idempotencyKey?: string | undefined;
  onProgress?: (sentBytes: number, totalBytes: number) => void;
}

export interface UploadResponse {
  status: number;
  body: unknown;
  text: string;
}

/**
 * Media type from a file name: .nessus, .sarif, .cdx.json/bom.json,
 * .cdx.xml/bom.xml, .jsonl/.ndjson name a format; .xml, .csv, .json name a
 * family the server detects the format of. Any other name: the first byte
 * says the family ('<' XML, '{' or '[' JSON, else CSV).
 */
export function mediaTypeForFile(file: string, firstByte?: string): string {
  const f = file.toLowerCase();
  if (f.endsWith('.nessus')) return 'application/vnd.tenable.nessus+xml';
  if (f.endsWith('.sarif') || f.endsWith('.sarif.json')) return 'application/sarif+json';
  if (f.endsWith('.cdx.json') || f.endsWith('bom.json')) return 'application/vnd.cyclonedx+json';
  if (f.endsWith('.cdx.xml') || f.endsWith('bom.xml')) return 'application/vnd.cyclonedx+xml';
  if (f.endsWith('.jsonl') || f.endsWith('.ndjson')) return 'application/x-ndjson';
  if (f.endsWith('.xml')) return 'application/xml';
  if (f.endsWith('.csv')) return 'text/csv';
  if (f.endsWith('.json')) return 'application/json';
  if (firstByte === '<') return 'application/xml';
  if (firstByte === '{' || firstByte === '[') return 'application/json';
  return 'text/csv';
}

/** The media type to send a format as (--format). */
export const FORMAT_MEDIA_TYPES: Readonly<Record<string, string>> = {
  'nessus-xml': 'application/vnd.tenable.nessus+xml',
  'nessus-csv': 'text/csv',
  sarif: 'application/sarif+json',
  cyclonedx: 'application/vnd.cyclonedx+json',
  'cyclonedx-xml': 'application/vnd.cyclonedx+xml',
  trivy: 'application/json',
  grype: 'application/json',
  openvas: 'application/xml',
  'zap-xml': 'application/xml',
  'zap-json': 'application/json',
  'dependency-check': 'application/json',
  gitleaks: 'application/json',
  semgrep: 'application/json',
  nuclei: 'application/x-ndjson',
  native: 'application/json',
};

/** --type, kept from before formats were detected: old names of formats. */
export const TYPE_ALIASES: Readonly<Record<string, string>> = {
  nessus: 'nessus-xml',
  xml: 'nessus-xml',
  csv: 'nessus-csv',
  sarif: 'sarif',
  cyclonedx: 'cyclonedx',
  json: 'native',
};

/** How long the body waits for 100 Continue from a server (or proxy) that may not send it. */
const CONTINUE_WAIT_MS = 1000;

/** How a TLS socket ends when the peer closes it without a word. */
const CLOSED = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);

/**
 * The error for a connection the server closed before it read the request:
 * the vulnvault edge does that at the TLS handshake when it refuses the
 * client (and says why only in its own authz log).
 */
export function refusedAtHandshake(err: Error & { code?: string }): Error {
  if (!CLOSED.has(err.code ?? '')) return err;
  return new Error(
    `the server closed the connection during the TLS handshake (${err.message}), before reading the request: ` +
      "it refused this client. Likely causes: the client certificate is revoked or expired, was not issued by the server's CA, " +
      "or this source address is not allowed; the server's logs/authz.log names the reason",
    { cause: err },
  );
}

export function uploadScan(o: UploadOptions): Promise<UploadResponse> {
  const total = statSync(o.file).size;
  const url = new URL(`/v1/orgs/${encodeURIComponent(o.org)}/scans`, o.url);
  if (o.format !== undefined) url.searchParams.set('format', o.format);
  if (o.target !== undefined) url.searchParams.set('target', o.target);
  return new Promise((resolve, reject) => {
    let answered = false;
    // The server has spoken (100 Continue or a response): it accepted the connection.
    let heard = false;
    let sending = false;
    // The body went without 100 Continue: a later reset says nothing about the handshake.
    let unprompted = false;
    let waitTimer: NodeJS.Timeout | undefined;
    const req = request(
      url,
      {
        method: 'POST',
        cert: o.cert,
        key: o.key,
        ca: o.ca,
        agent: false,
        headers: {
          'content-type': o.mediaType,
          'content-length': String(total),
          expect: '100-continue',
          ...(o.idempotencyKey ? { 'idempotency-key': o.idempotencyKey } : {}),
        },
      },
      (res) => {
        answered = true;
        heard = true;
        clearTimeout(waitTimer);
        const chunks: Buffer[] = [];
        const done = () => {
          // Answered before the body was sent: it never will be.
          if (!sending) req.destroy();
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown;
          try {
            body = JSON.parse(text);
          } catch {
            body = undefined;
          }
          resolve({ status: res.statusCode ?? 0, body, text });
        };
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', done);
        // The server closes a refused upload's connection: what arrived is the answer.
        res.on('close', done);
        res.on('error', () => undefined);
      },
    );
    let sent = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        sent += chunk.length;
        o.onProgress?.(sent, total);
        cb(null, chunk);
      },
    });
    const send = () => {
      clearTimeout(waitTimer);
      if (sending || answered) return;
      sending = true;
      pipeline(createReadStream(o.file, { highWaterMark: 256 * 1024 }), meter, req).catch(
        () => undefined,
      );
    };
    req.on('continue', () => {
      heard = true;
      send();
    });
    // Headers now; the body on 100 Continue, or a while after the handshake
    // without it (counted from there: a slow handshake is not a silent server).
    req.on('socket', (socket) =>
      socket.once('secureConnect', () => {
        waitTimer = setTimeout(() => {
          unprompted = true;
          send();
        }, CONTINUE_WAIT_MS);
      }),
    );
    req.flushHeaders();
    // The server may answer (and close) before the whole file is sent, e.g.
    // 403 or 413: the response still wins over the write error.
    req.on('error', (err) => {
      clearTimeout(waitTimer);
      if (!answered) reject(heard || unprompted ? err : refusedAtHandshake(err));
    });
  });
}
