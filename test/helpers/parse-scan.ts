// Parsing a scan file the way ingest does (chunk by chunk, into a sink), and
// the measures the format tests assert: identities, per-severity counts.

import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { ScannedFinding } from '../../src/core/finding.js';
import type { ParseOptions, ParserFactory } from '../../src/formats/format.js';

/** Findings and declared targets ("scanner|target|category") of a parse, cut at `cuts`. */
export async function parse(
  factory: ParserFactory,
  bytes: Uint8Array,
  options: ParseOptions = {},
  cuts: number[] = [],
) {
  const findings: ScannedFinding[] = [];
  const assets: string[] = [];
  const p = factory(
    {
      finding: (f) => void findings.push(f),
      asset: (s, a, c) => assets.push(`${s}|${a}|${c ?? ''}`),
    },
    options,
  );
  let at = 0;
  for (const cut of [...new Set(cuts)].sort((a, b) => a - b)) {
    await p.write(bytes.subarray(at, cut));
    at = cut;
  }
  await p.write(bytes.subarray(at));
  await p.end();
  return { findings, assets };
}

/** The error a parse throws (fails the test if there is none). */
export async function refusal(
  factory: ParserFactory,
  bytes: Uint8Array | string,
  options: ParseOptions = {},
) {
  try {
    await parse(factory, typeof bytes === 'string' ? Buffer.from(bytes) : bytes, options);
  } catch (err) {
    return err as { code: string; message: string };
  }
  assert.fail('the report was accepted');
}

/** The store's identity of a finding. */
export const identity = (f: ScannedFinding) =>
  JSON.stringify([f.asset, f.scanner, f.category, f.pluginId, f.port, f.protocol, f.fingerprint]);

/** Per-severity counts over distinct identities, the last finding of an identity winning. */
export function bySeverity(findings: ScannedFinding[]) {
  const last = new Map(findings.map((f) => [identity(f), f.severity]));
  const out: Record<string, number> = {};
  for (const s of last.values()) out[s] = (out[s] ?? 0) + 1;
  return out;
}

export const cutsFor = (len: number) =>
  fc.array(fc.integer({ min: 1, max: len - 1 }), { maxLength: 12 });
