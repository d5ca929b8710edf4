// Reads openapi/vulnvault.yaml, the single contract; openapi-routes.ts turns
// each operation into a route definition (URL, schemas, media types).

import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { openapiPath } from '../core/package-root.js';
import type { OpenApiDoc } from './openapi-routes.js';

export { deref, routesFromOpenApi, type OpenApiDoc, type RouteDef } from './openapi-routes.js';

export function loadOpenApi(file = openapiPath()): OpenApiDoc {
  return parse(readFileSync(file, 'utf8')) as OpenApiDoc;
}
