// The priority score (core/triage.ts priorityScore) in SQL, for re-ranking
// stored findings when a feed changes: KEV · 10^10 + round(max EPSS · 10^5) ·
// 10^4 + round(CVSS · 10) · 10 + severity rank. Imports compute the same
// value in TypeScript (scan-import.ts); a unit test holds the two equal.

export const PRIORITY_SQL = `(
  CASE WHEN EXISTS (SELECT 1 FROM json_each(findings.cves) c JOIN feed_kev k ON k.cve = c.value)
       THEN 10000000000 ELSE 0 END
  + CAST(round(min(max(coalesce((SELECT max(e.epss) FROM json_each(findings.cves) c
                                   JOIN feed_epss e ON e.cve = c.value), 0), 0), 1) * 100000)
         AS INTEGER) * 10000
  + CAST(round(min(max(coalesce(findings.cvss3_score, findings.cvss2_score, 0), 0), 10) * 10)
         AS INTEGER) * 10
  + CASE findings.severity WHEN 'low' THEN 1 WHEN 'medium' THEN 2 WHEN 'high' THEN 3
                           WHEN 'critical' THEN 4 ELSE 0 END)`;

/** Re-ranks every finding with a CVE (their score may have moved with the feeds). */
export const RERANK_SQL = `UPDATE findings SET prio = ${PRIORITY_SQL} WHERE cves <> '[]'`;
