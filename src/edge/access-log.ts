// LO 1.2: the access log, one JSON line per request like API Gateway's:
// request id, source IP (and the client IP when a trusted proxy forwarded
// it), principal, method, route, status, bytes in/out, latency, TLS version
// and cipher. Lines are built with JSON.stringify, so no header, path or
// certificate field can end a record early or forge another. The records go
// to a sink the composition root provides: the hash-chained, checkpointed
// access log (src/audit/batched-chained-log.ts), which queues them and writes
// in batches, so a request never waits on the disk.

import type { TLSSocket } from 'node:tls';

export interface AccessRecord {
  time: string;
  requestId: string;
  sourceIp: string;
  clientIp: string;
  principal: { type: string; name: string; id: string; serial: string | null } | null;
  method: string;
  route: string | null;
  path: string;
  status: number;
  /** HTTP bytes (headers and body) read for this request and written for its response. */
  bytesIn: number;
  bytesOut: number;
  latencyMs: number;
  tlsVersion: string | null;
  cipher: string | null;
  /** Set when the HTTP parser refused the request (smuggling, timeout, header limits). */
  error?: string;
}

export interface AccessLog {
  write(record: AccessRecord): void;
  close(): Promise<void>;
}

/** Where access records go; append() must not block (it runs for every request). */
export interface AccessRecordSink {
  append(body: Record<string, unknown>): void;
  close(): Promise<void>;
}

export function createAccessLog(sink: AccessRecordSink): AccessLog {
  return {
    write(record) {
      sink.append({ log: 'access', ...record });
    },
    close: () => sink.close(),
  };
}

interface SocketInfo {
  tlsVersion: string | null;
  cipher: string | null;
  /** Byte counters at the end of the previous request on this socket. */
  read: number;
  written: number;
}

const sockets = new WeakMap<TLSSocket, SocketInfo>();

/** TLS details of a socket (read once) and the bytes this request moved. */
export function socketUsage(socket: TLSSocket): {
  tlsVersion: string | null;
  cipher: string | null;
  bytesIn: number;
  bytesOut: number;
} {
  let s = sockets.get(socket);
  if (!s) {
    s = {
      tlsVersion: socket.getProtocol?.() ?? null,
      cipher: socket.getCipher?.()?.name ?? null,
      read: 0,
      written: 0,
    };
    sockets.set(socket, s);
  }
  const read = socket.bytesRead;
  const written = socket.bytesWritten;
  const usage = {
    tlsVersion: s.tlsVersion,
    cipher: s.cipher,
    bytesIn: read - s.read,
    bytesOut: written - s.written,
  };
  s.read = read;
  s.written = written;
  return usage;
}

/** Path without the query string, clipped: enough to investigate, bounded in size. */
export function logPath(url: string): string {
  const q = url.indexOf('?');
  const p = q === -1 ? url : url.slice(0, q);
  return p.length > 256 ? `${p.slice(0, 256)}…` : p;
}
