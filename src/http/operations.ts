// The operation table: every operationId of the contract → the function that
// serves it, grouped by the action the contract names (x-vulnvault-action).
// A group gets only the ports its functions need (IAM 1.3: the read group is
// given a reader, never a writer), so a runtime that deploys the groups as
// separate functions (the Lambda entries) keeps them apart. Handlers are thin
// converters from a typed, validated request to a function call; no logic
// lives here. Adding a route is: the contract, then one entry here.

import type { CallContext } from '../core/principal.js';
import type {
  AuditSink,
  FindingsReader,
  FindingsWriter,
  IdempotencyStore,
  PolicyReader,
} from '../core/ports.js';
import { deref } from '../contract/routes.js';
import { OPENAPI_DOC } from '../contract/bundle.js';
import { parserFactories } from '../formats/index.js';
import type { ItemValidator } from '../formats/native-json.js';
import { FORMAT_BY_MEDIA_TYPE } from '../formats/format.js';
import { createAuthorize } from '../functions/authorize.js';
import type { Replayable } from '../functions/idempotency.js';
import { ingestScan } from '../functions/ingest/ingest-scan.js';
import { getFinding, getSummary, listFindings } from '../functions/query/findings.js';
import { getVuln } from '../functions/seed/get-vuln.js';
import { postVuln } from '../functions/seed/post-vuln.js';
import { VaultError } from '../core/errors.js';
import type { BoundHandler, Handler, OperationId } from './operation-types.js';
import { compileValidator } from './validation.js';

/** What the read group needs: policies, a findings reader, the audit sink. */
export interface ReadPorts {
  policies: PolicyReader;
  reader: FindingsReader;
  audit: AuditSink;
}

/** What the write group needs: policies, a findings writer, idempotency records, the audit sink. */
export interface WritePorts {
  policies: PolicyReader;
  writer: FindingsWriter;
  idempotency: IdempotencyStore;
  audit: AuditSink;
  /** Cap of a scan upload in bytes (413 beyond it). */
  uploadLimit: number;
}

type Table<D> = { [O in OperationId]?: Handler<O, D> };

const replied = <T>(r: Replayable<T>) => ({
  status: r.status as 201,
  body: r.body,
  ...(r.replayed ? { headers: { 'idempotent-replayed': 'true' } } : {}),
});

const PUBLIC = {
  getHealth: () => Promise.resolve({ status: 200, body: { status: 'ok' } }),
} satisfies Table<unknown>;

type ReadDeps = Omit<ReadPorts, 'policies'> & { authorize: ReturnType<typeof createAuthorize> };
type WriteDeps = Omit<WritePorts, 'policies'> & {
  authorize: ReturnType<typeof createAuthorize>;
  parsers: ReturnType<typeof parserFactories>;
  maxBytes: number;
};

const READ = {
  getVuln: async (req, ctx, d) => ({ status: 200, body: await getVuln(ctx, req.query, d) }),
  listFindings: async (req, ctx, d) => ({
    status: 200,
    body: await listFindings(ctx, { org: req.params.org, ...req.query }, d),
  }),
  getFinding: async (req, ctx, d) => ({ status: 200, body: await getFinding(ctx, req.params, d) }),
  getSummary: async (req, ctx, d) => ({
    status: 200,
    body: await getSummary(ctx, { org: req.params.org, top: req.query.top }, d),
  }),
} satisfies Table<ReadDeps>;

const WRITE = {
  postVuln: async (req, ctx, d) =>
    replied(await postVuln(ctx, req.body, d, req.header('idempotency-key'))),
  postScan: async (req, ctx, d) => {
    const format = req.mediaType === undefined ? undefined : FORMAT_BY_MEDIA_TYPE[req.mediaType];
    if (!format) throw new VaultError('unsupported_media_type', 'unsupported Content-Type');
    const r = await ingestScan(
      ctx,
      {
        org: req.params.org,
        format,
        body: req.body,
        idempotencyKey: req.header('idempotency-key'),
      },
      d,
    );
    return replied(r);
  },
} satisfies Table<WriteDeps>;

// Every operation of the contract is in exactly one group: the compiler
// refuses a contract operation without a handler here.
type Served = keyof typeof PUBLIC | keyof typeof READ | keyof typeof WRITE;
const everyOperationServed: [Exclude<OperationId, Served>] extends [never] ? true : never = true;
void everyOperationServed;

/** Which group serves an operation: its action in the contract, or none (public). */
export type OperationGroup = 'public' | 'read' | 'write';
export const GROUP_OF_ACTION: Readonly<Record<string, OperationGroup>> = {
  'findings:read': 'read',
  'findings:write': 'write',
};

export type BoundOperations = Partial<Record<OperationId, BoundHandler>>;

function bind<D>(table: Table<D>, deps: D): BoundOperations {
  const out: BoundOperations = {};
  for (const [id, h] of Object.entries(table) as [OperationId, Handler<OperationId, D>][]) {
    out[id] = (req, ctx: CallContext) => h(req, ctx, deps);
  }
  return out;
}

export function publicOperations(): BoundOperations {
  return bind<unknown>(PUBLIC, undefined);
}

export function readOperations(p: ReadPorts): BoundOperations {
  const authorize = createAuthorize({ policies: p.policies, audit: p.audit });
  return bind<ReadDeps>(READ, { reader: p.reader, audit: p.audit, authorize });
}

export function writeOperations(p: WritePorts): BoundOperations {
  const authorize = createAuthorize({ policies: p.policies, audit: p.audit });
  return bind<WriteDeps>(WRITE, {
    writer: p.writer,
    idempotency: p.idempotency,
    audit: p.audit,
    uploadLimit: p.uploadLimit,
    authorize,
    parsers: parserFactories(nativeFindingValidator()),
    maxBytes: p.uploadLimit,
  });
}

/** Validator for one native-batch finding, from the contract's NativeFinding schema. */
export function nativeFindingValidator(): ItemValidator {
  const schema = deref(OPENAPI_DOC, OPENAPI_DOC.components.schemas.NativeFinding ?? {}) as object;
  const check = compileValidator(schema, 'body');
  return (item, index) => {
    const r = check(item);
    return r === true ? undefined : r.error.message.replace(/^body/, `findings[${index}]`);
  };
}
