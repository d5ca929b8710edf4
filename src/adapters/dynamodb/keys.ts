// Key values of the findings table. Every key is built here from fixed
// prefixes; input only ever appears inside a value, never in an expression.
//
//   pk "O#<org>"  sk "F#<seq,15>"      a finding (gsi1: "A#[org,asset]" / sk)
//                 sk "F#<seq,15>#T"    its triage: a person's analysis (gsi1 as the
//                                      finding; gsi2 "X#<shard>" / expiresAt while
//                                      a risk acceptance is in it)
//                 sk "H#<seq,15>#<pos,16>"  a history entry of the finding
//                 sk "#SLA"            the org's SLA policy
//                 sk "I#<sha256>"      identity claim of a scanned finding → seq
//                 sk "V#<vulnId>"      VulnID claim of a seed record → seq
//                 sk "#SEQ"            the org's sequence counter
//                 sk "#LOCK"           lease held by the org's running scan import
//                 sk "S#<scanId>"      scan record, written at commit
//   pk "M#<id>"   sk "M"               import marker: staging | committed | aborted

import { createHash, randomBytes } from 'node:crypto';

export const SEQ_WIDTH = 15;

export const orgPk = (org: string): string => `O#${org}`;
export const findingSk = (seq: number): string => `F#${String(seq).padStart(SEQ_WIDTH, '0')}`;
/** Upper bound of the finding range of a partition ("F#" + digits < "F$"). */
export const FINDING_SK_END = 'F$';
/** A finding's triage item: sorts right after its finding, so a page's Query reads both. */
export const triageSk = (seq: number): string => `${findingSk(seq)}#T`;
/** Position digits of a history entry (epoch ms · 1000 + a suffix: 16 digits). */
export const HISTORY_POS_WIDTH = 16;
export const historySk = (seq: number, pos: number): string =>
  `H#${String(seq).padStart(SEQ_WIDTH, '0')}#${String(pos).padStart(HISTORY_POS_WIDTH, '0')}`;
/** Upper bound of a finding's history range ("~" sorts after the digits). */
export const historyEnd = (seq: number): string => `H#${String(seq).padStart(SEQ_WIDTH, '0')}#~`;
export const SLA_SK = '#SLA';
/** gsi2 partitions of the risk-acceptance expiry index (writes spread over them). */
export const EXPIRY_SHARDS = 8;
export const expiryGsiPk = (shard: number): string => `X#${shard}`;
export const vulnIdSk = (vulnId: string): string => `V#${vulnId}`;
export const SEQ_SK = '#SEQ';
export const LOCK_SK = '#LOCK';
export const scanSk = (scanId: string): string => `S#${scanId}`;
export const markerKey = (id: string): { pk: string; sk: string } => ({ pk: `M#${id}`, sk: 'M' });
/** gsi1 partition of a finding: its org and asset (the asset filter, one index read). */
export const assetGsiPk = (org: string, asset: string): string =>
  `A#${JSON.stringify([org, asset])}`;

/** Identity of a scanned finding within its org (DESIGN.md §5), hashed to a bounded key. */
export function identitySk(f: {
  scanner: string;
  asset: string;
  category: string;
  pluginId: string;
  port: number;
  protocol: string;
  fingerprint: string;
}): string {
  // Category and fingerprint join the hashed tuple only when set, so the
  // claims of findings stored before they existed keep their keys.
  const base = [f.scanner, f.asset, f.pluginId, f.port, f.protocol];
  const id = JSON.stringify(
    f.category === '' && f.fingerprint === '' ? base : [...base, f.category, f.fingerprint],
  );
  return `I#${createHash('sha256').update(id).digest('base64url')}`;
}

/**
 * Finding ids shaped like a UUID: 48-bit time, random bits, and the finding's
 * seq in the last group, so getFinding needs one GetItem (the item's stored
 * id must still match exactly, so a made-up id finds nothing).
 */
export function newFindingId(seq: number): string {
  const t = Date.now().toString(16).padStart(12, '0').slice(-12);
  const r = randomBytes(4).toString('hex');
  return `${t.slice(0, 8)}-${t.slice(8)}-7${r.slice(0, 3)}-8${r.slice(3, 6)}-${seq.toString(16).padStart(12, '0')}`;
}

export function seqOfFindingId(id: string): number | undefined {
  const m = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-8[0-9a-f]{3}-([0-9a-f]{12})$/.exec(id);
  return m ? parseInt(m[1] as string, 16) : undefined;
}
