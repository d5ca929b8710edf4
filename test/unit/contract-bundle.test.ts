// Both runtimes serve the contract as generated modules (src/contract/bundle.ts
// and types.ts); they must be the contract.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { format, resolveConfig } from 'prettier';
import { loadOpenApi, routesFromOpenApi } from '../../src/contract/load.js';
import { OPENAPI_DOC } from '../../src/contract/bundle.js';
import { openapiPath } from '../../src/core/package-root.js';
// @ts-expect-error -- a plain .mjs build script, no type declarations
import { bundledContract, queryDefaults, typesModule } from '../../scripts/gen-openapi-module.mjs';

describe('the contract bundled into both runtimes', () => {
  it('is openapi/vulnvault.yaml (run scripts/gen-openapi-module.mjs after changing it)', () => {
    assert.deepEqual(OPENAPI_DOC, bundledContract(loadOpenApi()));
  });

  it('yields the same routes and schemas as the full contract', () => {
    const strip = (x: unknown): unknown =>
      JSON.parse(
        JSON.stringify(x, (k, v: unknown) =>
          ['description', 'summary', 'example', 'examples'].includes(k) && typeof v !== 'object'
            ? undefined
            : v,
        ),
      );
    assert.deepEqual(
      strip(routesFromOpenApi(OPENAPI_DOC)),
      strip(routesFromOpenApi(loadOpenApi())),
    );
  });

  it('has TypeScript types generated from the contract as it is now', async () => {
    const file = new URL('../../src/contract/types.ts', import.meta.url).pathname;
    const text = (await typesModule(openapiPath(), loadOpenApi())) as string;
    const expected = await format(text, { ...(await resolveConfig(file)), filepath: file });
    assert.equal(readFileSync(file, 'utf8'), expected);
  });

  it('knows which query parameters have defaults', () => {
    const d = queryDefaults(loadOpenApi()) as Record<string, string[]>;
    assert.deepEqual(d.listFindings, ['sort', 'limit']);
    assert.deepEqual(d.getSummary, ['top']);
    assert.deepEqual(d.postVuln, []);
  });
});
