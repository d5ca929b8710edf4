// Fails when the TypeScript sources import each other in a cycle.
// Follows relative imports (including `import type`, which still couples
// modules) from every file under src/.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

function files(dir) {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const IMPORT =
  /(?:import|export)\s[^'"]*?from\s*['"](\.{1,2}\/[^'"]+)['"]|import\s*['"](\.{1,2}\/[^'"]+)['"]/g;
const graph = new Map();
for (const f of files('src')) {
  const text = readFileSync(f, 'utf8');
  const deps = [];
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2];
    deps.push(resolve(dirname(f), spec.replace(/\.js$/, '.ts')));
  }
  graph.set(resolve(f), deps);
}

const state = new Map(); // 1 = on stack, 2 = done
const cycles = [];
function visit(node, stack) {
  state.set(node, 1);
  stack.push(node);
  for (const dep of graph.get(node) ?? []) {
    if (state.get(dep) === 1) cycles.push([...stack.slice(stack.indexOf(dep)), dep]);
    else if (!state.has(dep)) visit(dep, stack);
  }
  stack.pop();
  state.set(node, 2);
}
for (const node of graph.keys()) if (!state.has(node)) visit(node, []);

if (cycles.length > 0) {
  for (const c of cycles)
    console.error(`import cycle: ${c.map((p) => relative('.', p)).join(' → ')}`);
  process.exit(1);
}
console.log(`no import cycles (${graph.size} modules)`);
