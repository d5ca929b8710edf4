// A small syslog-over-TLS collector for tests (RFC 5425): listens on
// 127.0.0.1 with a certificate made by the project's PKI code, optionally
// requires a client certificate from a given CA, and splits the byte stream
// into RFC 5424 messages by their octet counts.

import { createServer, type TLSSocket } from 'node:tls';
import type { PemPair } from '../../src/pki/issue.js';

export interface SyslogReceiver {
  port: number;
  messages: string[];
  /** Subjects (CN) of the client certificates the collector saw. */
  clients: string[];
  close(): Promise<void>;
}

/** Complete octet-counted frames at the start of buf, and the rest. */
export function splitFrames(buf: Buffer): { frames: string[]; rest: Buffer } {
  const frames: string[] = [];
  let b = buf;
  for (;;) {
    const sp = b.indexOf(0x20);
    if (sp === -1) break;
    const len = Number(b.subarray(0, sp).toString('ascii'));
    if (!Number.isInteger(len) || len <= 0) throw new Error('bad MSG-LEN');
    if (b.length < sp + 1 + len) break;
    frames.push(b.subarray(sp + 1, sp + 1 + len).toString('utf8'));
    b = b.subarray(sp + 1 + len);
  }
  return { frames, rest: b };
}

export function startSyslogReceiver(o: {
  server: PemPair;
  clientCa?: string;
  port?: number;
}): Promise<SyslogReceiver> {
  const messages: string[] = [];
  const clients: string[] = [];
  const sockets = new Set<TLSSocket>();
  const srv = createServer(
    {
      cert: o.server.certPem,
      key: o.server.keyPem,
      ...(o.clientCa ? { ca: o.clientCa, requestCert: true, rejectUnauthorized: true } : {}),
    },
    (socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
      const cn = socket.getPeerX509Certificate()?.subject;
      if (cn) clients.push(cn);
      let pending: Buffer = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        const { frames, rest } = splitFrames(Buffer.concat([pending, chunk]));
        pending = rest;
        messages.push(...frames);
      });
    },
  );
  srv.on('tlsClientError', () => undefined);
  return new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(o.port ?? 0, '127.0.0.1', () => {
      const addr = srv.address();
      resolve({
        port: typeof addr === 'object' && addr ? addr.port : 0,
        messages,
        clients,
        close: () =>
          new Promise((done) => {
            for (const s of sockets) s.destroy();
            srv.close(() => done());
          }),
      });
    });
  });
}
