// The one interface the conformance suite talks to. Each runtime (the local
// edge, the Lambda entries behind API Gateway) has one driver file that
// implements it; nothing else in the suite knows which runtime it drives.

/**
 * Who calls. Each is a client certificate issued by the runtime's CA with
 * one OU: `scanner`, `customer`, or `stranger` (an OU that is never granted
 * anything: authenticated, authorized for nothing).
 */
export type Caller = 'scanner' | 'customer' | 'stranger';

export type Action = 'findings:read' | 'findings:write' | 'findings:triage';

export interface RuntimeRequest {
  method: string;
  /** Concrete path, may include ?query, e.g. /v1/orgs/acme/findings?severity=high */
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  as: Caller;
}

export interface RuntimeResponse {
  status: number;
  /** Lower-case names; a repeated header joined with ', '. */
  headers: Record<string, string>;
  text: string;
  /** The parsed body; undefined when it is not JSON. */
  json: any;
}

export interface Runtime {
  readonly name: string;
  /** Grants the caller's OU `action` on `org` in the runtime's own policy store. */
  grant(who: Caller, action: Action, org: string): Promise<void>;
  request(r: RuntimeRequest): Promise<RuntimeResponse>;
  /** Stops servers and removes what `start` created. */
  close(): Promise<void>;
}

export type StartRuntime = () => Promise<Runtime>;

/** The JSON of a body, or undefined; never throws. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
