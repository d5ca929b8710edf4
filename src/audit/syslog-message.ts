// A head as an RFC 5424 syslog message in RFC 5425 (syslog over TLS)
// octet-counting framing: "LEN SP <PRI>1 TIMESTAMP HOST APP PROCID MSGID
// [SD] MSG". Facility 13 (log audit), severity 5 (notice). The head is both
// in structured data (for collectors that index SD) and, signed, as the JSON
// message. 32473 is the enterprise number RFC 5612 reserves for examples.

import type { Checkpoint } from './checkpoint.js';

const PRI = 13 * 8 + 5;
export const SD_ID = 'vulnvault-head@32473';
const MSGID = 'audit-head';

/** A header field: printable US-ASCII only (RFC 5424 §6), clipped; '-' when empty. */
function headerField(value: string, max: number): string {
  const v = value.replace(/[^\x21-\x7e]/g, '_').slice(0, max);
  return v === '' ? '-' : v;
}

/** An SD-PARAM value: '"', '\' and ']' escaped (RFC 5424 §6.3.3). */
function paramValue(value: string): string {
  return value.replace(/["\\\]]/g, (c) => `\\${c}`);
}

export interface SyslogOrigin {
  hostname: string;
  appName: string;
  procId: string;
}

export function syslogMessage(head: Checkpoint, origin: SyslogOrigin, now = new Date()): string {
  const sd = `[${SD_ID} log="${paramValue(head.log)}" seq="${head.seq}" hash="${paramValue(head.hash)}"]`;
  return [
    `<${PRI}>1`,
    now.toISOString(),
    headerField(origin.hostname, 255),
    headerField(origin.appName, 48),
    headerField(origin.procId, 128),
    MSGID,
    sd,
    JSON.stringify(head),
  ].join(' ');
}

/** RFC 5425 §4.3: MSG-LEN (octets) SP SYSLOG-MSG. */
export function octetFrame(message: string): string {
  return `${Buffer.byteLength(message, 'utf8')} ${message}`;
}
