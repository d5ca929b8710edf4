// SARIF 2.1.0 (CodeQL, Semgrep, Gitleaks and any other writer) streamed result
// by result, in whatever key order the writer chose.
//
// Per run: scanner = tool.driver.name; target = versionControlProvenance[0]
// .repositoryUri (no credentials, no trailing "/" or ".git"), else the
// upload's target; category = automationDetails.id without the run id after
// its last "/" (GitHub code scanning's rule). Every run with a tool declares
// (scanner, target, category), results or not, unless an invocation says the
// tool failed (then nothing it did not report can be called fixed).
//
// Identity: pluginId = rule id, port 0, protocol "sarif", fingerprint = a hash
// of the rule, the artifact path, and the writer's `fingerprints`, else its
// `partialFingerprints` (primaryLocation* keys when there are any), else the
// region's snippet or the message with every number masked, plus an
// occurrence counter for look-alikes in one file. Line numbers never enter
// it, so a shift of the code keeps every identity; `location` (uri:line) is
// data. The title comes from the rule (shortDescription, name, id), never
// from a result's message, which may quote secrets.
//
// Severity: `security-severity` of the result or its rule (a CVSS-scale score,
// or a word as Semgrep writes it), else the result's level, else the rule's
// defaultConfiguration.level, else warning; error→high, warning→medium,
// note→low, none→info.
//
// The target, category and rules may come after the results (Semgrep writes
// keys alphabetically; CodeQL writes versionControlProvenance, when at all,
// after them). Results that arrive before all of tool, versionControlProvenance
// and automationDetails are known are held in an encrypted spill (spill.ts)
// and replayed at the document's end; the others go out at once.

import { VaultError } from '../core/errors.js';
import { clipText, FIELD_LIMITS } from '../core/finding.js';
import { targetOrMissing, type FormatParser, type ParseOptions, type ScanSink } from './format.js';
import { isObject, jsonStreamParser, str, type JsonValue } from './json-stream.js';
import { addRule, toFinding, type Rule, type RunRules } from './sarif-result.js';
import { createSpill, type Spill, type SpillOptions } from './spill.js';

export { NO_RULE } from './sarif-result.js';

type Obj = { [k: string]: JsonValue };

interface Run extends RunRules {
  scanner: string | undefined;
  toolSeen: boolean;
  vcpSeen: boolean;
  repositoryUri: string;
  automationSeen: boolean;
  automationId: string;
  failed: boolean;
  resolved: { scanner: string; target: string; category: string } | undefined;
}

export interface SarifTuning {
  spill?: SpillOptions;
}

export function sarifParser(sink: ScanSink, options: ParseOptions = {}): FormatParser {
  return sarifParserWith(sink, options, {});
}

/** sarifParser with the spill's settings open to tests. */
export function sarifParserWith(
  sink: ScanSink,
  options: ParseOptions,
  tuning: SarifTuning,
): FormatParser {
  const runs = new Map<number, Run>();
  let version: string | undefined;
  let spill: Spill | undefined;
  let done = false;

  const invalid = (what: string): never => {
    throw new VaultError('sarif_invalid', `SARIF: ${what}; nothing was stored`);
  };

  const runOf = (r: string | number | undefined): Run => {
    if (typeof r !== 'number') invalid('runs must be an array');
    const i = r as number;
    let run = runs.get(i);
    if (run === undefined) {
      run = {
        index: i,
        scanner: undefined,
        toolSeen: false,
        driverRules: new Map(),
        extensionRules: new Map(),
        rulesById: new Map(),
        vcpSeen: false,
        repositoryUri: '',
        automationSeen: false,
        automationId: '',
        failed: false,
        occurrences: new Map(),
        resolved: undefined,
      };
      runs.set(i, run);
    }
    return run;
  };

  const resolve = (run: Run) => {
    if (run.resolved) return run.resolved;
    if (run.scanner === undefined) invalid(`run ${run.index} has no tool.driver.name`);
    const target = run.repositoryUri || targetOrMissing('SARIF', options);
    run.resolved = {
      scanner: run.scanner as string,
      target,
      category: categoryOf(run.automationId),
    };
    return run.resolved;
  };

  /** The sink's answer: a promise when its batch is full (awaited when replaying). */
  const emit = (run: Run, i: number, r: Obj): void | Promise<void> => {
    const f = toFinding(run, resolve(run), i, r, invalid);
    if (f !== undefined) return sink.finding(f);
  };

  const onValue = (path: readonly (string | number)[], value: JsonValue) => {
    if (path.length === 1) {
      version = str(value);
      return;
    }
    const run = runOf(path[1]);
    switch (path[2]) {
      case 'tool':
        run.toolSeen = true;
        if (path[3] === 'driver' && path[4] === 'name') {
          const name = str(value).trim();
          if (name === '') invalid(`run ${run.index} has an empty tool.driver.name`);
          run.scanner = clipText(name, FIELD_LIMITS.scanner);
        } else if (path[3] === 'driver') {
          addRule(run, run.driverRules, path[5], value);
        } else if (typeof path[4] === 'number') {
          let rules = run.extensionRules.get(path[4]);
          if (rules === undefined) {
            rules = new Map<number, Rule>();
            run.extensionRules.set(path[4], rules);
          }
          addRule(run, rules, path[6], value);
        }
        return;
      case 'versionControlProvenance':
        run.vcpSeen = true;
        if (path[3] === 0 && isObject(value))
          run.repositoryUri = repositoryTarget(value.repositoryUri);
        return;
      case 'automationDetails':
        run.automationSeen = true;
        if (isObject(value)) run.automationId = str(value.id);
        return;
      case 'invocations':
        if (value === false) run.failed = true;
        return;
      default: {
        const i = path[3];
        if (typeof i !== 'number') invalid(`run ${run.index}: results must be an array`);
        if (!isObject(value)) invalid(`run ${run.index} result ${String(i)} is not an object`);
        const r = value as Obj;
        if (!isFinding(r)) return;
        if (run.toolSeen && run.vcpSeen && run.automationSeen) {
          // Within write(): the receiver stores its batch once write() returns.
          void emit(run, i as number, r);
        } else {
          spill ??= createSpill(tuning.spill);
          spill.append(JSON.stringify([run.index, i, r]));
        }
      }
    }
  };

  const inner = jsonStreamParser({
    paths: [
      '$.version',
      '$.runs.*.tool.driver.name',
      '$.runs.*.tool.driver.rules.*',
      '$.runs.*.tool.extensions.*.rules.*',
      '$.runs.*.versionControlProvenance.*',
      '$.runs.*.automationDetails',
      '$.runs.*.invocations.*.executionSuccessful',
      '$.runs.*.results.*',
    ],
    shapeError: 'sarif_invalid',
    what: 'the SARIF log',
    onValue,
  });

  const cleanup = async () => {
    done = true;
    const s = spill;
    spill = undefined;
    await s?.dispose();
  };
  const failing = async (err: unknown): Promise<never> => {
    await cleanup();
    throw err;
  };

  return {
    write(chunk) {
      if (done) return;
      try {
        void inner.write(chunk);
      } catch (err) {
        return failing(err);
      }
      return spill?.flush().catch(failing);
    },
    async end() {
      try {
        void inner.end();
        if (version !== '2.1.0') invalid('version must be "2.1.0"');
        const ordered = [...runs.values()].sort((a, b) => a.index - b.index);
        for (const run of ordered) {
          if (!run.toolSeen) invalid(`run ${run.index} has no tool`);
          const { scanner, target, category } = resolve(run);
          if (!run.failed) sink.asset(scanner, target, category);
        }
        if (spill !== undefined) {
          for await (const record of spill.records()) {
            const [r, i, value] = JSON.parse(record) as [number, number, Obj];
            // Replayed in one burst: wait whenever the receiver stores a batch.
            await emit(runs.get(r) as Run, i, value);
          }
        }
      } finally {
        await cleanup();
      }
    },
    abort: cleanup,
  };
}

/** Results that describe no current problem: gone since the baseline, or a passed check. */
function isFinding(r: Obj): boolean {
  const kind = str(r.kind);
  return r.baselineState !== 'absent' && kind !== 'pass' && kind !== 'notApplicable';
}

/** repositoryUri as a target: no user:password@, no trailing "/" or ".git". */
function repositoryTarget(v: JsonValue | undefined): string {
  let uri = str(v).trim();
  uri = uri.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1');
  for (let prev = ''; prev !== uri;) {
    prev = uri;
    uri = uri.replace(/\/+$/, '').replace(/\.git$/i, '');
  }
  return clipText(uri, FIELD_LIMITS.asset);
}

/** automationDetails.id without the run id after its last "/" (GitHub's category). */
function categoryOf(id: string): string {
  const slash = id.lastIndexOf('/');
  return clipText(slash >= 0 ? id.slice(0, slash) : id, FIELD_LIMITS.category);
}
