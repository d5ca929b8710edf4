// vulnvault upload FILE --org ORG: streams a scan export to the server over
// mTLS with a progress bar (bytes, rate, ETA; plain lines when stderr is not
// a terminal) and prints the import summary. The target is either a data
// directory (its config, CA and the scanner certificate) or explicit
// --url/--cert/--key/--ca.

import { randomUUID } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_DIR, loadConfig, resolvePath } from '../../config/config.js';
import { CliError } from '../cli-error.js';
import {
  FORMAT_MEDIA_TYPES,
  mediaTypeForFile,
  TYPE_ALIASES,
  uploadScan,
  type UploadTarget,
} from '../../client/upload.js';
import { parse } from '../args.js';
import { EstClientError, readCertDir, renewIfDue } from '../../client/est-client.js';
import { urlOf } from './serve.js';

function read(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(
      `upload: cannot read ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
    );
  }
}

function target(v: {
  dir?: string | undefined;
  url?: string | undefined;
  cert?: string | undefined;
  key?: string | undefined;
  ca?: string | undefined;
}): UploadTarget {
  if (v.url !== undefined) {
    if (!v.cert || !v.key || !v.ca) {
      throw new CliError('upload: --url needs --cert, --key and --ca', 2);
    }
    return {
      url: v.url,
      cert: read(v.cert, 'certificate'),
      key: read(v.key, 'key'),
      ca: read(v.ca, 'CA'),
    };
  }
  const config = loadConfig(v.dir ?? DEFAULT_DIR);
  const clients = resolvePath(config, config.pki.clientsDir);
  const host = config.server.host === '0.0.0.0' ? '127.0.0.1' : config.server.host;
  return {
    url: urlOf(host, config.server.port),
    cert: read(v.cert ?? join(clients, 'scanner.crt'), 'certificate'),
    key: read(v.key ?? join(clients, 'scanner.key'), 'key'),
    ca: read(v.ca ?? resolvePath(config, config.pki.caCert), 'CA'),
  };
}

/**
 * An enrolled certificate directory (vulnvault cert enroll), renewed first
 * when a third of its lifetime is left, so a daily job never uploads with a
 * certificate about to expire.
 */
async function renewedTarget(dir: string): Promise<UploadTarget> {
  try {
    const r = await renewIfDue(dir);
    if (r.renewed) {
      process.stderr.write(
        `upload: renewed ${dir}/client.crt first (serial ${r.serial}, expires ${r.notAfter.toISOString()})\n`,
      );
    }
    const cd = readCertDir(dir);
    return { url: cd.url, cert: cd.cert, key: cd.key, ca: cd.ca };
  } catch (err) {
    if (err instanceof EstClientError) throw new CliError(`upload: ${err.message}`);
    throw err;
  }
}

function human(bytes: number): string {
  if (bytes >= 1024 * 1024 * 1024) return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
  if (bytes >= 1024 * 1024) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} B`;
}

/** Progress on stderr: a redrawn bar on a TTY, a line every 10 % otherwise. */
export function progressReporter(out: NodeJS.WriteStream = process.stderr) {
  const start = Date.now();
  let lastTenth = -1;
  let lastDraw = 0;
  return (sent: number, total: number) => {
    const secs = Math.max((Date.now() - start) / 1000, 0.001);
    const rate = sent / secs;
    const eta = rate > 0 ? Math.max(0, (total - sent) / rate) : 0;
    const pct = total > 0 ? Math.min(100, Math.floor((sent / total) * 100)) : 100;
    const text = `${human(sent)} / ${human(total)}  ${human(rate)}/s  ETA ${eta.toFixed(0)}s`;
    if (out.isTTY) {
      const now = Date.now();
      if (now - lastDraw < 100 && sent < total) return;
      lastDraw = now;
      const width = 30;
      const filled = Math.round((pct / 100) * width);
      out.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${pct}%  ${text}  `);
      if (sent >= total) out.write('\n');
    } else {
      const tenth = Math.floor(pct / 10);
      if (tenth === lastTenth) return;
      lastTenth = tenth;
      out.write(`upload: ${pct}%  ${text}\n`);
    }
  };
}

export async function uploadCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parse(
    'upload',
    argv,
    {
      org: { type: 'string' },
      type: { type: 'string' },
      format: { type: 'string' },
      target: { type: 'string' },
      dir: { type: 'string' },
      url: { type: 'string' },
      cert: { type: 'string' },
      key: { type: 'string' },
      ca: { type: 'string' },
      'cert-dir': { type: 'string' },
      'idempotency-key': { type: 'string' },
    },
    true,
  );
  const file = positionals[0];
  if (file === undefined || positionals.length > 1) {
    throw new CliError('upload: give exactly one FILE', 2);
  }
  if (!values.org) throw new CliError('upload: --org is required', 2);
  if (!existsSync(file)) throw new CliError(`upload: no such file ${file}`);
  const formats = Object.keys(FORMAT_MEDIA_TYPES).join('|');
  if (values.type !== undefined && !Object.hasOwn(TYPE_ALIASES, values.type)) {
    throw new CliError(
      `upload: --type must be one of ${Object.keys(TYPE_ALIASES).join('|')} (or use --format ${formats})`,
      2,
    );
  }
  if (values.type !== undefined && values.format !== undefined) {
    throw new CliError('upload: give --format or --type, not both', 2);
  }
  const format =
    values.format ?? (values.type !== undefined ? TYPE_ALIASES[values.type] : undefined);
  if (format !== undefined && !Object.hasOwn(FORMAT_MEDIA_TYPES, format)) {
    throw new CliError(`upload: --format must be one of ${formats}`, 2);
  }
  if (values.target !== undefined && (values.target === '' || values.target.length > 255)) {
    throw new CliError('upload: --target must be 1-255 characters', 2);
  }
  const mediaType =
    format !== undefined
      ? (FORMAT_MEDIA_TYPES[format] as string)
      : mediaTypeForFile(file, firstByte(file));
  if (values.dir !== undefined && values.url !== undefined) {
    throw new CliError('upload: give --dir or --url, not both', 2);
  }
  const certDir = values['cert-dir'];
  if (
    certDir !== undefined &&
    [values.dir, values.url, values.cert, values.key, values.ca].some((v) => v !== undefined)
  ) {
    throw new CliError(
      'upload: --cert-dir gives server, CA and certificate: no --dir/--url/--cert/--key/--ca with it',
      2,
    );
  }
  const t = certDir !== undefined ? await renewedTarget(certDir) : target(values);
  let res;
  try {
    res = await uploadScan({
      ...t,
      org: values.org,
      file,
      mediaType,
      format,
      target: values.target,
      // A key of our own makes a retry of this very upload safe.
      idempotencyKey: values['idempotency-key'] ?? randomUUID(),
      onProgress: progressReporter(),
    });
  } catch (err) {
    throw new CliError(`upload: ${(err as Error).message}`);
  }
  const body = res.body as Record<string, unknown> | undefined;
  if (res.status !== 201 || !body) {
    const code = typeof body?.code === 'string' ? body.code : `HTTP ${res.status}`;
    const msg = typeof body?.message === 'string' ? body.message : res.text.slice(0, 200);
    throw new CliError(`upload refused (${res.status} ${code}): ${msg}`);
  }
  const n = (k: string) => (typeof body[k] === 'number' ? String(body[k]) : '0');
  const targets = Array.isArray(body.targets) ? (body.targets as string[]) : [];
  const count = typeof body.targetCount === 'number' ? body.targetCount : targets.length;
  const named = targets.slice(0, 5).join(', ') + (count > 5 ? ` and ${count - 5} more` : '');
  process.stdout.write(
    `scan ${String(body.scanId)} (${String(body.format)}, ${count} target${count === 1 ? '' : 's'}${named ? `: ${named}` : ''}): ` +
      `received ${n('received')}, new ${n('new')}, updated ${n('updated')}, ` +
      `unchanged ${n('unchanged')}, fixed ${n('fixed')}, reopened ${n('reopened')} in ${n('durationMs')} ms\n`,
  );
}

/** The first non-blank character of a file (its first KiB), for a name that says nothing. */
function firstByte(file: string): string | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const buf = Buffer.alloc(1024);
    const n = readSync(fd, buf, 0, buf.length, 0);
    return /\S/.exec(buf.toString('utf8', 0, n).replace(/^\uFEFF/, ''))?.[0];
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
