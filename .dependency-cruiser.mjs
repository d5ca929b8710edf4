// Layer rules of DESIGN.md §4, checked by dependency-cruiser in `npm run lint`
// (`depcruise src`): any violation fails the build. The arrows only point
// down: composition roots (src/app.ts, src/cli/, the Lambda entries) wire
// adapters into functions; functions see only core/ (domain types and ports)
// and formats/. Type-only imports count everywhere (tsPreCompilationDeps):
// they couple modules as much as value imports do.

/** The only modules that may choose an adapter: they assemble a running program. */
const COMPOSITION_ROOTS = [
  '^src/app[.]ts$',
  '^src/cli/',
  // The Lambda handlers infra/lib/functions.ts bundles, and env.ts, which
  // reads their configuration with the DynamoDB adapter's table names as
  // the names the CDK app sets.
  '^src/lambda/(authorizer|ingest|query|triage|env)[.]ts$',
];

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    {
      name: 'functions-only-core-formats',
      comment:
        'functions/ are pure (request, deps) -> response: they see domain types and ports ' +
        '(core/), scanner parsers (formats/) and the VEX builders (vex/), never a store, the edge, a runtime or config. ' +
        'Whatever they need is injected through a port.',
      severity: 'error',
      from: { path: '^src/functions/' },
      to: { path: '^src/', pathNot: '^src/(functions|core|formats|vex)/' },
    },
    {
      name: 'vex-only-core',
      comment:
        'vex/ builds VEX documents (CycloneDX, OpenVEX) from plain statements: pure, no store, ' +
        'no clock, no I/O. It sees the domain types in core/ and the purl helpers of formats/, ' +
        'so the functions that serve an export can call it (functions/ may import vex/).',
      severity: 'error',
      from: { path: '^src/vex/' },
      to: { path: '^src/', pathNot: ['^src/(vex|core)/', '^src/formats/purl[.]ts$'] },
    },
    {
      name: 'adapters-only-from-composition-roots',
      comment:
        'Only a composition root picks an adapter (SQLite, DynamoDB, ...): everything else ' +
        'depends on the ports in core/, so the same code runs on one machine and on AWS, and a ' +
        'Lambda bundle never pulls in SQLite. src/backup/ is not a composition root: it is the ' +
        'SQLite backup/restore routine the backup and restore commands call (it opens the ' +
        'database files itself and needs no adapter).',
      severity: 'error',
      from: { pathNot: [...COMPOSITION_ROOTS, '^src/adapters/'] },
      to: { path: '^src/adapters/' },
    },
    {
      name: 'adapters-not-upward',
      comment:
        'Adapters implement the ports of core/ and sit below functions/, the HTTP layers and ' +
        'the composition roots, so they import none of them. One exception: the pure decision ' +
        'of how an import classifies a finding (src/functions/ingest/classify.ts) is shared by ' +
        'the store adapters that apply it inside their transactions, so the rule is not ' +
        'duplicated per store.',
      severity: 'error',
      from: { path: '^src/adapters/' },
      to: {
        path: '^src/(functions|http|contract|edge|lambda|cli|backup|client)/|^src/app[.]ts$',
        pathNot: '^src/functions/ingest/classify[.]ts$',
      },
    },
    {
      name: 'edge-not-to-lambda',
      comment:
        'edge/ (the local listener) and lambda/ (API Gateway events) are two thin runtimes ' +
        'over the same transport-neutral src/http/; neither depends on the other.',
      severity: 'error',
      from: { path: '^src/edge/' },
      to: { path: '^src/lambda/' },
    },
    {
      name: 'lambda-not-to-edge',
      comment:
        'lambda/ must not reach into the local listener (edge/): what both runtimes share ' +
        'lives in src/http/ and src/contract/, so a Lambda bundle carries no fastify or TLS ' +
        'listener code.',
      severity: 'error',
      from: { path: '^src/lambda/' },
      to: { path: '^src/edge/' },
    },
    {
      name: 'http-contract-transport-neutral',
      comment:
        'src/http/ and src/contract/ are shared by both runtimes and know neither of them, ' +
        'nor a store, nor the command line: they import no edge/, lambda/, adapters/ or cli/.',
      severity: 'error',
      from: { path: '^src/(http|contract)/' },
      to: { path: '^src/(edge|lambda|adapters|cli)/' },
    },
    {
      name: 'core-imports-nothing-of-ours',
      comment:
        'core/ is the bottom layer (domain types, error catalog, ports): it imports nothing ' +
        'of ours outside core/, so every other layer can depend on it without a cycle.',
      severity: 'error',
      from: { path: '^src/core/' },
      to: { path: '^src/', pathNot: '^src/core/' },
    },
    {
      name: 'formats-only-core',
      comment:
        'formats/ are streaming scanner parsers (bytes -> Finding stream): they depend on ' +
        'the domain types in core/ and on each other, nothing above.',
      severity: 'error',
      from: { path: '^src/formats/' },
      to: { path: '^src/', pathNot: '^src/(formats|core)/' },
    },
    {
      name: 'feeds-only-core',
      comment:
        'feeds/ are the KEV and EPSS file readers (bytes -> checked rows): like formats/, ' +
        'they depend on the domain types in core/ and on each other, never on a store, so ' +
        'the FeedStore adapters and the CLI can use them without a cycle.',
      severity: 'error',
      from: { path: '^src/feeds/' },
      to: { path: '^src/', pathNot: '^src/(feeds|core)/' },
    },
    {
      name: 'no-circular',
      comment:
        'Modules must not import each other in a cycle (type-only imports included): a cycle ' +
        'makes load order fragile and the layers meaningless.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-dev-dep',
      comment:
        'What ships (src/) must not import a devDependency: it is not installed with the ' +
        'package. Type-only imports are erased at build time and so are allowed.',
      severity: 'error',
      from: { path: '^src/' },
      to: {
        dependencyTypes: ['npm-dev'],
        dependencyTypesNot: ['type-only'],
        pathNot: ['node_modules/@types/'],
      },
    },
    {
      name: 'not-to-unresolvable',
      comment:
        'An import that resolves to no file is a typo or a missing package; without this a ' +
        'broken import would silently drop out of every rule above.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: ['node_modules'] },
    // Count `import type` too (see above).
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.d.ts', '.mjs', '.cjs'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    skipAnalysisNotInRules: true,
  },
};
