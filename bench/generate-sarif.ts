// Writes a synthetic SARIF 2.1.0 log shaped like CodeQL's: one run with the
// tool's rules (short descriptions, security-severity), the repository and a
// category, and RESULTS results over FILES files, each with a ruleId and
// ruleIndex, a multi-sentence message, a location with a region and snippet,
// and partialFingerprints. Deterministic.

import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

const WORDS =
  'user input flows into a database query without sanitization which allows an attacker to read or modify data the value comes from a remote source and reaches this sink'.split(
    ' ',
  );

function words(seed: number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += (i ? ' ' : '') + WORDS[(seed * 31 + i * 7) % WORDS.length];
  return s;
}

const RULES = 60;

export async function generateSarif(file: string, results: number, files: number): Promise<void> {
  const out = createWriteStream(file, { highWaterMark: 1024 * 1024 });
  const write = async (s: string) => {
    if (!out.write(s)) await once(out, 'drain');
  };
  const rules = Array.from({ length: RULES }, (_, i) => ({
    id: `py/rule-${i}`,
    name: `rule-${i}`,
    shortDescription: { text: `Rule ${i}: ${words(i, 4)}` },
    fullDescription: { text: words(i + 1, 30) },
    defaultConfiguration: { level: ['error', 'warning', 'note'][i % 3] },
    properties: {
      tags: ['security', `external/cwe/cwe-${80 + i}`],
      'security-severity': String(((i * 37) % 100) / 10),
    },
  }));
  await write(
    `{"$schema":"https://json.schemastore.org/sarif-2.1.0.json","version":"2.1.0","runs":[{` +
      `"tool":{"driver":{"name":"CodeQL","semanticVersion":"2.19.0","rules":${JSON.stringify(rules)}}},` +
      `"versionControlProvenance":[{"repositoryUri":"https://git.example/acme/bench","revisionId":"0123456789abcdef"}],` +
      `"automationDetails":{"id":"/language:python/"},"results":[\n`,
  );
  for (let n = 0; n < results; n++) {
    const rule = n % RULES;
    const f = n % files;
    const line = 10 + ((n * 13) % 900);
    const r = {
      ruleId: `py/rule-${rule}`,
      ruleIndex: rule,
      rule: { id: `py/rule-${rule}`, index: rule },
      message: {
        text: `This query depends on a [user-provided value](1). ${words(n, 24)} (result ${n}).`,
      },
      locations: [
        {
          physicalLocation: {
            artifactLocation: { uri: `src/pkg${f % 50}/module_${f}.py`, uriBaseId: '%SRCROOT%' },
            region: {
              startLine: line,
              startColumn: 5,
              endColumn: 48,
              snippet: { text: `    cursor.execute("SELECT * FROM t WHERE id = " + arg_${n})` },
            },
          },
        },
      ],
      partialFingerprints: {
        primaryLocationLineHash: `${((n * 2654435761) >>> 0).toString(16).padStart(8, '0')}a1b2c3d4:1`,
        primaryLocationStartColumnFingerprint: '4',
      },
    };
    await write(`${n ? ',\n' : ''}${JSON.stringify(r)}`);
  }
  await write('\n]}]}\n');
  out.end();
  await once(out, 'finish');
}
