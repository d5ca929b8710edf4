// Request and reply types of each contract operation, derived from the types
// generated from openapi/vulnvault.yaml (contract/types.ts): a handler gets
// its parameters and body already validated and typed, and the compiler
// checks that what it returns is what the contract promises.

import type { CallContext } from '../core/principal.js';
import type { operations, QueryDefaults, StreamBodyOperation } from '../contract/types.js';

export type OperationId = keyof operations;

type Parameters<O extends OperationId> = operations[O]['parameters'];
type Present<T> = [Exclude<T, undefined>] extends [never]
  ? Record<string, never>
  : Exclude<T, undefined>;
/** Query parameters with a default in the contract are always there after validation. */
type WithDefaults<T, K extends PropertyKey> = [K] extends [never]
  ? T
  : Omit<T, K & keyof T> & { [P in K & keyof T]-?: Exclude<T[P], undefined> };

type JsonBodyOf<O extends OperationId> = operations[O] extends {
  requestBody: { content: { 'application/json': infer B } };
}
  ? B
  : undefined;

export type BodyOf<O extends OperationId> = O extends StreamBodyOperation
  ? AsyncIterable<Uint8Array>
  : JsonBodyOf<O>;

export interface OperationRequest<O extends OperationId> {
  params: Present<Parameters<O>['path']>;
  query: WithDefaults<Present<Parameters<O>['query']>, QueryDefaults[O]>;
  body: BodyOf<O>;
  /** The body's media type (lower case, no parameters), when it has one. */
  mediaType: string | undefined;
  /** A request header by lower-case name; repeated headers joined with ','. */
  header(name: string): string | undefined;
}

type Responses<O extends OperationId> = operations[O]['responses'];
type SuccessStatus = 200 | 201 | 202 | 204;
type JsonOf<R> = R extends { content: { 'application/json': infer B } } ? B : undefined;

/** A successful reply: one of the operation's 2xx statuses with its body. */
export type Reply<O extends OperationId> = {
  [S in keyof Responses<O> & SuccessStatus]: {
    status: S;
    body: JsonOf<Responses<O>[S]>;
    headers?: Readonly<Record<string, string>>;
  };
}[keyof Responses<O> & SuccessStatus];

export type Handler<O extends OperationId, D> = (
  req: OperationRequest<O>,
  ctx: CallContext,
  deps: D,
) => Promise<Reply<O>>;

/** A handler with its dependencies bound, as the core dispatches it. */
export type BoundHandler = (
  req: OperationRequest<OperationId>,
  ctx: CallContext,
) => Promise<{ status: number; body: unknown; headers?: Readonly<Record<string, string>> }>;
