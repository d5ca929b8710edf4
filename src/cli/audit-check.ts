// The checks behind `audit verify` and `audit anchor`: every audit log's
// hash chain and signed checkpoints, that no checkpoints were removed, and
// that each log still extends every head anchored for it, in the configured
// anchor directory and in the files given with --anchor.

import { existsSync } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import { basename } from 'node:path';
import { anchorDirHeads, type HeadSource } from '../audit/anchor-dir.js';
import { anchorError, coverageError, type AnchoredHead } from '../audit/anchor-check.js';
import { checkpointFileOf } from '../audit/audit-file.js';
import { ACCESS_LOG } from '../audit/audit-trail.js';
import { verifyChain } from '../audit/chain.js';
import { parseCheckpoints } from '../audit/checkpoint.js';
import { headSignatureValid, readHeadFile, type Head } from '../audit/heads.js';
import { readLogLines, readSmallLogLines } from '../audit/log-lines.js';
import { loadVerifyKey } from '../audit/signing-key.js';
import { anchorDirOf, resolvePath, type Config } from '../config/config.js';
import { loadAdminPublicKey } from '../crypto/admin-key.js';
import { KEY_ADMIN_LOG, keyAdminLogFile } from '../crypto/key-admin-log.js';
import { CliError } from './cli-error.js';

interface AuditLog {
  name: string;
  file: string;
  key: () => KeyObject;
}

export interface CheckOptions {
  /** Verify key other than the config's (a copy kept off the host). */
  key?: string | undefined;
  /** Exported head files (`audit anchor --out`) or copies of anchor.jsonl. */
  anchors: string[];
}

export interface CheckReport {
  /** One line per log and per anchor source: "OK …", "FAIL …", "NOTE …". */
  lines: string[];
  failed: boolean;
  /** Each intact log's current head (its last record). */
  heads: Head[];
}

function logsOf(config: Config, publicKey: KeyObject, anchoredNames: Set<string>): AuditLog[] {
  const logs: AuditLog[] = [
    ['authz', config.audit.authorizationLog],
    ['data-access', config.audit.dataAccessLog],
    [ACCESS_LOG, config.audit.accessLog],
  ].map(([name, file]) => ({
    name: name!,
    file: resolvePath(config, file!),
    key: () => publicKey,
  }));
  const keyLog = keyAdminLogFile(config);
  if (existsSync(keyLog) || anchoredNames.has(KEY_ADMIN_LOG)) {
    let adminKey: KeyObject | undefined;
    logs.push({
      name: KEY_ADMIN_LOG,
      file: keyLog,
      key: () => (adminKey ??= loadAdminPublicKey(resolvePath(config, config.keys.adminPublicKey))),
    });
  }
  return logs;
}

function anchorSources(config: Config, files: string[], lines: string[]): HeadSource[] {
  const dir = anchorDirOf(config);
  const sources = anchorDirHeads(dir, true);
  if (sources.length === 0) {
    lines.push(
      `NOTE no audit anchor in ${dir}: without one, a log cut back to an earlier checkpoint cannot be told apart (keep an 'audit anchor' export off the host)`,
    );
  }
  for (const file of files) {
    const read = readHeadFile(file);
    if (!read) throw new CliError(`audit: no anchor file ${file}`, 2);
    sources.push({ file, lines: read });
  }
  return sources;
}

export async function checkAuditLogs(config: Config, o: CheckOptions): Promise<CheckReport> {
  const report: CheckReport = { lines: [], failed: false, heads: [] };
  const fail = (line: string) => {
    report.failed = true;
    report.lines.push(`FAIL ${line}`);
  };
  // --key lets an auditor verify with a copy of the public key kept off-host.
  const publicKey = loadVerifyKey(o.key ?? resolvePath(config, config.audit.verifyKey));
  // Anchors are read before the logs: a running server only adds to a log
  // after its heads were sent, so a live log always extends them.
  const sources = anchorSources(config, o.anchors, report.lines);
  const names = new Set(sources.flatMap((s) => s.lines.heads.map((h) => h.head.log)));
  const logs = logsOf(config, publicKey, names);
  const anchored = new Map<string, AnchoredHead[]>();
  for (const s of sources) {
    const label = basename(s.file);
    if (s.lines.unreadable.length > 0) {
      // A crash can tear the last append of anchor.jsonl; it then reads as
      // one bad line followed by good ones. Said, not hidden.
      report.lines.push(
        `NOTE ${label}: line(s) ${s.lines.unreadable.join(', ')} are not heads and were skipped`,
      );
    }
    for (const { head, line } of s.lines.heads) {
      const log = logs.find((l) => l.name === head.log);
      if (!log) {
        fail(
          `${label} line ${line}: anchors a log named '${head.log}', which ${config.dir} does not have`,
        );
        continue;
      }
      if (!headSignatureValid(head, log.key())) {
        fail(
          `${label} line ${line}: the head of ${head.log} (seq ${head.seq}) has an invalid signature`,
        );
        continue;
      }
      const list = anchored.get(head.log) ?? [];
      list.push({ head, source: label });
      anchored.set(head.log, list);
    }
  }

  for (const log of logs) {
    const heads = anchored.get(log.name) ?? [];
    const cpFile = checkpointFileOf(log.file);
    const result = await verifyChain(
      log.name,
      readLogLines(log.file),
      readSmallLogLines(cpFile),
      log.key(),
      new Set(heads.map((h) => h.head.seq)),
    );
    const label = basename(log.file);
    if (!result.ok) {
      fail(`${label}: ${result.error}`);
      continue;
    }
    const anchorProblem = anchorError(result.records, result.hashes, heads);
    if (anchorProblem) {
      fail(`${label}: ${anchorProblem}`);
      continue;
    }
    // Read again after the log: checkpoints signed meanwhile count too.
    const cps = parseCheckpoints(readSmallLogLines(cpFile), log.name, log.key());
    const seqs = typeof cps === 'string' ? [] : cps.map((c) => c.seq);
    const gap = coverageError(result.records, seqs, config.audit.checkpointEvery);
    if (gap) {
      fail(`${label}: ${gap}`);
      continue;
    }
    const sealed = result.sealed > 0 ? `, ${result.sealed} torn record(s) sealed` : '';
    const newest = heads.reduce((m, h) => Math.max(m, h.head.seq), 0);
    const anchors = heads.length > 0 ? `, extends its anchored head (seq ${newest})` : '';
    report.lines.push(
      `OK ${label}: ${result.records} records, ${result.checkpoints} checkpoints (last at seq ${result.lastCheckpointSeq})${sealed}${anchors}`,
    );
    if (result.records > 0) {
      report.heads.push({
        log: log.name,
        seq: result.records,
        hash: result.lastHash,
        time: new Date().toISOString(),
      });
    }
  }
  return report;
}
