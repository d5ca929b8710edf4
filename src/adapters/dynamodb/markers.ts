// Import markers: the commit point of a batch larger than one transaction.
// Staged items name their import (`pend` on a new item or claim, `stg.imp` on
// a staged new version); readers show them only once that import's marker
// says committed. A marker is written once as staging and changes once, to
// committed or aborted, so final states are cached for the process's life.

import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { batchGet, type Item } from './client.js';
import { markerKey } from './keys.js';

export type MarkerState = 'staging' | 'committed' | 'aborted';

const FINAL = new Map<string, MarkerState>();
const FINAL_CAP = 50_000;

export interface MarkerView {
  /** Looks up (consistently) every marker named by these items that is not known final. */
  load(items: readonly Item[]): Promise<void>;
  committed: (id: string) => boolean;
  /** The loaded state (a marker that does not exist: aborted). */
  state: (id: string) => MarkerState | undefined;
}

/** Marker ids an item depends on. */
function markerIds(it: Item): string[] {
  const ids: string[] = [];
  if (typeof it.pend === 'string') ids.push(it.pend);
  const stg = it.stg as Item | undefined;
  if (stg && typeof stg.imp === 'string') ids.push(stg.imp);
  return ids;
}

export function markerView(doc: DynamoDBDocumentClient, table: string): MarkerView {
  const local = new Map<string, MarkerState>();
  const state = (id: string) => FINAL.get(id) ?? local.get(id);
  return {
    async load(items) {
      const missing = new Set<string>();
      for (const it of items) for (const id of markerIds(it)) if (!state(id)) missing.add(id);
      if (missing.size === 0) return;
      const found = await batchGet(doc, table, [...missing].map(markerKey));
      for (const m of found) {
        const id = (m.pk as string).slice(2);
        const s = m.state as MarkerState;
        if (s === 'staging') local.set(id, s);
        else {
          if (FINAL.size >= FINAL_CAP) FINAL.clear();
          FINAL.set(id, s);
        }
      }
      // A marker that does not exist (never written, or an import that died
      // before writing it) commits nothing.
      for (const id of missing) if (!state(id)) local.set(id, 'aborted');
    },
    committed: (id) => state(id) === 'committed',
    state,
  };
}
