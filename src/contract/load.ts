// Reads openapi/vulnvault.yaml, the single contract, for tools and tests;
// the runtimes serve the generated bundle (bundle.ts) of the same file.

import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { openapiPath } from '../core/package-root.js';
import type { OpenApiDoc } from './routes.js';

export { deref, routesFromOpenApi, type OpenApiDoc, type RouteDef } from './routes.js';

export function loadOpenApi(file = openapiPath()): OpenApiDoc {
  return parse(readFileSync(file, 'utf8')) as OpenApiDoc;
}
