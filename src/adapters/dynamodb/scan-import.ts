// ScanImport on DynamoDB. An upload can hold 100,000 findings, far beyond one
// transaction, so it is staged and committed through a marker:
//
//   begin   lease #LOCK of the org (one import per org at a time, like
//           SQLite's write lock), marker M#<import> = staging
//   stage   new finding      → item + identity claim, both pend = <import>
//           known finding    → item rewritten as {current version, stg: next}
//   commit  one transaction: lock still ours, marker → committed, scan record
//   abort   marker → aborted, lease released, new items deleted (best effort)
//
// Readers show `pend` items and `stg` versions only once the marker says
// committed, so the whole scan appears at once or not at all; a crash before
// commit leaves only items readers ignore. Per finding, classify
// (functions/ingest/classify.ts, as on SQLite) says what it is:
//
//   new                  → item + claim (status open)
//   reopened             → next version with status reopened
//   unchanged / updated  → next version (lastSeen moved); told apart by
//                          sameContent on the prior version and the upload's
//   merged               → united into the staged version (CVEs united);
//                          its count re-decided against the item's top level,
//                          which is still the content before the upload
//
// commit() marks fixed every finding becomesFixed names: open, of a covered
// asset, not touched by this upload.
//
// Issue 16 bookkeeping, as on SQLite: a new finding gets firstScanId, its
// SLA clock (slaSince = now) and dueAt from the org's policy (item "#SLA",
// else meta.sla, else DEFAULT_SLA); a reopened one restarts the clock; dueAt
// follows the severity; rev + 1 on every change but unchanged; fixed and
// reopened add a history item ("H#…", pend = the import, so it appears with
// the commit). A person's analysis is a triage item of its own, which
// imports never write; suppression is computed at read from both. No content hash is stored or read (items
// written before may carry `contentHash`: it is ignored, and dropped when the
// item is rewritten).

import { randomUUID } from 'node:crypto';
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { VaultError } from '../../core/errors.js';
import type { CoveredAsset, FindingStatus, ScannedFinding } from '../../core/finding.js';
import type { ScanImport, ScanMeta } from '../../core/ports.js';
import { DEFAULT_SLA, dueAtOf, type SlaPolicy } from '../../core/triage.js';
import {
  becomesFixed,
  classify,
  mergedEvidence,
  recounts,
  sameContent,
  ScanTally,
  seenAs,
  unitedCves,
  type Counted,
  type FindingContent,
} from '../../functions/ingest/classify.js';
import { batchGet, batchWrite, isConditionFailure, storeError, type Item } from './client.js';
import { contentOf, currentVersion, isTriageItem, settled } from './finding-item.js';
import {
  assetGsiPk,
  FINDING_SK_END,
  findingSk,
  historySk,
  identitySk,
  LOCK_SK,
  markerKey,
  newFindingId,
  orgPk,
  scanSk,
  SLA_SK,
} from './keys.js';
import { markerView } from './markers.js';
import { reserveSeqs } from './sequence.js';

/** Lease of an org's import lock: a Lambda runs 15 minutes at most; renewed by every stage. */
const LEASE_MS = 15 * 60_000;
/** How long begin waits for another import of the same org to finish. */
const LOCK_WAIT_MS = 60_000;

/** An identity this upload has staged: its item, and what it counts as. */
interface Staged {
  seq: number;
  counted: Counted;
}

/** A covered target: scanner, asset and category (JSON: no two run together). */
const coveredKey = (a: CoveredAsset): string => JSON.stringify([a.scanner, a.asset, a.category]);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The fields an upload sets on a finding: its content (classify's FindingContent). */
function content(f: ScannedFinding, cves: string[]): Item & FindingContent {
  return {
    title: f.title,
    severity: f.severity,
    severityRaw: f.severityRaw,
    cvss3Score: f.cvss3Score,
    cvss3Vector: f.cvss3Vector,
    cvss2Score: f.cvss2Score,
    cvss2Vector: f.cvss2Vector,
    cves,
    description: f.description,
    solution: f.solution,
    evidence: f.evidence,
    service: f.service,
    location: f.location,
    analysis: f.analysis,
  };
}

const lockKey = (org: string) => ({ pk: orgPk(org), sk: LOCK_SK });

/**
 * Takes the org's import lease (#LOCK) for `owner`, waiting up to
 * LOCK_WAIT_MS for another holder: scan imports, and the SLA store while it
 * rewrites the org's due times.
 */
export async function acquireOrgLock(
  doc: DynamoDBDocumentClient,
  table: string,
  org: string,
  owner: string,
): Promise<void> {
  const started = Date.now();
  for (let attempt = 0; ; attempt++) {
    const now = Date.now();
    try {
      await doc.send(
        new PutCommand({
          TableName: table,
          Item: { ...lockKey(org), owner, until: now + LEASE_MS },
          ConditionExpression: 'attribute_not_exists(#pk) OR #until < :now',
          ExpressionAttributeNames: { '#pk': 'pk', '#until': 'until' },
          ExpressionAttributeValues: { ':now': now },
        }),
      );
      return;
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
    if (Date.now() - started > LOCK_WAIT_MS) {
      throw new VaultError(
        'store_unavailable',
        'another scan import for this org is still running; retry later',
      );
    }
    await sleep(Math.min(50 * 2 ** attempt, 2000));
  }
}

/** Gives the lease back if `owner` still holds it (best effort: it expires anyway). */
export function releaseOrgLock(
  doc: DynamoDBDocumentClient,
  table: string,
  org: string,
  owner: string,
): Promise<unknown> {
  return doc
    .send(
      new DeleteCommand({
        TableName: table,
        Key: lockKey(org),
        ConditionExpression: '#owner = :me',
        ExpressionAttributeNames: { '#owner': 'owner' },
        ExpressionAttributeValues: { ':me': owner },
      }),
    )
    .catch(() => undefined);
}

/** The org's stored SLA policy, or undefined. */
export async function storedSla(
  doc: DynamoDBDocumentClient,
  table: string,
  org: string,
): Promise<SlaPolicy | undefined> {
  const r = await doc.send(
    new GetCommand({ TableName: table, Key: { pk: orgPk(org), sk: SLA_SK }, ConsistentRead: true }),
  );
  return r.Item?.policy as SlaPolicy | undefined;
}

/** A history item of an import's status change, visible with the import's commit. */
function statusHistory(
  org: string,
  seq: number,
  imp: string,
  e: { at: string; from: string; to: string; scanId: string },
): Item {
  // Position: the write time (epoch ms · 1000); suffix 0 is the imports'
  // (triage writes use 1–999), and an org has one import at a time.
  const pos = Date.now() * 1000;
  return {
    pk: orgPk(org),
    sk: historySk(seq, pos),
    seq,
    pos,
    kind: 'status',
    at: e.at,
    from: e.from,
    to: e.to,
    by: null,
    scanId: e.scanId,
    analysis: null,
    pend: imp,
  };
}

export function createDynamoScanImporter(
  doc: DynamoDBDocumentClient,
  table: string,
): (meta: ScanMeta) => Promise<ScanImport> {
  const acquire = (org: string, owner: string) => acquireOrgLock(doc, table, org, owner);

  return async (meta) => {
    const imp = randomUUID();
    const org = meta.org;
    const now = new Date().toISOString();
    let sla: SlaPolicy = meta.sla ?? DEFAULT_SLA;
    try {
      await acquire(org, imp);
      sla = (await storedSla(doc, table, org)) ?? sla;
      await doc.send(
        new PutCommand({ TableName: table, Item: { ...markerKey(imp), state: 'staging' } }),
      );
    } catch (err) {
      throw storeError(err);
    }
    // History items this import wrote (deleted again by abort, best effort).
    const histories: { pk: string; sk: string }[] = [];
    const staged = new Map<string, Staged>();
    const covered = new Map<string, CoveredAsset>();
    const tally = new ScanTally();
    let open = true;

    const renew = () =>
      doc.send(
        new UpdateCommand({
          TableName: table,
          Key: lockKey(org),
          UpdateExpression: 'SET #until = :until',
          ConditionExpression: '#owner = :me',
          ExpressionAttributeNames: { '#until': 'until', '#owner': 'owner' },
          ExpressionAttributeValues: { ':until': Date.now() + LEASE_MS, ':me': imp },
        }),
      );

    const release = () => releaseOrgLock(doc, table, org, imp);

    async function stage(findings: readonly ScannedFinding[], assets: readonly CoveredAsset[]) {
      await renew();
      for (const a of assets) covered.set(coveredKey(a), a);
      // Same identity twice in this batch: one merged finding (CVEs united,
      // every report's evidence kept).
      const merged = new Map<string, { f: ScannedFinding; cves: string[] }>();
      for (const f of findings) {
        const k = identitySk(f);
        const m = merged.get(k);
        if (m) {
          const evidence = mergedEvidence(m.f.evidence, f.evidence);
          merged.set(k, { f: { ...f, evidence }, cves: unitedCves(m.cves, f.cves) });
        } else merged.set(k, { f, cves: [...f.cves] });
      }
      const pk = orgPk(org);
      const markers = markerView(doc, table);
      const unknown = [...merged.keys()].filter((k) => !staged.has(k));
      const claims = await batchGet(
        doc,
        table,
        unknown.map((sk) => ({ pk, sk })),
      );
      await markers.load(claims);
      const priorSeq = new Map<string, number>();
      for (const c of claims) {
        // A claim left by an import that never committed names nothing.
        if (typeof c.pend === 'string' && !markers.committed(c.pend)) continue;
        priorSeq.set(c.sk as string, c.seq as number);
      }
      const wanted = [...merged.keys()]
        .map((k) => staged.get(k)?.seq ?? priorSeq.get(k))
        .filter((s): s is number => s !== undefined);
      const items = new Map<number, Item>();
      const got = await batchGet(
        doc,
        table,
        wanted.map((s) => ({ pk, sk: findingSk(s) })),
      );
      await markers.load(got);
      for (const it of got) items.set(it.seq as number, it);

      const fresh = [...merged.keys()].filter((k) => !staged.has(k) && !priorSeq.has(k)).length;
      let nextSeq = fresh > 0 ? await reserveSeqs(doc, table, org, fresh) : 0;
      const puts: Item[] = [];
      for (const [k, { f, cves }] of merged) {
        const mine = staged.get(k);
        const seq = mine?.seq ?? priorSeq.get(k);
        const raw = seq === undefined ? undefined : items.get(seq);
        // Staged by this upload: the item as staged; else its committed version.
        const prior = raw && (mine ? raw : currentVersion(raw, markers.committed));
        const sighting = classify(
          prior ? (prior.status as FindingStatus) : null,
          mine?.counted ?? null,
        );
        if (sighting === 'merged') {
          if (!mine || !raw) throw new Error('staged finding vanished during its import');
          // Seen earlier in this upload: unite CVEs with the staged version.
          const staging = mine.counted === 'new';
          const version = staging ? raw : { ...raw, ...(raw.stg as Item) };
          const c = content(
            { ...f, evidence: mergedEvidence(version.evidence as string, f.evidence) },
            unitedCves((version.cves as string[] | undefined) ?? [], cves),
          );
          // The top level of a staged known finding is its content before the upload.
          mine.counted = tally.merge(
            mine.counted,
            recounts(mine.counted) && sameContent(contentOf(raw), c),
          );
          if (staging) {
            puts.push({
              ...raw,
              ...c,
              dueAt: dueAtOf(sla, f.severity, raw.slaSince as string),
            });
          } else {
            const stg = raw.stg as Item;
            puts.push({
              ...raw,
              stg: {
                ...stg,
                ...c,
                rev:
                  ((raw.rev as number | undefined) ?? 1) + (mine.counted === 'unchanged' ? 0 : 1),
                dueAt:
                  mine.counted === 'unchanged' && raw.dueAt !== undefined
                    ? (raw.dueAt as string | null)
                    : dueAtOf(sla, f.severity, stg.slaSince as string),
              },
            });
          }
          continue;
        }
        if (sighting === 'new' || !prior) {
          const s = nextSeq++;
          const c = content(f, cves);
          const sk = findingSk(s);
          puts.push({ pk, sk: k, seq: s, pend: imp });
          puts.push({
            pk,
            sk,
            gsi1pk: assetGsiPk(org, f.asset),
            gsi1sk: sk,
            seq: s,
            id: newFindingId(s),
            org,
            asset: f.asset,
            scanner: f.scanner,
            category: f.category,
            pluginId: f.pluginId,
            port: f.port,
            protocol: f.protocol,
            fingerprint: f.fingerprint,
            ...c,
            status: 'open',
            firstSeen: now,
            lastSeen: now,
            fixedAt: null,
            dueDate: null,
            priority: null,
            lastScanId: meta.scanId,
            firstScanId: meta.scanId,
            slaSince: now,
            dueAt: dueAtOf(sla, f.severity, now),
            rev: 1,
            pend: imp,
          });
          staged.set(k, { seq: s, counted: 'new' });
          tally.count('new');
          continue;
        }
        const c = content(f, cves);
        const counted =
          sighting === 'reopened' ? 'reopened' : seenAs(sameContent(contentOf(prior), c));
        tally.count(counted);
        // Reopened: the SLA clock starts again; else dueAt follows the severity.
        const since =
          counted === 'reopened'
            ? now
            : ((prior.slaSince as string | undefined) ?? (prior.firstSeen as string));
        // The current version becomes the top level (settling an earlier
        // import's committed stg); this upload's version waits in stg.
        puts.push({
          ...settled(prior),
          stg: {
            imp,
            ...c,
            status: counted === 'reopened' ? 'reopened' : (prior.status as string),
            fixedAt: null,
            lastSeen: now,
            lastScanId: meta.scanId,
            rev: ((prior.rev as number | undefined) ?? 1) + (counted === 'unchanged' ? 0 : 1),
            slaSince: since,
            dueAt:
              counted === 'unchanged' && prior.dueAt !== undefined
                ? (prior.dueAt as string | null)
                : dueAtOf(sla, f.severity, since),
          },
        });
        if (counted === 'reopened') {
          const h = statusHistory(org, prior.seq as number, imp, {
            at: now,
            from: prior.status as string,
            to: 'reopened',
            scanId: meta.scanId,
          });
          histories.push({ pk: h.pk as string, sk: h.sk as string });
          puts.push(h);
        }
        staged.set(k, { seq: prior.seq as number, counted });
      }
      await batchWrite(
        doc,
        table,
        puts.map((Item) => ({ PutRequest: { Item } })),
      );
    }

    /** Stages "fixed" for open findings of covered assets this upload did not report. */
    async function markFixed(): Promise<number> {
      if (covered.size === 0) return 0;
      const markers = markerView(doc, table);
      const fixedAt = new Date().toISOString();
      let fixed = 0;
      let start: Record<string, unknown> | undefined;
      do {
        const r = await doc.send(
          new QueryCommand({
            TableName: table,
            ConsistentRead: true,
            KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :from AND :to',
            ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk' },
            ExpressionAttributeValues: {
              ':pk': orgPk(org),
              ':from': findingSk(1),
              ':to': FINDING_SK_END,
            },
            ExclusiveStartKey: start,
          }),
        );
        const page = r.Items ?? [];
        await markers.load(page);
        const puts: Item[] = [];
        const history: Item[] = [];
        for (const it of page) {
          if (isTriageItem(it)) continue; // a person's analysis: never an import's
          const cur = currentVersion(it, markers.committed);
          if (!cur) continue; // an uncommitted new finding: nobody's yet
          const fixes = becomesFixed({
            status: cur.status as string,
            covered: covered.has(
              coveredKey({
                scanner: cur.scanner as string,
                asset: cur.asset as string,
                category: (cur.category as string | undefined) ?? '',
              }),
            ),
            touched: it.pend === imp || (it.stg as Item | undefined)?.imp === imp,
            seed: cur.vulnId !== undefined,
          });
          if (!fixes) continue;
          puts.push({
            ...settled(cur),
            stg: {
              imp,
              status: 'fixed',
              fixedAt,
              lastScanId: meta.scanId,
              rev: ((cur.rev as number | undefined) ?? 1) + 1,
            },
          });
          const h = statusHistory(org, cur.seq as number, imp, {
            at: fixedAt,
            from: cur.status as string,
            to: 'fixed',
            scanId: meta.scanId,
          });
          histories.push({ pk: h.pk as string, sk: h.sk as string });
          history.push(h);
        }
        await batchWrite(
          doc,
          table,
          history.map((Item) => ({ PutRequest: { Item } })),
        );
        await batchWrite(
          doc,
          table,
          puts.map((Item) => ({ PutRequest: { Item } })),
        );
        fixed += puts.length;
        start = r.LastEvaluatedKey;
      } while (start);
      return fixed;
    }

    async function abort() {
      if (!open) return;
      open = false;
      await doc
        .send(
          new UpdateCommand({
            TableName: table,
            Key: markerKey(imp),
            UpdateExpression: 'SET #state = :aborted',
            ConditionExpression: '#state = :staging',
            ExpressionAttributeNames: { '#state': 'state' },
            ExpressionAttributeValues: { ':aborted': 'aborted', ':staging': 'staging' },
          }),
        )
        .catch(() => undefined);
      await release();
      // Best effort: anything left is invisible, and claims naming an aborted
      // import are ignored and overwritten by the next one.
      const pk = orgPk(org);
      const dels = [...staged]
        .filter(([, s]) => s.counted === 'new')
        .flatMap(([sk, s]) => [
          { pk, sk },
          { pk, sk: findingSk(s.seq) },
        ])
        .concat(histories);
      await batchWrite(
        doc,
        table,
        dels.map((Key) => ({ DeleteRequest: { Key } })),
      ).catch(() => undefined);
    }

    return {
      async stage(findings, assets) {
        if (!open) throw new Error('scan import already finished');
        try {
          await stage(findings, assets);
        } catch (err) {
          throw storeError(err);
        }
      },
      async commit(received) {
        if (!open) throw new Error('scan import already finished');
        try {
          tally.fixed(await markFixed());
          const counts = tally.result();
          await doc.send(
            new TransactWriteCommand({
              TransactItems: [
                {
                  ConditionCheck: {
                    TableName: table,
                    Key: lockKey(org),
                    ConditionExpression: '#owner = :me AND #until > :now',
                    ExpressionAttributeNames: { '#owner': 'owner', '#until': 'until' },
                    ExpressionAttributeValues: { ':me': imp, ':now': Date.now() },
                  },
                },
                {
                  Update: {
                    TableName: table,
                    Key: markerKey(imp),
                    UpdateExpression: 'SET #state = :committed',
                    ConditionExpression: '#state = :staging',
                    ExpressionAttributeNames: { '#state': 'state' },
                    ExpressionAttributeValues: { ':committed': 'committed', ':staging': 'staging' },
                  },
                },
                {
                  Put: {
                    TableName: table,
                    Item: {
                      pk: orgPk(org),
                      sk: scanSk(meta.scanId),
                      scanId: meta.scanId,
                      format: meta.format,
                      principal: meta.principal,
                      startedAt: meta.startedAt,
                      finishedAt: new Date().toISOString(),
                      received,
                      ...counts,
                    },
                  },
                },
              ],
            }),
          );
          open = false;
          await release();
          return { ...counts };
        } catch (err) {
          await abort().catch(() => undefined);
          throw storeError(err);
        }
      },
      async abort() {
        try {
          await abort();
        } catch (err) {
          throw storeError(err);
        }
      },
    };
  };
}
