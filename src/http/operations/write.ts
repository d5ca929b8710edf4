// The write group (findings:write): given a findings writer and idempotency
// records, no reader (IAM 1.3). Scan uploads reach the format parsers here.

import { VaultError } from '../../core/errors.js';
import type {
  AuditSink,
  FindingsWriter,
  IdempotencyStore,
  PolicyReader,
} from '../../core/ports.js';
import { OPENAPI_DOC } from '../../contract/bundle.js';
import { deref } from '../../contract/routes.js';
import { formatFromRequest } from '../../formats/detect.js';
import { parserFactories } from '../../formats/index.js';
import type { ItemValidator } from '../../formats/native-json.js';
import { createAuthorize, type Authorize } from '../../functions/authorize.js';
import { ingestScan } from '../../functions/ingest/ingest-scan.js';
import { postVuln } from '../../functions/seed/post-vuln.js';
import { compileValidator } from '../validation.js';
import { bind, replied, type BoundOperations, type Table } from './table.js';

/** What the write group needs: policies, a findings writer, idempotency records, the audit sink. */
export interface WritePorts {
  policies: PolicyReader;
  writer: FindingsWriter;
  idempotency: IdempotencyStore;
  audit: AuditSink;
  /** Cap of a scan upload in bytes (413 beyond it). */
  uploadLimit: number;
}

interface WriteDeps {
  authorize: Authorize;
  writer: FindingsWriter;
  idempotency: IdempotencyStore;
  audit: AuditSink;
  parsers: ReturnType<typeof parserFactories>;
  maxBytes: number;
}

export const WRITE = {
  postVuln: async (req, ctx, d) =>
    replied(await postVuln(ctx, req.body, d, req.header('idempotency-key'))),
  postScan: async (req, ctx, d) => {
    if (req.mediaType === undefined) {
      throw new VaultError('unsupported_media_type', 'unsupported Content-Type');
    }
    const format = formatFromRequest(req.mediaType, req.query.format);
    const r = await ingestScan(
      ctx,
      {
        org: req.params.org,
        format,
        target: req.query.target,
        body: req.body,
        idempotencyKey: req.header('idempotency-key'),
      },
      d,
    );
    return replied(r);
  },
} satisfies Table<WriteDeps>;

export function writeOperations(p: WritePorts): BoundOperations {
  return bind<WriteDeps>(WRITE, {
    authorize: createAuthorize({ policies: p.policies, audit: p.audit }),
    writer: p.writer,
    idempotency: p.idempotency,
    audit: p.audit,
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
