// Imports a user's module (TypeScript through tsx's loader, so `switchyard run worker.ts`
// needs no build step) and reads what it exports; cli/definitions.ts sorts the definitions.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

let tsxRegistered = false;

export async function importModule(file: string): Promise<Record<string, unknown>> {
  if (/\.[cm]?tsx?$/.test(file) && !tsxRegistered) {
    const [{ register }, { register: registerCjs }] = await Promise.all([import('tsx/esm/api'), import('tsx/cjs/api')]);
    register();
    // A .ts file outside a "type": "module" package is CommonJS to Node; without tsx's
    // require hooks Node ≥ 20.19 fails it with "Cannot require() ES Module ... in a cycle".
    registerCjs();
    tsxRegistered = true;
  }
  return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
}

/**
 * The values a module exports. A .ts file outside a "type": "module" package is CommonJS to
 * Node: tsx compiles `export default x` to `exports.default = x`, and import() hands the
 * whole exports object over as `default` ({ __esModule, default: x }); look inside it too.
 */
export function exportedValues(mod: Record<string, unknown>): unknown[] {
  const cjs = mod.default !== null && typeof mod.default === 'object' && '__esModule' in mod.default ? Object.values(mod.default) : [];
  return [...Object.values(mod), ...cjs];
}

/** The nearest package.json above a file, and whether it says "type": "module". */
function packageTypeOf(file: string): { path: string | undefined; esm: boolean } {
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate)) {
      try {
        return { path: candidate, esm: (JSON.parse(readFileSync(candidate, 'utf8')) as { type?: unknown }).type === 'module' };
      } catch {
        return { path: candidate, esm: false };
      }
    }
    if (dirname(dir) === dir) return { path: undefined, esm: false };
  }
}

/**
 * What to add to an "exports no service" message for a TypeScript file that Node loads as
 * CommonJS (issue 15): that is the usual reason a module that does export one looks empty.
 */
export function commonJsHint(file: string): string {
  if (!/\.tsx?$/.test(file)) return '';
  const pkg = packageTypeOf(file);
  if (pkg.esm) return '';
  return pkg.path
    ? `. Note: ${pkg.path} has no "type": "module", so Node loads this .ts file as CommonJS; Switchyard is ESM-only: add "type": "module" to ${pkg.path} (or name the file .mts)`
    : `. Note: no package.json above this file says "type": "module", so Node loads this .ts file as CommonJS; Switchyard is ESM-only: add a package.json with {"type": "module"} to the project folder (or name the file .mts)`;
}
