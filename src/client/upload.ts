// Streams a scan file to POST /v1/orgs/{org}/scans over mTLS and reports
// progress as bytes leave. Used by `vulnvault upload` and the benchmark.

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
  idempotencyKey?: string | undefined;
  onProgress?: (sentBytes: number, totalBytes: number) => void;
}

export interface UploadResponse {
  status: number;
  body: unknown;
  text: string;
}

/** Media type from a file name: .nessus/.xml, .csv, .sarif, .cdx.json/bom.json, .json. */
export function mediaTypeForFile(file: string): string | undefined {
  const f = file.toLowerCase();
  if (f.endsWith('.nessus')) return 'application/vnd.tenable.nessus+xml';
  if (f.endsWith('.xml')) return 'application/xml';
  if (f.endsWith('.csv')) return 'text/csv';
  if (f.endsWith('.sarif') || f.endsWith('.sarif.json')) return 'application/sarif+json';
  if (f.endsWith('.cdx.json') || f.endsWith('bom.json') || f.endsWith('.cdx')) {
    return 'application/vnd.cyclonedx+json';
  }
  if (f.endsWith('.json')) return 'application/json';
  return undefined;
}

export const TYPE_ALIASES: Readonly<Record<string, string>> = {
  nessus: 'application/vnd.tenable.nessus+xml',
  xml: 'application/xml',
  csv: 'text/csv',
  sarif: 'application/sarif+json',
  cyclonedx: 'application/vnd.cyclonedx+json',
  json: 'application/json',
};

export function uploadScan(o: UploadOptions): Promise<UploadResponse> {
  const total = statSync(o.file).size;
  const url = new URL(`/v1/orgs/${encodeURIComponent(o.org)}/scans`, o.url);
  return new Promise((resolve, reject) => {
    let answered = false;
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
          ...(o.idempotencyKey ? { 'idempotency-key': o.idempotencyKey } : {}),
        },
      },
      (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        const done = () => {
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
    // The server may answer (and close) before the whole file is sent, e.g.
    // 403 or 413: the response still wins over the write error.
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    pipeline(createReadStream(o.file, { highWaterMark: 256 * 1024 }), meter, req).catch(
      () => undefined,
    );
  });
}
