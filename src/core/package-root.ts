// Finds files shipped with the package (the OpenAPI contract) whether the code
// runs from src/ through a loader or from the compiled dist/src/.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

export function packageRoot(): string {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'openapi', 'vulnvault.yaml'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('vulnvault package root not found');
    dir = parent;
  }
  cached = dir;
  return dir;
}

export function openapiPath(): string {
  return join(packageRoot(), 'openapi', 'vulnvault.yaml');
}
