// Finds the service definitions a user module exports. TypeScript modules are loaded
// through tsx's loader, so `switchyard run worker.ts` needs no build step.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { errors } from '../errors.js';
import { isWorkerDefinition, type WorkerDefinition } from '../models/worker/mod.js';
import { isApiServiceDefinition, type ApiServiceDefinition } from '../models/api/api-service.js';
import { isTaskServiceDefinition, type TaskServiceDefinition } from '../models/task/task-service.js';

export type ServiceDefinition = WorkerDefinition | ApiServiceDefinition | TaskServiceDefinition;

const isServiceDefinition = (v: unknown): v is ServiceDefinition => isWorkerDefinition(v) || isApiServiceDefinition(v) || isTaskServiceDefinition(v);

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

/** Every service definition exported by the module: default, named, or in exported arrays. */
export async function loadServices(path: string): Promise<ServiceDefinition[]> {
  const file = resolve(path);
  if (!existsSync(file) || !statSync(file).isFile()) throw new errors.SY_ERR_MODULE(path, 'no such file');
  let mod: Record<string, unknown>;
  try {
    mod = await importModule(file);
  } catch (err) {
    if (err && typeof err === 'object' && 'code' in err && typeof err.code === 'string' && err.code.startsWith('SY_ERR_')) throw err;
    throw new errors.SY_ERR_MODULE(path, `importing it failed: ${(err as Error).message}`);
  }
  const found = new Set<ServiceDefinition>();
  for (const value of exportedValues(mod)) {
    for (const item of Array.isArray(value) ? value : [value]) if (isServiceDefinition(item)) found.add(item);
  }
  if (found.size === 0) throw new errors.SY_ERR_MODULE(path, `it exports no service; add \`export default worker("name", process)\`, \`apiService({ api }, setup)\` or \`taskService({ ... }, process)\`${commonJsHint(file)}`);
  return [...found];
}
