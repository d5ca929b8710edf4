// Helpers for the edge-hardening tests: a server with config overrides (on
// any loopback address), requests from a chosen loopback source address,
// raw TLS conversations for parser-level attacks, and the access log.

import { request as httpsRequest, type Agent } from 'node:https';
import { connect, type TLSSocket } from 'node:tls';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { openVault } from '../../src/app.js';
import type { Config } from '../../src/config/config.js';
import type { PemPair } from '../../src/pki/issue.js';
import { collectResponse, readLog, type Response, type RunningVault } from './vault.js';

export type Overrides = { [K in keyof Config]?: Partial<Config[K]> };

/** The test directory's config with some sections partly replaced. */
export function withConfig(config: Config, o: Overrides): Config {
  const out: Record<string, unknown> = { ...config };
  for (const [k, v] of Object.entries(o)) {
    const base = (config as unknown as Record<string, object>)[k] ?? {};
    out[k] = { ...base, ...(v as object) };
  }
  return out as unknown as Config;
}

export async function startEdge(config: Config, host = '127.0.0.1'): Promise<RunningVault> {
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _e, cb) {
      logs.push(chunk.toString());
      cb();
    },
  });
  const vault = await openVault({ ...config, server: { ...config.server, port: 0 } }, pino(sink));
  await vault.app.listen({ host, port: 0 });
  const addr = vault.app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  const h = host.includes(':') ? `[${host}]` : host;
  return { vault, port, url: `https://${h}:${port}`, logs, close: () => vault.close() };
}

export interface EdgeCall {
  method?: string;
  path: string;
  ca: string;
  cert?: PemPair;
  body?: string;
  headers?: Record<string, string>;
  /** Source address of the connection (a loopback address). */
  localAddress?: string;
  host?: string;
  agent?: Agent;
}

/** One HTTPS request; also reports the local port, to tell connections apart. */
export function edgeCall(
  port: number,
  o: EdgeCall,
): Promise<Response & { localPort: number | undefined; serverSerial: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: o.host ?? '127.0.0.1',
        port,
        method: o.method ?? 'GET',
        path: o.path,
        ca: o.ca,
        ...(o.cert ? { cert: o.cert.certPem, key: o.cert.keyPem } : {}),
        servername: 'localhost',
        agent: o.agent ?? false,
        headers: o.headers ?? {},
        ...(o.localAddress ? { localAddress: o.localAddress } : {}),
      },
      (res) => {
        const socket = res.socket as TLSSocket;
        const localPort = socket.localPort;
        const serverSerial = socket.getPeerX509Certificate?.()?.serialNumber;
        void collectResponse(res).then((r) => resolve({ ...r, localPort, serverSerial }), reject);
      },
    );
    req.on('error', reject);
    req.end(o.body);
  });
}

export interface RawResult {
  data: string;
  closed: boolean;
  ms: number;
}

/**
 * A TLS connection with a client certificate that runs `script` once the
 * handshake is done and resolves when the server closes the connection (or
 * after `maxMs`), with everything the server sent.
 */
export function rawTls(
  port: number,
  o: { ca: string; cert: PemPair; localAddress?: string; maxMs?: number },
  script: (socket: TLSSocket) => void,
): Promise<RawResult> {
  return new Promise((resolve) => {
    const start = Date.now();
    let data = '';
    let done = false;
    const socket = connect({
      host: '127.0.0.1',
      port,
      ca: o.ca,
      servername: 'localhost',
      cert: o.cert.certPem,
      key: o.cert.keyPem,
      ...(o.localAddress ? { localAddress: o.localAddress } : {}),
    });
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ data, closed, ms: Date.now() - start });
    };
    const timer = setTimeout(() => finish(false), o.maxMs ?? 15_000);
    socket.on('secureConnect', () => script(socket));
    socket.on('data', (c: Buffer) => (data += c.toString('latin1')));
    socket.on('error', () => finish(true));
    socket.on('close', () => finish(true));
  });
}

export function readAccessLog(dir: string): Record<string, any>[] {
  return readLog(dir, 'access.log');
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
