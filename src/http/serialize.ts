// Response bodies are serialised from the contract's response schemas with
// fast-json-stringify (what fastify uses): faster than JSON.stringify for a
// known shape, and a property the contract does not declare never leaves.
// Compiled on first use per operation and status (a Lambda cold start pays
// only for what it answers); a status without a schema uses JSON.stringify.

import fastJson from 'fast-json-stringify';
import type { RouteDef } from '../contract/routes.js';

export type Serialize = (body: unknown) => string;

export function responseSerializer(route: RouteDef): (status: number) => Serialize {
  const cache = new Map<number, Serialize>();
  return (status) => {
    let s = cache.get(status);
    if (s === undefined) {
      const schema = route.schema.response[String(status)];
      s = schema ? (fastJson(schema) as Serialize) : (b: unknown) => JSON.stringify(b);
      cache.set(status, s);
    }
    return s;
  };
}
