// Remote anchor: heads sent to a syslog collector over TLS (RFC 5425), the
// collector's certificate checked against its configured CA (and its name
// or IP address), optionally with a client certificate. One connection is
// kept open and reopened when it drops. Syslog over TLS has no
// acknowledgement: a head written just before the connection breaks can be
// lost, which costs little because every head covers all records before it
// and the next one follows within checkpointIntervalSeconds.

import { isIP } from 'node:net';
import { connect, type TLSSocket } from 'node:tls';
import type { AnchorSink } from './anchor-sink.js';
import { octetFrame, syslogMessage, type SyslogOrigin } from './syslog-message.js';

export interface SyslogSinkOptions {
  host: string;
  port: number;
  /** PEM of the CA(s) that issued the collector's certificate. */
  ca: string;
  /** Client certificate and key (PEM) when the collector asks for one. */
  cert?: string;
  key?: string;
  /** Name to check the collector's certificate against; default host. */
  serverName?: string;
  origin: SyslogOrigin;
  connectTimeoutMs?: number;
}

export function createSyslogSink(o: SyslogSinkOptions): AnchorSink {
  let socket: TLSSocket | undefined;
  /** A connection being opened, so that close() can abandon it. */
  let connecting: TLSSocket | undefined;

  function open(): Promise<TLSSocket> {
    return new Promise((resolve, reject) => {
      const name = o.serverName ?? o.host;
      const s = connect({
        host: o.host,
        port: o.port,
        ca: o.ca,
        ...(o.cert && o.key ? { cert: o.cert, key: o.key } : {}),
        // The certificate is checked against servername, else host; SNI
        // carries names only, so an IP address is left to host.
        ...(isIP(name) ? {} : { servername: name }),
        minVersion: 'TLSv1.2',
        rejectUnauthorized: true,
      });
      connecting = s;
      const timer = setTimeout(
        () => s.destroy(new Error(`no TLS connection within ${o.connectTimeoutMs ?? 10_000} ms`)),
        o.connectTimeoutMs ?? 10_000,
      );
      s.once('secureConnect', () => {
        clearTimeout(timer);
        connecting = undefined;
        // Errors after this surface as a failed write or a close.
        s.on('error', () => undefined);
        s.on('close', () => {
          if (socket === s) socket = undefined;
        });
        // A collector sends nothing; drain anything it does.
        s.resume();
        resolve(s);
      });
      s.once('error', (err: Error) => {
        clearTimeout(timer);
        connecting = undefined;
        reject(err);
      });
    });
  }

  return {
    name: `syslog ${o.host}:${o.port}`,
    async deliver(heads) {
      if (!socket || socket.destroyed || !socket.writable) socket = await open();
      const s = socket;
      const text = heads.map((h) => octetFrame(syslogMessage(h, o.origin))).join('');
      await new Promise<void>((resolve, reject) =>
        s.write(text, (err) => (err ? reject(err) : resolve())),
      );
    },
    close() {
      connecting?.destroy(new Error('shutting down'));
      const s = socket;
      socket = undefined;
      if (!s || s.destroyed) return Promise.resolve();
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          s.destroy();
          resolve();
        }, 2000);
        s.once('close', () => {
          clearTimeout(timer);
          resolve();
        });
        s.end();
      });
    },
  };
}
