// Route lookup by API Gateway's resource template ("/v1/orgs/{org}/findings"),
// from the bundled contract. No validators here: the authorizer needs only a
// route's action, and its bundle stays free of the JSON-schema compiler.

import { routesFromOpenApi, type RouteDef } from '../edge/openapi-routes.js';
import { OPENAPI_DOC } from './openapi-doc.js';

/** "/v1/orgs/:org" → "/v1/orgs/{org}", as API Gateway names resources. */
export function resourceOf(route: RouteDef): string {
  return route.url.replace(/:([^/]+)/g, '{$1}');
}

/** Every contract route by "METHOD /resource". */
export function routesByResource(): Map<string, RouteDef> {
  return new Map(routesFromOpenApi(OPENAPI_DOC).map((r) => [`${r.method} ${resourceOf(r)}`, r]));
}
