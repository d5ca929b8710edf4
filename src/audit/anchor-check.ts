// What `audit verify` holds a log to besides its own chain (LO 1.5):
//  - every head anchored outside the data directory: the log must still hold
//    that record with that hash (so a cut back to an older checkpoint, with
//    the later checkpoints dropped, or an emptied log, is caught);
//  - its checkpoints: the server signs one at least every checkpointEvery
//    records (and when it opens a log), so more records than that after the
//    last checkpoint mean checkpoints were removed.

import type { Head } from './heads.js';

export interface AnchoredHead {
  head: Head;
  /** The file it came from, for the message. */
  source: string;
}

export function anchorError(
  records: number,
  hashes: ReadonlyMap<number, string>,
  anchored: readonly AnchoredHead[],
): string | undefined {
  let newest: AnchoredHead | undefined;
  for (const a of anchored) if (!newest || a.head.seq > newest.head.seq) newest = a;
  if (newest && newest.head.seq > records) {
    return `the log ends at seq ${records} but ${newest.source} anchors its head at seq ${newest.head.seq} (records were removed from the end)`;
  }
  const sorted = [...anchored].sort((a, b) => a.head.seq - b.head.seq);
  for (const a of sorted) {
    if (hashes.get(a.head.seq) !== a.head.hash) {
      return `seq ${a.head.seq} is not the record ${a.source} anchors (the log was rewritten)`;
    }
  }
  return undefined;
}

export function coverageError(
  records: number,
  checkpointSeqs: readonly number[],
  checkpointEvery: number,
): string | undefined {
  const last = checkpointSeqs.filter((s) => s <= records).reduce((a, b) => Math.max(a, b), 0);
  if (records - last <= checkpointEvery) return undefined;
  if (checkpointSeqs.length === 0) {
    return `${records} records and no checkpoint, but the server signs one at least every ${checkpointEvery} records (the checkpoints file is missing or was emptied)`;
  }
  return `${records - last} records follow the last checkpoint (seq ${last}), but the server signs one at least every ${checkpointEvery} records (later checkpoints were removed)`;
}
