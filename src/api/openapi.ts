import { extendZodWithOpenApi, OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { register, type AnyRoute } from './route.js';
import { problemSchema } from './schemas.js';

export const API_BASE = '/api/v1';

// The generator's own extension of zod (`.openapi()`); Roster's schemas do not use it (they are made
// before this module runs), so the document's schemas come from plain zod, descriptions included.
extendZodWithOpenApi(z);

/** The OpenAPI 3.1 document of the routes, generated from the zod schemas that validate them. */
export function openApiDocument(routes: AnyRoute[], opts: { publicUrl: string; version: string }) {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'An API key: `roster api-key create <org>` (an org key) or `roster api-key create --operator` (every org).',
  });
  for (const route of routes) register(registry, API_BASE, route, problemSchema);
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'Roster API',
      version: opts.version,
      description:
        "Who belongs to which organization with which role, for the product Roster serves. Errors are RFC 9457 problem details with the domain's error code in `code`. An org key sees its own org only (any other org is 404).",
    },
    // Paths carry /api/v1 themselves.
    servers: [{ url: opts.publicUrl }],
  });
}
